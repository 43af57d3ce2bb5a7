import AsyncHTTPClient
import Foundation
import ReproClient
import ReproCore

/// Accounts, workers and the study of a lease benchmark, all created through the HTTP API as a real
/// deployment would: the admin makes a researcher and a volunteer, the volunteer registers the workers,
/// the researcher uploads a bundle and submits the study.
struct BenchSetup: Sendable {
    /// Memory every simulated worker declares (the study asks 1 GiB per task, so every task fits).
    static let workerMemoryBytes: Int64 = 8 << 30

    let baseURL: String
    let researcherKey: String
    let workerTokens: [String]
    let workerIDs: [UUID]
    let studyID: UUID
    /// The uploaded bundle's reference, for ``nextStudy(http:tasks:)``.
    let bundle: String

    static func create(
        baseURL: String, adminKey: String, http: HTTPClient, workers: Int, tasks: Int, batch: Int
    ) async throws -> BenchSetup {
        let admin = CoordinatorClient(baseURL: baseURL, key: adminKey, http: http)
        let researcherAccount = try await admin.createAccount(name: "bench-researcher", roles: [.researcher])
        // Trusted, so the study is approved at submission: the benchmark measures leasing, not moderation.
        _ = try await admin.setTrusted(researcherAccount.accountID, trusted: true, reason: "benchmark")
        let researcherKey = researcherAccount.key
        let volunteer = CoordinatorClient(
            baseURL: baseURL, key: try await admin.createAccount(name: "bench-volunteer", roles: [.volunteer]).key,
            http: http)
        var tokens: [String] = []
        var ids: [UUID] = []
        for index in 0..<workers {
            let registered = try await volunteer.registerWorker(
                WorkerRegistration(
                    name: "bench-\(index)", slots: batch, cpus: 2, memoryBytes: workerMemoryBytes, gpus: 0,
                    hardwareClass: "bench-cpu"))
            tokens.append(registered.token)
            ids.append(registered.workerID)
        }
        let researcher = CoordinatorClient(baseURL: baseURL, key: researcherKey, http: http)
        // The coordinator checks only the gzip magic of a bundle; workers here never download it.
        let archive = Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]) + Data(repeating: 0, count: 20)
        let bundle = "sha256:" + (try await researcher.uploadBundle(archive)).sha256
        let study = try await submit(researcher, bundle: bundle, tasks: tasks)
        return BenchSetup(
            baseURL: baseURL, researcherKey: researcherKey, workerTokens: tokens, workerIDs: ids, studyID: study,
            bundle: bundle)
    }

    /// The same accounts and workers with a new study of `tasks` tasks (the next round of `--rounds`).
    /// Its seeds follow the last round's: the same spec again would be the same study (decision 0011).
    func nextStudy(http: HTTPClient, tasks: Int, round: Int) async throws -> BenchSetup {
        let researcher = CoordinatorClient(baseURL: baseURL, key: researcherKey, http: http)
        let study = try await Self.submit(researcher, bundle: bundle, tasks: tasks, firstSeed: round * tasks)
        return BenchSetup(
            baseURL: baseURL, researcherKey: researcherKey, workerTokens: workerTokens, workerIDs: workerIDs,
            studyID: study, bundle: bundle)
    }

    private static func submit(_ researcher: CoordinatorClient, bundle: String, tasks: Int, firstSeed: Int = 0)
        async throws -> UUID
    {
        let data = try await researcher.send(
            .POST, "/v1/studies", body: Data(spec(bundle: bundle, tasks: tasks, firstSeed: firstSeed).utf8),
            contentType: "application/yaml")
        let study = try WireCoding.decoder().decode(StudyCreated.self, from: data)
        guard study.taskCount == tasks else {
            throw BenchError("the study has \(study.taskCount) tasks, expected \(tasks)")
        }
        return study.id
    }

    /// One dataset, `tasks` seeds, no replicas: every task is independent, as in a plain seed sweep.
    static func spec(bundle: String, tasks: Int, firstSeed: Int = 0) -> String {
        """
        preprint:
          id: "arXiv:2401.09999"
          title: "Lease benchmark"
          authors: ["Bench Mark"]
          institutions: ["ReproGrid"]
          field: "cs.DC"
        code:
          bundle: "\(bundle)"
        run:
          command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}"]
          timeout: 5m
          resources: {cpus: 1, memory: 1GiB, gpus: 0}
          max_attempts: 3
        matrix:
          seeds: {from: \(firstSeed), count: \(tasks)}
          datasets: [bench]
          replicas: 1
        claims:
          - {metric: score, dataset: bench, value: 0.5, direction: higher, tolerance: 0.01}
        """
    }
}
