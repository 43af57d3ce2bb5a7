import Foundation

/// What a volunteer's machine will run for every task of one study, as the coordinator signs it at
/// approval: the code, the environment, the command template and its limits (decision 0007).
///
/// One object travels the trust chain (architecture.md): the moderator reviews it, the coordinator signs
/// its ``canonicalJSON()``, the lease carries it, and the worker checks the signature and then runs
/// only what it says. A task adds nothing but seed, dataset, configuration and replica, and the worker
/// rebuilds the task's command from ``command`` with those, so a changed `tasks.arguments` row in the
/// database cannot make a worker run a different command.
public struct JobManifest: Codable, Sendable, Hashable {
    /// The manifest format; a worker refuses versions it does not know.
    public static let currentVersion = 1

    public var version: Int
    /// The study, lowercase: a signature for one study cannot be replayed for another.
    public var studyID: String
    public var code: CodeReference
    /// Path of the Python requirements file inside the code, when there is one.
    public var requirements: String?
    public var environment: EnvironmentSpec?
    /// The command template, placeholders unsubstituted.
    public var command: [String]
    public var network: Bool
    public var timeoutSeconds: Int
    public var cpus: Int
    public var memoryBytes: Int64
    public var gpus: Int
    /// The datasets a task may name.
    public var datasets: [String]
    /// Configuration name → its parameters, substituted into ``command``.
    public var configurations: [String: [String: String]]

    enum CodingKeys: String, CodingKey {
        case version
        case studyID = "study_id"
        case code, requirements, environment, command, network
        case timeoutSeconds = "timeout_seconds"
        case cpus
        case memoryBytes = "memory_bytes"
        case gpus, datasets, configurations
    }

    /// The manifest of a validated spec stored as study `studyID`.
    public init(studyID: UUID, spec: StudySpec) {
        let job = JobSpec(spec: spec)
        self.version = Self.currentVersion
        self.studyID = studyID.uuidString.lowercased()
        self.code = job.code
        self.requirements = job.requirements
        self.environment = spec.environment
        self.command = spec.run.command
        self.network = spec.run.network
        self.timeoutSeconds = spec.run.timeoutSeconds
        self.cpus = spec.run.resources.cpus
        self.memoryBytes = spec.run.resources.memoryBytes
        self.gpus = spec.run.resources.gpus
        self.datasets = spec.matrix.datasets
        self.configurations = Dictionary(
            spec.matrix.configurations.map { ($0.name, $0.parameters) }, uniquingKeysWith: { first, _ in first })
    }

    /// The bytes that are signed: sorted keys, no whitespace, no escaped slashes. Equal manifests give
    /// equal bytes, so signer and verifier each encode the value and never exchange raw bytes.
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Only strings, integers, booleans, lists and mappings: encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// What the worker needs to run a task, taken from the manifest alone.
    public var job: JobSpec {
        JobSpec(
            code: code, requirements: requirements, timeoutSeconds: timeoutSeconds, memoryBytes: memoryBytes,
            cpus: cpus, gpus: gpus, network: network)
    }

    /// The command of one task: the template with seed, dataset and configuration filled in, exactly as
    /// expansion does at submission; nil when the dataset or configuration is not in the manifest.
    public func arguments(seed: Int64, dataset: String, configuration: String?) -> [String]? {
        guard datasets.contains(dataset) else { return nil }
        var spec: ConfigurationSpec?
        if let configuration {
            guard let parameters = configurations[configuration] else { return nil }
            spec = ConfigurationSpec(name: configuration, parameters: parameters)
        } else if !configurations.isEmpty {
            return nil
        }
        return StudySpec.substitute(command: command, seed: seed, dataset: dataset, configuration: spec)
    }

    /// What a moderator's approval is bound to: the code, the requirements file, the command template,
    /// the environment and the network request. Seeds, datasets, configurations and resources may change
    /// without a new review; anything here may not.
    public var binding: ApprovalBinding {
        ApprovalBinding(
            code: code, requirements: requirements, environment: environment, command: command, network: network)
    }
}

/// The part of a manifest an approval covers (see ``JobManifest/binding``).
public struct ApprovalBinding: Codable, Sendable, Equatable {
    public var code: CodeReference
    /// A path inside the code: the bundle digest or git commit fixes the file's bytes, so the path and the
    /// code together determine the requirements' hash.
    public var requirements: String?
    public var environment: EnvironmentSpec?
    public var command: [String]
    public var network: Bool

    /// Lowercase hex SHA-256 of the canonical JSON: the key under which approvals are found again.
    public var sha256Hex: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return BundleArchive.sha256Hex((try? encoder.encode(self)) ?? Data())
    }
}
