import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The machine and software a result was produced on, reported with every
/// result so that the coordinator can tell seed-to-seed variation from
/// variation between hardware and library versions.
///
/// Collecting never fails: what cannot be read (no `/proc`, no GPU, no
/// Python) is reported as unknown or empty, because a missing detail must
/// not cost a volunteer's result.
public struct EnvironmentFingerprint: Codable, Sendable, Equatable {
    /// The distribution's name, `PRETTY_NAME` from `/etc/os-release`, e.g. "Debian GNU/Linux 12 (bookworm)".
    public var os: String
    /// The kernel release from `uname`, e.g. "6.1.0-18-amd64".
    public var kernel: String
    /// The machine architecture from `uname`, e.g. "x86_64".
    public var architecture: String
    /// The CPU model from `/proc/cpuinfo`, whitespace normalised.
    public var cpuModel: String
    /// Logical CPUs available to the worker.
    public var cpuCores: Int
    /// Total memory from `/proc/meminfo`, in bytes.
    public var memoryBytes: Int
    /// One entry per GPU, from `nvidia-smi`; empty without NVIDIA GPUs or driver.
    public var gpus: [String]
    /// The NVIDIA driver version, if there are GPUs.
    public var gpuDriverVersion: String?
    /// The job's Python version, e.g. "3.11.7", if a Python was given and runs.
    public var pythonVersion: String?
    /// Installed Python packages (pip's names) to versions.
    public var packages: [String: String]
    /// The job isolation the run had (`strict` or `none`); set per run by the worker, not collected.
    public var isolation: String?

    /// Creates a fingerprint from known values.
    public init(
        os: String,
        kernel: String,
        architecture: String,
        cpuModel: String,
        cpuCores: Int,
        memoryBytes: Int,
        gpus: [String] = [],
        gpuDriverVersion: String? = nil,
        pythonVersion: String? = nil,
        packages: [String: String] = [:]
    ) {
        self.os = os
        self.kernel = kernel
        self.architecture = architecture
        self.cpuModel = cpuModel
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.gpuDriverVersion = gpuDriverVersion
        self.pythonVersion = pythonVersion
        self.packages = packages
    }

    /// The hardware a replica ran on, for grouping results by hardware: the
    /// CPU model, then each distinct GPU model, joined by " + ", e.g.
    /// "AMD EPYC 7B13 + NVIDIA A100-SXM4-40GB". The number of GPUs is left
    /// out: one job uses one kind of device however many the machine has.
    public var hardwareClass: String {
        ([cpuModel] + Set(gpus).sorted()).joined(separator: " + ")
    }

    private enum CodingKeys: String, CodingKey {
        case os, kernel, architecture, cpuModel, cpuCores, memoryBytes, gpus, gpuDriverVersion, pythonVersion, packages
        case isolation
        case hardwareClass
    }

    /// Decodes a fingerprint; `hardwareClass`, if present, is ignored and recomputed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        os = try container.decode(String.self, forKey: .os)
        kernel = try container.decode(String.self, forKey: .kernel)
        architecture = try container.decode(String.self, forKey: .architecture)
        cpuModel = try container.decode(String.self, forKey: .cpuModel)
        cpuCores = try container.decode(Int.self, forKey: .cpuCores)
        memoryBytes = try container.decode(Int.self, forKey: .memoryBytes)
        gpus = try container.decodeIfPresent([String].self, forKey: .gpus) ?? []
        gpuDriverVersion = try container.decodeIfPresent(String.self, forKey: .gpuDriverVersion)
        pythonVersion = try container.decodeIfPresent(String.self, forKey: .pythonVersion)
        packages = try container.decodeIfPresent([String: String].self, forKey: .packages) ?? [:]
        isolation = try container.decodeIfPresent(String.self, forKey: .isolation)
    }

    /// Encodes every field and also `hardwareClass`, so that readers of the
    /// JSON group by the same string without reimplementing it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(os, forKey: .os)
        try container.encode(kernel, forKey: .kernel)
        try container.encode(architecture, forKey: .architecture)
        try container.encode(cpuModel, forKey: .cpuModel)
        try container.encode(cpuCores, forKey: .cpuCores)
        try container.encode(memoryBytes, forKey: .memoryBytes)
        try container.encode(gpus, forKey: .gpus)
        try container.encodeIfPresent(gpuDriverVersion, forKey: .gpuDriverVersion)
        try container.encodeIfPresent(pythonVersion, forKey: .pythonVersion)
        try container.encode(packages, forKey: .packages)
        try container.encodeIfPresent(isolation, forKey: .isolation)
        try container.encode(hardwareClass, forKey: .hardwareClass)
    }
}

extension EnvironmentFingerprint {
    /// Time allowed to each probe (`nvidia-smi`, `python`, `pip`): a broken
    /// GPU driver can make `nvidia-smi` hang.
    static let probeTimeLimit: Duration = .seconds(60)

    /// Collects the fingerprint of this machine.
    ///
    /// - Parameters:
    ///   - python: the Python that runs jobs (a virtualenv's `bin/python`, or
    ///     a name on `PATH`), or nil to leave Python out.
    ///   - logger: where probes that fail are logged, at debug level.
    public static func collect(python: String?, logger: Logger) async -> EnvironmentFingerprint {
        await collect(
            python: python,
            fileSystemRoot: URL(filePath: "/"),
            environment: ProcessInfo.processInfo.environment,
            logger: logger
        )
    }

