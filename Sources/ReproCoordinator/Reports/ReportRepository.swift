import Foundation
import Logging
import PostgresNIO
import ReproCore
import ReproStats

/// Reads what reports and scores are computed from.
public struct ReportRepository: Sendable {
    let client: DatabaseClient
    let studies: StudyRepository
    let logger: Logger

    /// Creates the repository.
    public init(client: DatabaseClient, studies: StudyRepository, logger: Logger) {
        self.client = client
        self.studies = studies
        self.logger = logger
    }

    /// Every metric value of the study's accepted runs, with the isolation level each run's worker
    /// reported in its fingerprint.
    public func values(study: UUID) async throws -> [RunValue] {
        try await Self.decodeValues(try await client.query(Self.valuesQuery(study: study), logger: logger))
    }

    /// What identifies the set of a study's accepted runs: their count, and the largest and the sum of their ids.
    /// A run's values never change once stored, so an equal version means equal values (``StudyPageCache``).
    struct RunsVersion: Equatable, Sendable {
        var count: Int64
        var largest: Int64
        var sum: Int64
    }

    /// The version of `study`'s accepted runs: one pass over the study's runs on `runs_study_id`, no metric rows.
    func acceptedRunsVersion(study: UUID) async throws -> RunsVersion {
        let rows = try await client.query(
            """
            SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0)::bigint FROM runs
            WHERE study_id = \(study) AND accepted
            """, logger: logger)
        var version = RunsVersion(count: 0, largest: 0, sum: 0)
        for try await (count, largest, sum) in rows.decode((Int64, Int64, Int64).self) {
            version = RunsVersion(count: count, largest: largest, sum: sum)
        }
        return version
    }

    /// The values of `study`'s accepted runs on `datasets` (every dataset when empty): the statement, so the
    /// adaptive maintainer can run it inside its transaction.
    static func valuesQuery(study: UUID, datasets: [String] = []) -> PostgresQuery {
        """
        SELECT r.id, r.worker_id, t.dataset, t.configuration, t.seed, t.replica, r.hardware_class, m.name, m.value,
               r.fingerprint ->> 'isolation'
        FROM runs r
        JOIN tasks t ON t.id = r.task_id
        JOIN run_metrics m ON m.run_id = r.id
        WHERE r.study_id = \(study) AND r.accepted
          AND (cardinality(\(datasets)::text[]) = 0 OR t.dataset = ANY(\(datasets)::text[]))
        """
    }

    /// Reads the rows of ``valuesQuery(study:datasets:)``, column by column (``RowCells``): a running
    /// million-task study's score pass reads a million of them, and the tuple decode resolved its ten
    /// generic columns at run time on every row.
    static func decodeValues<Rows: AsyncSequence & Sendable>(_ rows: Rows) async throws -> [RunValue]
    where Rows.Element == PostgresRow {
        var values: [RunValue] = []
        for try await row in rows {
            var cells = RowCells(row)
            values.append(
                RunValue(
                    runID: try cells.next(), workerID: try cells.next(), dataset: try cells.next(),
                    configuration: try cells.next(), seed: try cells.next(), replica: try cells.next(),
                    hardwareClass: try cells.next(), metric: try cells.next(), value: try cells.next(),
                    isolation: RunIsolation(fingerprintValue: try cells.next())))
        }
        return values
    }

    /// The report of one study.
    public func report(study: UUID) async throws -> StudyReport? {
        guard let status = try await studies.status(study), let spec = try await studies.spec(study) else { return nil }
        let values = try await values(study: study)
        var report = ReportBuilder.build(
            studyID: study, preprintID: status.preprintID, title: status.title, state: status.state, tasks: status.tasks,
            spec: spec, values: values, adaptive: status.adaptive)
        let params = try await params(study: study)
        if !params.isEmpty, let runs = report.runs {
            report.runs = runs.map { run in
                var run = run
                run.params = params[run.runID]
                return run
            }
        }
        return report
    }

    /// The MLflow params of the study's runs, by run id (issue 14).
    func params(study: UUID) async throws -> [Int64: [String: String]] {
        let rows = try await client.query(
            """
            SELECT p.run_id, json_object_agg(p.name, p.value)::text
            FROM run_params p JOIN runs r ON r.id = p.run_id
            WHERE r.study_id = \(study)
            GROUP BY p.run_id
            """, logger: logger)
        var params: [Int64: [String: String]] = [:]
        for try await (run, json) in rows.decode((Int64, String).self) {
            params[run] = try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        }
        return params
    }

    /// The score of a preprint over all its studies' claims; nil when the preprint is unknown.
    public func score(preprint rawID: String) async throws -> PreprintScore? {
        guard let preprintID = PreprintID.normalize(rawID) else {
            throw Problem.badRequest("\(rawID) is not an arXiv identifier or a DOI.", field: "id")
        }
        let rows = try await client.query(
            """
            SELECT p.title, s.id, s.state, EXISTS (SELECT 1 FROM adaptive_plans a WHERE a.study_id = s.id)
            FROM preprints p LEFT JOIN studies s ON s.preprint_id = p.id WHERE p.id = \(preprintID)
            """, logger: logger)
        var title: String?
        var found: [(id: UUID, state: StudyState, adaptive: Bool)] = []
        for try await (name, study, state, adaptive) in rows.decode((String, UUID?, String?, Bool).self) {
            title = name
            if let study { found.append((study, state.flatMap(StudyState.init(rawValue:)) ?? .running, adaptive)) }
        }
        guard let title else { return nil }
        var claims: [ScoredClaim] = []
        var runs = 0
        for study in found {
            guard let spec = try await studies.spec(study.id) else { continue }
            let values = try await values(study: study.id)
            let adaptive = study.adaptive ? try await studies.adaptiveProgress(study.id) : nil
            runs += Set(values.map(\.runID)).count
            for (configuration, claim) in ReportBuilder.claims(of: spec) {
                let rows = values.filter {
                    $0.dataset == claim.dataset && $0.metric == claim.metric && $0.configuration == configuration
                }
                // Only the verdict is needed here; the bootstrap is not. Judged as in the report.
                let judgement = ClaimJudge.judge(claim, rows: rows, adaptive: adaptive, state: study.state)
                claims.append(
                    ScoredClaim(
                        studyID: study.id, metric: claim.metric, dataset: claim.dataset, configuration: configuration,
                        claimed: claim.value, mean: judgement.check.mean, n: judgement.check.n,
                        verdict: judgement.verdict))
            }
        }
        return PreprintScore(
            preprintID: preprintID, title: title, studies: found.count,
            score: ReproducibilityScore(verdicts: claims.map(\.verdict), runs: runs), claims: claims, computedAt: Date())
    }
}
