import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Studies: submission with expansion into tasks, status, cancellation, runs.
public struct StudyRepository: Sendable {
    let client: DatabaseClient
    let signer: SigningKeyStore
    let logger: Logger
    /// Specs read back, shared by the copies of this repository (``spec(_:)``).
    let specs = StudySpecCache()

    /// Creates the repository; `signer` signs the manifests of studies approved at submission.
    public init(client: DatabaseClient, signer: SigningKeyStore, logger: Logger) {
        self.client = client
        self.signer = signer
        self.logger = logger
    }

    /// Stores the study, upserts its preprint and inserts all its tasks, in one transaction; the database
    /// expands the matrix itself (``TaskExpansion``), so a million-task study costs the coordinator no
    /// memory per task. Wakes waiting workers when it commits.
    ///
    /// A spec the same account already submitted (same canonical sha256), whose study is running or
    /// completed, returns that study (`existing`) unless `allowDuplicate`: a resubmission re-runs
    /// nothing, and its runs are not counted twice in the preprint's score. Other accounts' studies
    /// of the same spec are independent replications and never matched.
    ///
    /// Moderation (decision 0007): a trusted submitter's study, or one whose approval binding a moderator
    /// approved before, is signed and starts `running`; any other starts `pending_review` with its tasks
    /// `held`. The decision is ``ModerationDecision/atSubmission(submitterTrusted:earlierModeratorApproval:)``.
    public func create(spec: StudySpec, owner: UUID, allowDuplicate: Bool = false) async throws -> StudyCreated {
        guard let preprintID = PreprintID.normalize(spec.preprint.id) else {
            throw Problem.invalid(
                "The study spec is invalid.",
                issues: [.init(path: "preprint.id", reason: "not an arXiv identifier or a DOI")])
        }
        let specJSON = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        let specSHA = spec.sha256Hex
        let job = JobSpec(spec: spec)
        let jobJSON = String(decoding: try WireCoding.encoder().encode(job), as: UTF8.self)

        let maxAttempts = spec.run.maxAttempts
        let gpus = spec.run.resources.gpus
        let memory = spec.run.resources.memoryBytes
        let expansion = TaskExpansion(spec: spec)
        let initial = expansion.initial
        let count = initial.taskCount
        let network = spec.run.network
        // Every dataset of an adaptive study grows until a look stops it (decision 0015).
        let growing = spec.matrix.adaptive == nil ? 0 : spec.matrix.datasets.count
        let preprint = spec.preprint
        let newID = UUID()
        let manifest = JobManifest(studyID: newID, spec: spec)
        let manifestJSON = String(decoding: manifest.canonicalJSON(), as: UTF8.self)
        let binding = manifest.binding.sha256Hex
        let signer = self.signer

        let warnings = WarningList()
        // The insert grows with the study: its transaction gets time in proportion (decision 0006).
        let stored = try await client.allowing(TaskExpansion.extraTime(tasks: count)).withTransaction(logger: logger) {
            connection -> (id: UUID, existing: Bool, tasks: Int, state: StudyState) in
            if !allowDuplicate {
                // Serializes identical submissions of one account, so two sent at once make one study.
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(owner.uuidString) || \(specSHA), 0))", logger: logger)
                let rows = try await connection.query(
                    """
                    SELECT id, task_count, state FROM studies
                    WHERE owner_account_id = \(owner) AND spec_sha256 = \(specSHA) AND state NOT IN ('cancelled', 'rejected')
                    ORDER BY created_at DESC LIMIT 1
                    """, logger: logger)
                for try await (id, tasks, state) in rows.decode((UUID, Int, String).self) {
                    return (id, true, tasks, StudyState(rawValue: state) ?? .running)
                }
            }
            if let bundle = job.code.bundleSHA256 {
                let rows = try await connection.query("SELECT 1 FROM bundles WHERE sha256 = \(bundle)", logger: logger)
                var found = false
                for try await _ in rows { found = true }
                guard found else {
                    throw Problem.invalid(
                        "The study spec is invalid.",
                        issues: [.init(path: "code.bundle", reason: "no bundle with sha256 \(bundle) was uploaded; `repro submit` uploads it for you")])
                }
            }
            // A study describes a new preprint or one its submitter owns; others' metadata stays (decision 0010).
            let outcome = try await PreprintMetadataWriter.write(
                preprintID,
                .init(
                    title: preprint.title, authors: preprint.authors, institutions: preprint.institutions,
                    field: preprint.field, funding: preprint.funding.map { FundingEntry(funder: $0.funder, grant: $0.grant) }),
                by: .init(account: owner, mayOverride: false, source: .study, studyID: newID), on: connection, logger: logger)
            warnings.append(PreprintMetadataWriter.warning(for: outcome, preprint: preprintID))
            let facts = try await connection.query(
                """
                SELECT a.trusted OR 'admin' = ANY(a.roles),
                       (SELECT s.id FROM studies s WHERE s.binding_sha256 = \(binding) AND s.approval = 'moderator'
                        ORDER BY s.approved_at LIMIT 1)
                FROM accounts a WHERE a.id = \(owner)
                """, logger: logger)
            var submission = ModerationDecision.Submission.pending
            for try await (trusted, earlier) in facts.decode((Bool, UUID?).self) {
                submission = ModerationDecision.atSubmission(submitterTrusted: trusted, earlierModeratorApproval: earlier)
            }
            var signature: ManifestSignature?
            var approval: String?
            var approvedVia: UUID?
            if case .approved(let kind, let via) = submission {
                signature = try signer.sign(manifest)
                approval = kind.rawValue
                approvedVia = via
            }
            let approvedAt: Date? = approval == nil ? nil : Date()
            let state = submission.studyState.rawValue
            let taskState = submission.taskState.rawValue
            let rows = try await connection.query(
                """
                INSERT INTO studies (id, preprint_id, owner_account_id, spec, spec_sha256, job, task_count, open_tasks,
                                     state, manifest, binding_sha256, manifest_signature, signing_key_id, approval,
                                     approved_via, approved_at, adaptive_growing)
                VALUES (\(newID), \(preprintID), \(owner), \(specJSON)::jsonb, \(specSHA), \(jobJSON)::jsonb, \(count),
                        \(count), \(state), \(manifestJSON)::jsonb, \(binding), \(signature?.signature),
                        \(signature?.keyID), \(approval), \(approvedVia), \(approvedAt), \(growing))
                RETURNING id
                """, logger: logger)
            var studyID: UUID?
            for try await id in rows.decode(UUID.self) { studyID = id }
            guard let studyID else { throw Problem.badRequest("The study was not stored.") }
            if let approval {
                let reason = approval == ApprovalKind.trustedSubmitter.rawValue
                    ? "submitter is trusted" : "same binding as study \(approvedVia.map { $0.uuidString.lowercased() } ?? "")"
                try await connection.query(
                    """
                    INSERT INTO moderation_log (actor, action, study_id, account_id, reason)
                    VALUES (NULL, 'auto_approve', \(studyID), \(owner), \(reason))
                    """, logger: logger)
            }
            if let schedule = spec.matrix.adaptive {
                try await AdaptivePlanStore.insert(
                    schedule, datasets: spec.matrix.datasets, maxTaskCount: expansion.all.taskCount, study: studyID,
                    on: connection, logger: logger)
            }
            try await expansion.insert(
                initial, study: studyID, maxAttempts: maxAttempts, gpus: gpus, memoryBytes: memory, network: network,
                state: taskState, on: connection, logger: logger)
            if submission != .pending {
                // Delivered only if the transaction commits: waiting workers wake up for the new tasks.
                try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'study')", logger: logger)
            }
            return (studyID, false, count, submission.studyState)
        }
        if !stored.existing { TaskStatistics.refresh(after: stored.tasks, client: client, logger: logger) }
        logger.info(
            stored.existing ? "study already submitted" : "study submitted",
            metadata: [
                "repro.study.id": "\(stored.id)", "repro.preprint.id": "\(preprintID)", "repro.tasks": "\(stored.tasks)",
                "repro.study.state": "\(stored.state.rawValue)",
            ])
        return StudyCreated(
            id: stored.id, preprintID: preprintID, taskCount: stored.tasks, specSHA256: specSHA, existing: stored.existing,
            state: stored.state, warnings: warnings.all.isEmpty ? nil : warnings.all)
    }

    /// Owner of a study, or nil when there is no such study.
    public func owner(of studyID: UUID) async throws -> UUID? {
        let rows = try await client.query("SELECT owner_account_id FROM studies WHERE id = \(studyID)", logger: logger)
        for try await owner in rows.decode(UUID.self) { return owner }
        return nil
    }

    /// A study's state and task counts.
    public func status(_ studyID: UUID) async throws -> StudyStatus? {
        let rows = try await client.query(
            """
            SELECT s.id, s.preprint_id, p.title, s.state, s.spec_sha256, s.created_at, s.completed_at, s.task_count,
                   EXISTS (SELECT 1 FROM adaptive_plans a WHERE a.study_id = s.id)
            FROM studies s JOIN preprints p ON p.id = s.preprint_id
            WHERE s.id = \(studyID)
            """, logger: logger)
        var status: StudyStatus?
        var adaptive = false
        for try await (id, preprint, title, state, sha, created, completed, count, isAdaptive)
            in rows.decode((UUID, String, String, String, String, Date, Date?, Int, Bool).self)
        {
            status = StudyStatus(
                id: id, preprintID: preprint, title: title, state: StudyState(rawValue: state) ?? .running,
                specSHA256: sha, createdAt: created, completedAt: completed, taskCount: count, tasks: TaskCounts())
            adaptive = isAdaptive
        }
        status?.review = try await review(studyID)
        guard var status else { return nil }
        // Asked only of adaptive studies: a status is polled every second or two while a study runs.
        if adaptive { status.adaptive = try await adaptiveProgress(studyID) }
        let counts = try await client.query(
            "SELECT state, count(*) FROM tasks WHERE study_id = \(studyID) GROUP BY state", logger: logger)
        for try await (state, count) in counts.decode((String, Int64).self) {
            if let state = TaskState(rawValue: state) { status.tasks.add(state, Int(count)) }
        }
        return status
    }

    /// How a study was approved or why it was rejected; nil for studies stored before moderation existed.
    public func review(_ studyID: UUID) async throws -> StudyReview? {
        let rows = try await client.query(
            """
            SELECT approval, approved_by, approved_via, approved_at, rejection_reason, rejected_at, binding_sha256,
                   signing_key_id
            FROM studies WHERE id = \(studyID) AND binding_sha256 IS NOT NULL
            """, logger: logger)
        for try await row in rows.decode((String?, UUID?, UUID?, Date?, String?, Date?, String?, String?).self) {
            return StudyReview(
                approval: row.0.flatMap(ApprovalKind.init(rawValue:)), approvedBy: row.1, approvedVia: row.2,
                approvedAt: row.3, rejectionReason: row.4, rejectedAt: row.5, bindingSHA256: row.6, signingKeyID: row.7)
        }
        return nil
    }

    /// The stored spec of a study, parsed once per coordinator while it fits ``StudySpecCache``: a spec
    /// never changes after submission.
    public func spec(_ studyID: UUID) async throws -> StudySpec? {
        if let cached = specs.spec(studyID) { return cached }
        let rows = try await client.query("SELECT spec::text FROM studies WHERE id = \(studyID)", logger: logger)
        for try await text in rows.decode(String.self) {
            // Validated when it was submitted, under the server's limits of the day (`--max-tasks` may
            // have been higher than the defaults): read it back without limits, and a stored spec that
            // does not parse is a server fault, not a missing study.
            let spec = try StudySpec.parse(
                Data(text.utf8), format: .json, limits: SpecLimits(maxSpecBytes: .max, maxTasks: .max))
            specs.store(spec, for: studyID)
            return spec
        }
        return nil
    }

    /// Cancels a running study: queued and leased tasks become `cancelled` at once (running jobs learn
    /// it from their next heartbeat). Returns the number of tasks cancelled; nil when not running.
    public func cancel(_ studyID: UUID) async throws -> Int? {
        try await client.withTransaction(logger: logger) { connection -> Int? in
            // Every writer locks tasks in id order before their study (see TaskQueue.record); taking the
            // study first here could deadlock with a result batch of the same study.
            try await connection.query(
                """
                SELECT id FROM tasks WHERE study_id = \(studyID) AND state IN ('held', 'queued', 'leased')
                ORDER BY id FOR UPDATE
                """, logger: logger)
            let rows = try await connection.query(
                "SELECT state FROM studies WHERE id = \(studyID) FOR UPDATE", logger: logger)
            var state: String?
            for try await value in rows.decode(String.self) { state = value }
            guard state == StudyState.running.rawValue || state == StudyState.pendingReview.rawValue else { return nil }
            let cancelled = try await connection.query(
                """
                UPDATE tasks SET state = 'cancelled', updated_at = now(), last_error = 'study cancelled'
                WHERE study_id = \(studyID) AND state IN ('held', 'queued', 'leased')
                RETURNING id
                """, logger: logger)
            var count = 0
            for try await _ in cancelled { count += 1 }
            // An adaptive study stops growing with it: the maintainer adds steps only to running studies, and
            // takes the study's row lock first, so a step cannot slip in after this commits.
            try await connection.query(
                """
                UPDATE studies SET state = 'cancelled', cancelled_at = now(), open_tasks = 0, adaptive_growing = 0,
                                   adaptive_pending = false
                WHERE id = \(studyID)
                """, logger: logger)
            return count
        }
    }

    /// Every run of a study, with its metrics and the isolation level from its fingerprint.
    public func runs(_ studyID: UUID, limit: Int? = nil, after: Int64? = nil) async throws -> [RunRecord] {
        // The limit applies before the metrics and parameters are gathered: a page of 100 runs of a
        // 10 000-run study reads 100 runs' metrics, not all of them, walking `runs_study_id` from `after`.
        let rows = try await client.query(
            """
            SELECT r.id, r.task_id, t.dataset, t.seed, t.configuration, t.replica, r.attempt, r.outcome, r.accepted,
                   r.worker_id, r.exit_code, r.duration_seconds, r.error, r.hardware_class, r.created_at,
                   coalesce((SELECT json_object_agg(m.name, m.value) FROM run_metrics m WHERE m.run_id = r.id)::text, '{}'),
                   r.fingerprint ->> 'isolation',
                   (SELECT json_object_agg(p.name, p.value) FROM run_params p WHERE p.run_id = r.id)::text
            FROM (SELECT * FROM runs WHERE study_id = \(studyID) AND id > \(after ?? 0)
                  ORDER BY id LIMIT \(limit.map(Int64.init))) r
            JOIN tasks t ON t.id = r.task_id
            ORDER BY r.id
            """, logger: logger)
        var runs: [RunRecord] = []
        let decoder = JSONDecoder()
        for try await row in rows.decode(
            (Int64, Int64, String, Int64, String?, Int, Int, String, Bool, UUID, Int?, Double, String?, String?, Date, String,
                String?, String?).self)
        {
            let metrics = (try? decoder.decode([String: Double].self, from: Data(row.15.utf8))) ?? [:]
            var record =
                RunRecord(
                    id: row.0, taskID: row.1, dataset: row.2, seed: row.3, configuration: row.4, replica: row.5,
                    attempt: row.6, outcome: RunOutcome(rawValue: row.7) ?? .failed, accepted: row.8,
                    workerID: row.9, exitCode: row.10, durationSeconds: row.11, metrics: metrics, error: row.12,
                    hardwareClass: row.13, createdAt: row.14, isolation: RunIsolation(fingerprintValue: row.16))
            record.params = row.17.flatMap { try? decoder.decode([String: String].self, from: Data($0.utf8)) }
            runs.append(record)
        }
        return runs
    }

    /// How many runs `studyID` has (every attempt that reported).
    public func runCount(_ studyID: UUID) async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM runs WHERE study_id = \(studyID)", logger: logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        return count
    }
}
