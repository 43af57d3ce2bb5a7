import Foundation
import Logging
import PostgresNIO
import ReproCoordinator
import ReproCore

/// A completed study of `runs` accepted runs for the dashboard benchmark (issue 13): created through
/// the study repository (so its spec, tasks and job are real), then every task given one accepted run
/// with set-based SQL instead of `runs` lease/result round trips.
enum DashboardBenchStudy {
    static func create(runs: Int, services: CoordinatorServices, logger: Logger) async throws -> UUID {
        let client = services.client
        var owner: UUID?
        for try await id in try await client.query(
            "INSERT INTO accounts (name, roles) VALUES ('bench-dashboard', ARRAY['researcher']) RETURNING id", logger: logger
        ).decode(UUID.self) { owner = id }
        let yaml = """
            preprint:
              id: "arXiv:2401.00001"
              title: "Preprint 1, a study of things"
            code:
              bundle: "sha256:\(String(repeating: "0", count: 64))"
            environment:
              python:
                requirements: requirements.txt
            run:
              command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}"]
              timeout: 5m
              resources: {cpus: 1, memory: 1GiB, gpus: 0}
            matrix:
              seeds: {from: 0, count: \(runs / 2)}
              datasets: [digits]
              replicas: 2
            claims:
              - {metric: accuracy, dataset: digits, value: 0.95, direction: higher, tolerance: 0.01}
            """
        // A study may name only a bundle that was uploaded; the page never reads its bytes.
        try await client.query(
            "INSERT INTO bundles (sha256, size, content, uploaded_by) VALUES (\(String(repeating: "0", count: 64)), 0, ''::bytea, \(owner!))",
            logger: logger)
        let spec = try StudySpec.parse(Data(yaml.utf8), format: .yaml)
        let study = try await services.studies.create(spec: spec, owner: owner!).id
        try await client.withTransaction(logger: logger) { connection in
            var worker: UUID?
            for try await id in try await connection.query(
                """
                WITH a AS (INSERT INTO accounts (name, roles) VALUES ('bench-worker', ARRAY['worker']) RETURNING id)
                INSERT INTO workers (account_id, owner_account_id, name, slots, cpus, memory_bytes, gpus, hardware_class)
                SELECT a.id, \(owner!), 'bench-worker', 8, 8, 8589934592, 0, 'bench-cpu' FROM a RETURNING id
                """, logger: logger
            ).decode(UUID.self) { worker = id }
            try await connection.query(
                """
                INSERT INTO runs (task_id, study_id, lease_id, worker_id, attempt, outcome, accepted, exit_code,
                                  duration_seconds, log_tail, hardware_class)
                SELECT id, study_id, gen_random_uuid(), \(worker!), 1, 'succeeded', true, 0, 2.5, 'ok', 'bench-cpu'
                FROM tasks WHERE study_id = \(study)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO run_metrics (run_id, name, value)
                SELECT r.id, m.name, 0.95 + (abs(hashtext(r.id::text || m.name)) % 1000) / 50000.0
                FROM runs r CROSS JOIN (VALUES ('accuracy'), ('f1')) m(name) WHERE r.study_id = \(study)
                """, logger: logger)
            try await connection.query(
                "UPDATE tasks SET state = 'succeeded', attempts = 1 WHERE study_id = \(study)", logger: logger)
            try await connection.query(
                "UPDATE studies SET state = 'completed', completed_at = now(), open_tasks = 0 WHERE id = \(study)",
                logger: logger)
        }
        return study
    }
}