    /// ``collect(python:logger:)`` reading `/etc` and `/proc` under
    /// `fileSystemRoot` and running probes with `environment`, for tests.
    static func collect(
        python: String?,
        fileSystemRoot: URL,
        environment: [String: String],
        logger: Logger
    ) async -> EnvironmentFingerprint {
        func read(_ path: String) -> String? {
            try? String(contentsOf: fileSystemRoot.appending(path: path), encoding: .utf8)
        }
        let names = systemNames()
        var fingerprint = EnvironmentFingerprint(
            os: (read("etc/os-release") ?? read("usr/lib/os-release")).flatMap(parsePrettyName) ?? names.sysname,
            kernel: names.release,
            architecture: names.machine,
            cpuModel: read("proc/cpuinfo").flatMap(parseCPUModel) ?? "unknown \(names.machine) CPU",
            cpuCores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: read("proc/meminfo").flatMap(parseMemTotal)
                ?? Int(clamping: ProcessInfo.processInfo.physicalMemory)
        )

        let probe = Probe(environment: environment, logger: logger)
        if let output = await probe.run("nvidia-smi", ["--query-gpu=name,driver_version", "--format=csv,noheader"]) {
            (fingerprint.gpus, fingerprint.gpuDriverVersion) = parseNvidiaSMI(output)
        }
        if let python {
            if let output = await probe.run(python, ["--version"]) {
                fingerprint.pythonVersion = parsePythonVersion(output)
            }
            if let output = await probe.run(
                python,
                ["-m", "pip", "list", "--format=json", "--disable-pip-version-check", "--no-input"]
            ) {
                fingerprint.packages = parsePipList(output) ?? [:]
            }
        }
        return fingerprint
    }

    // MARK: - Parsing

    /// `PRETTY_NAME` from os-release content, unquoted.
    static func parsePrettyName(_ osRelease: String) -> String? {
        for line in osRelease.split(whereSeparator: \.isNewline) where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// The CPU model from /proc/cpuinfo: `model name` on x86, else what ARM and others offer.
    static func parseCPUModel(_ cpuinfo: String) -> String? {
        var fields: [String: String] = [:]
        for line in cpuinfo.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if fields[key] == nil, !value.isEmpty { fields[key] = value }
        }
        for key in ["model name", "hardware", "cpu model", "processor"] {
            // x86 and some ARM boards use "processor" for the CPU's index.
            if let value = fields[key], Int(value) == nil { return value }
        }
        if let implementer = fields["cpu implementer"], let part = fields["cpu part"] {
            return "CPU implementer \(implementer) part \(part)"
        }
        return nil
    }

    /// `MemTotal` from /proc/meminfo, in bytes.
    static func parseMemTotal(_ meminfo: String) -> Int? {
        for line in meminfo.split(whereSeparator: \.isNewline) where line.hasPrefix("MemTotal:") {
            let parts = line.dropFirst("MemTotal:".count).split(separator: " ")
            guard let amount = parts.first.flatMap({ Int($0) }) else { return nil }
            let unit = parts.count > 1 ? parts[1].lowercased() : "b"
            let scale = ["kb": 1024, "mb": 1024 * 1024, "gb": 1024 * 1024 * 1024, "b": 1][unit] ?? 1024
            return amount * scale
        }
        return nil
    }

    /// GPU names and the driver version from `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader`.
    static func parseNvidiaSMI(_ output: String) -> ([String], String?) {
        var gpus: [String] = []
        var driver: String?
        for line in output.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // Without a driver nvidia-smi prints an explanation, not CSV.
            guard let comma = trimmed.lastIndex(of: ","), !trimmed.lowercased().contains("nvidia-smi has failed") else {
                continue
            }
            let name = trimmed[..<comma].trimmingCharacters(in: .whitespaces)
            let version = trimmed[trimmed.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            gpus.append(name)
            if driver == nil, !version.isEmpty { driver = version }
        }
        return (gpus, driver)
    }

    /// "3.11.7" from "Python 3.11.7".
    static func parsePythonVersion(_ output: String) -> String? {
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix("Python ") {
            return line.dropFirst("Python ".count).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Names to versions from `pip list --format=json`; warnings around the JSON are skipped.
    static func parsePipList(_ output: String) -> [String: String]? {
        struct Entry: Decodable {
            let name: String
            let version: String
        }
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix("[") {
            guard let entries = try? JSONDecoder().decode([Entry].self, from: Data(line.utf8)) else { continue }
            return Dictionary(entries.map { ($0.name, $0.version) }) { first, _ in first }
        }
        return nil
    }

    private static func systemNames() -> (sysname: String, release: String, machine: String) {
        var names = utsname()
        guard uname(&names) == 0 else { return ("unknown", "unknown", "unknown") }
        func string<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return (string(names.sysname), string(names.release), string(names.machine))
    }

    /// Runs a probe command and returns its output, or nil when it is
    /// missing, fails or hangs; only logged, since any probe may be absent.
    private struct Probe {
        let environment: [String: String]
        let logger: Logger

        func run(_ executable: String, _ arguments: [String]) async -> String? {
            let job = JobRunner.Job(
                executable: executable,
                arguments: arguments,
                workingDirectory: URL(filePath: "/"),
                environment: environment,
                timeLimit: EnvironmentFingerprint.probeTimeLimit,
                outputTailLimit: 1024 * 1024,
                terminationGracePeriod: .seconds(1)
            )
            do {
                let outcome = try await JobRunner(job: job, logger: logger).run()
                guard outcome.succeeded else {
                    logger.debug(
                        "environment probe failed",
                        metadata: ["repro.probe": "\(executable)", "repro.probe.result": "\(outcome.termination)"]
                    )
                    return nil
                }
                return outcome.outputTail
            } catch {
                logger.debug(
                    "environment probe unavailable",
                    metadata: ["repro.probe": "\(executable)", "repro.error": "\(error)"]
                )
                return nil
            }
        }
    }
}
