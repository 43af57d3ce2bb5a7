import Foundation
import Hummingbird
import Logging
import NIOCore
import ReproCore

/// Routes of volunteer workers: registration, leases, heartbeats and results.
struct WorkerController: Sendable {
    let accounts: AccountRepository
    let engine: LeaseEngine
    let queue: TaskQueue
    let policy: LeasePolicy
    let quarantines: QuarantineRepository
    /// Signalled when a cycle recorded results: ``MaintenanceNudgeMiddleware`` leaves the lease routes out,
    /// since most cycles are idle polls, but a cycle's results end tasks like `POST /v1/results` does, and the
    /// score, reliability and adaptive maintainers wait for that.
    var maintenance: TaskWakeup? = nil

    func register(on routes: RouteGuard) {
        routes.on(.post, "/v1/workers", roles: [.volunteer, .admin], use: self.registerWorker)
        routes.on(.post, "/v1/leases", roles: [.worker], use: self.lease)
        routes.on(.post, "/v1/leases/heartbeat", roles: [.worker], use: self.heartbeat)
        routes.on(.post, "/v1/leases/cycle", roles: [.worker], use: self.cycle)
        routes.on(.post, "/v1/results", roles: [.worker], use: self.results)
        routes.on(.post, "/v1/tasks/{task_id}/result", roles: [.worker], use: self.singleResult)
    }

    @Sendable func registerWorker(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let registration = try await RequestBody.json(WorkerRegistration.self, from: request)
        if registration.name.trimmingCharacters(in: .whitespaces).isEmpty || registration.name.count > 100 {
            throw Problem.badRequest("name must have 1 to 100 characters.", field: "name")
        }
        guard (1...256).contains(registration.slots) else {
            throw Problem.badRequest("slots must be between 1 and 256.", field: "slots")
        }
        // cpus and gpus are 4-byte columns: larger values would fail in PostgreSQL with a 500.
        for (name, value) in [("cpus", Int64(registration.cpus)), ("gpus", Int64(registration.gpus))]
        where !(0...4096).contains(value) {
            throw Problem.badRequest("\(name) must be between 0 and 4096.", field: name)
        }
        if let hardware = registration.hardwareClass, hardware.count > Self.maxHardwareClassLength {
            throw Problem.badRequest(
                "hardware_class must have at most \(Self.maxHardwareClassLength) characters.", field: "hardware_class")
        }
        guard registration.memoryBytes >= 0 else {
            throw Problem.badRequest("memory_bytes cannot be negative.", field: "memory_bytes")
        }
        let registered = try await accounts.registerWorker(owner: identity.accountID, registration: registration)
        context.logger.info(
            "worker registered", metadata: ["repro.worker.id": "\(registered.workerID)", "repro.worker.name": "\(registration.name)"])
        return try .json(registered, status: .created)
    }

    @Sendable func lease(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        // After a parked wait (decision 0019) the body was read and checked on the first pass.
        let resumed = context.longPoll.resumed
        let body: LeaseRequest
        if let state = resumed?.state as? LeaseRequest {
            body = state
        } else {
            body = try await RequestBody.json(LeaseRequest.self, from: request)
        }
        guard let worker = identity.workerID else { throw Problem.forbidden("Only registered workers lease tasks.") }
        guard (1...policy.maxBatch).contains(body.max) else {
            throw Problem.badRequest("max must be between 1 and \(policy.maxBatch).", field: "max")
        }
        guard body.wait.isFinite, body.wait >= 0, body.wait <= policy.maxWaitSeconds else {
            throw Problem.badRequest("wait must be between 0 and \(Int(policy.maxWaitSeconds)) seconds.", field: "wait")
        }
        try Self.validate(held: body.held)
        // A quarantined worker (or a worker of a quarantined account) gets nothing (the lease statement's
        // gate), and is told why when its first statement found nothing: a poll that makes none (the worker
        // already looked in vain and nothing changed since, a quarantine included, as it notifies) leases
        // nothing either.
        let client = await connection(context)
        let engine = self.engine
        let admit = admission(worker: worker)
        let found = try await longPoll(context, state: body, resumed: resumed?.wait, client: client) { previous in
            try await engine.look(
                worker: worker, memoryBytes: identity.workerMemoryBytes, gpus: identity.workerGPUs,
                allowNetwork: body.allowNetwork, max: body.max, wait: body.wait, held: body.held, client: client,
                after: previous, admit: admit)
        }
        guard var leases = found else { return Self.parked }
        leases = try await capped(leases, worker: worker, logger: context.logger)
        return try leaseResponse(leases, worker: worker, logger: context.logger)
    }

    /// Looks until there is an answer; nil when the request parked its wait with the responder (decision
    /// 0019), which sends it through the router again after the wait with `state` in
    /// ``LongPollSlot/resumed``. Without such a responder it waits here.
    func longPoll(
        _ context: AppRequestContext, state: any Sendable, resumed: LongPollWait?, client: ClientConnection?,
        look: (LongPollWait?) async throws -> LeaseLook
    ) async throws -> [TaskLease]? {
        try await LeaseLook.poll(
            from: resumed, client: client, park: { context.longPoll.park($0, state: state, client: client) }, look: look)
    }

    /// The client's connection: the one the first pass found, after a parked wait.
    func connection(_ context: AppRequestContext) async -> ClientConnection? {
        if let resumed = context.longPoll.resumed { return resumed.client }
        return await ClientConnection.of(context.channel)
    }

    /// The answer of the pass that parked its wait: ``RequestTaskResponder`` never sends it.
    static var parked: Response { Response(status: .accepted) }

    /// Results and a lease request in one request and one transaction (``TaskQueue/cycle``). When the
    /// transaction leased nothing and the worker may wait, the results are already committed and the
    /// request long-polls like `POST /v1/leases`.
    @Sendable func cycle(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        if let resumed = context.longPoll.resumed, let poll = resumed.state as? CyclePoll,
            let worker = identity.workerID
        {
            // After a parked wait (decision 0019): the results were recorded on the first pass.
            let client = resumed.client
            let engine = self.engine
            let admit = admission(worker: worker)
            let found = try await longPoll(context, state: poll, resumed: resumed.wait, client: client) { previous in
                try await engine.look(
                    worker: worker, memoryBytes: identity.workerMemoryBytes, gpus: identity.workerGPUs,
                    allowNetwork: poll.allowNetwork, max: poll.max, wait: 0, client: client, after: previous,
                    admit: poll.admit ? admit : nil)
            }
            guard let leases = found else { return Self.parked }
            return try await cycleResponse(
                receipts: poll.receipts, leases: leases, worker: worker, logger: context.logger)
        }
        let body = try await RequestBody.json(CycleRequest.self, from: request, limit: 16 << 20, allowNUL: true)
        guard let worker = identity.workerID else { throw Problem.forbidden("Only registered workers lease tasks.") }
        guard body.results.count <= 200 else {
            throw Problem.badRequest("Send 0 to 200 results per request.", field: "results")
        }
        guard (0...policy.maxBatch).contains(body.max) else {
            throw Problem.badRequest("max must be between 0 and \(policy.maxBatch).", field: "max")
        }
        guard body.wait.isFinite, body.wait >= 0, body.wait <= policy.maxWaitSeconds else {
            throw Problem.badRequest("wait must be between 0 and \(Int(policy.maxWaitSeconds)) seconds.", field: "wait")
        }
        for (index, result) in body.results.enumerated() {
            try Self.validate(result, path: "results[\(index)]")
        }
        try Self.validate(held: body.held)
        let client = await connection(context)
        let quarantines = self.quarantines
        let admit = admission(worker: worker)
        let engine = self.engine
        let receipts: [ResultReceipt]
        var leases: [TaskLease]
        if body.results.isEmpty {
            // Nothing to record: an idle worker's poll. The lease engine's path, so the poll costs no
            // statement while the worker's empty look still holds (decision 0009), quarantine included.
            receipts = []
            guard body.max > 0 else {
                return try await cycleResponse(receipts: [], leases: [], worker: worker, logger: context.logger)
            }
            let poll = CyclePoll(max: body.max, allowNetwork: body.allowNetwork, receipts: [], admit: true)
            let found = try await longPoll(context, state: poll, resumed: nil, client: client) { previous in
                try await engine.look(
                    worker: worker, memoryBytes: identity.workerMemoryBytes, gpus: identity.workerGPUs,
                    allowNetwork: body.allowNetwork, max: body.max, wait: body.wait, held: body.held, client: client,
                    after: previous, admit: admit)
            }
            guard let found else { return Self.parked }
            leases = found
        } else {
            // A quarantined worker's results are recorded as on `POST /v1/results`; the cycle's lease
            // statement leases it nothing (its gate), and it is told why on its next request without results.
            let recorded = try await queue.cycle(
                results: body.results, worker: worker, max: body.max, memoryBytes: identity.workerMemoryBytes,
                gpus: identity.workerGPUs, allowNetwork: body.allowNetwork, held: body.held)
            receipts = recorded.receipts
            leases = recorded.leases
            maintenance?.signal()
            if client?.isClosed == true {
                try await engine.handBack(leases, worker: worker)
                leases = []
            } else if leases.isEmpty, body.max > 0, body.wait > 0,
                try await quarantines.quarantineReason(worker: worker) == nil
            {
                // Not for a quarantined worker, which would wait for nothing: its results are acknowledged
                // now, and its next request, without results, is refused with the reason.
                let poll = CyclePoll(max: body.max, allowNetwork: body.allowNetwork, receipts: receipts, admit: false)
                let found = try await longPoll(context, state: poll, resumed: nil, client: client) { previous in
                    try await engine.look(
                        worker: worker, memoryBytes: identity.workerMemoryBytes, gpus: identity.workerGPUs,
                        allowNetwork: body.allowNetwork, max: body.max, wait: body.wait, client: client,
                        after: previous)
                }
                guard let found else { return Self.parked }
                leases = found
            } else if body.max > 0 {
                // Leased by the cycle's own transaction, not the engine, which counts the others.
                CoordinatorMetrics.leaseAnswered(tasks: leases.count)
            }
        }
        return try await cycleResponse(receipts: receipts, leases: leases, worker: worker, logger: context.logger)
    }

    /// The quarantine check of a long-poll: throws the answer for a worker that may not lease.
    func admission(worker: UUID) -> @Sendable () async throws -> Void {
        let quarantines = self.quarantines
        return {
            if let reason = try await quarantines.quarantineReason(worker: worker) {
                throw Problem.forbidden("This worker is quarantined and gets no tasks: \(reason)")
            }
        }
    }

    /// What a cycle that parked its wait (decision 0019) goes on from after it: its results are recorded.
    struct CyclePoll: Sendable {
        let max: Int
        let allowNetwork: Bool
        let receipts: [ResultReceipt]
        /// Whether the quarantine check may still answer (a poll without results); after results it ran.
        let admit: Bool
    }

    /// A cycle's answer: its receipts and its leases (capped).
    func cycleResponse(receipts: [ResultReceipt], leases: [TaskLease], worker: UUID, logger: Logger) async throws
        -> Response
    {
        let leases = try await capped(leases, worker: worker, logger: logger)
        logLeases(leases, logger: logger)
        let answer = CycleResponse(
            results: receipts, lease: LeaseResponse(leases: leases, heartbeatIntervalSeconds: policy.heartbeatIntervalSeconds))
        return try handingBackOnFailure(try answer.jsonData(), leases: leases, worker: worker)
    }

    /// At most ``TaskQueue/maxHeld`` lease ids in `held`.
    static func validate(held: [UUID]?) throws {
        guard let held, held.count > TaskQueue.maxHeld else { return }
        throw Problem.badRequest("held lists at most \(TaskQueue.maxHeld) lease ids.", field: "held")
    }

    /// Keeps the leases that fit in ``LeasePolicy/maxResponseBytes`` (at least one) and hands the
    /// rest back at once, with their attempt given back, so no answer grows without bound.
    func capped(_ leases: [TaskLease], worker: UUID, logger: Logger) async throws -> [TaskLease] {
        guard leases.count > 1 else { return leases }
        var total = 0
        var kept = 0
        for bytes in LeaseResponse.wireBytes(of: leases) {
            if kept > 0 && total + bytes > policy.maxResponseBytes { break }
            total += bytes
            kept += 1
        }
        guard kept < leases.count else { return leases }
        let released = try await queue.release(Array(leases[kept...]), worker: worker)
        logger.notice(
            "lease answer capped; tasks handed back",
            metadata: [
                "repro.worker.id": "\(worker)", "repro.tasks": "\(leases[kept...].map(\.taskID))",
                "repro.released": "\(released)", "repro.max_response_bytes": "\(policy.maxResponseBytes)",
            ])
        return Array(leases[..<kept])
    }

    /// The answer to a lease request, encoded once. A lease whose answer cannot be written is known to
    /// nobody: it is handed back rather than left to wait out its TTL. (A client that closed its socket
    /// is caught before this, by the engine; a write fails only when the connection broke for good,
    /// e.g. a reset.)
    func leaseResponse(_ leases: [TaskLease], worker: UUID, logger: Logger) throws -> Response {
        logLeases(leases, logger: logger)
        let answer = LeaseResponse(leases: leases, heartbeatIntervalSeconds: policy.heartbeatIntervalSeconds)
        guard !leases.isEmpty else { return try Response.json(answer) }
        return try handingBackOnFailure(try answer.jsonData(), leases: leases, worker: worker)
    }

    func logLeases(_ leases: [TaskLease], logger: Logger) {
        for lease in leases {
            logger.info(
                "task leased",
                metadata: [
                    "repro.task.id": "\(lease.taskID)", "repro.lease.id": "\(lease.leaseID)",
                    "repro.study.id": "\(lease.studyID)", "repro.attempt": "\(lease.attempt)",
                ])
        }
    }

    /// A JSON answer carrying leases; if it cannot be written, its leases are handed back.
    func handingBackOnFailure(_ buffer: Data, leases: [TaskLease], worker: UUID) throws -> Response {
        let engine = self.engine
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: buffer.count) { writer in
            do {
                try await writer.write(ByteBuffer(bytes: buffer))
                try await writer.finish(nil)
            } catch {
                try? await engine.handBack(leases, worker: worker)
                throw error
            }
        })
    }

    @Sendable func heartbeat(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let body = try await RequestBody.json(HeartbeatRequest.self, from: request, allowNUL: true)
        guard let worker = identity.workerID else { throw Problem.forbidden("Only registered workers heartbeat.") }
        guard body.leases.count <= 1000 else {
            throw Problem.badRequest("At most 1000 leases per heartbeat.", field: "leases")
        }
        let verdicts = try await queue.heartbeat(worker: worker, beats: body.leases)
        return try .json(HeartbeatResponse(leases: verdicts))
    }

    @Sendable func results(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let body = try await RequestBody.json(ResultBatch.self, from: request, limit: 16 << 20, allowNUL: true)
        guard let worker = identity.workerID else { throw Problem.forbidden("Only registered workers send results.") }
        guard (1...200).contains(body.results.count) else {
            throw Problem.badRequest("Send 1 to 200 results per request.", field: "results")
        }
        for (index, result) in body.results.enumerated() {
            try Self.validate(result, path: "results[\(index)]")
        }
        let receipts = try await queue.record(results: body.results, worker: worker)
        return .json(data: ResultBatchReceipt(results: receipts).jsonData())
    }

    /// One result: 200 with its receipt, or 409 when the lease was lost.
    @Sendable func singleResult(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let taskID = try context.parameters.require("task_id", as: Int64.self)
        let result = try await RequestBody.json(TaskResult.self, from: request, limit: 1 << 20)
        guard let worker = identity.workerID else { throw Problem.forbidden("Only registered workers send results.") }
        guard result.taskID == taskID else {
            throw Problem.badRequest("task_id in the body (\(result.taskID)) differs from the path (\(taskID)).", field: "task_id")
        }
        try Self.validate(result, path: "")
        let receipt = try await queue.record(results: [result], worker: worker)[0]
        if receipt.status == .rejected {
            throw Problem.conflict(receipt.detail ?? "the lease is not held by this worker", field: "lease_id")
        }
        return try .json(receipt)
    }

    /// Refuses results that cannot be stored honestly: a success without metrics, non-finite numbers,
    /// odd metric names.
    static func validate(_ result: TaskResult, path: String) throws {
        let prefix = path.isEmpty ? "" : path + "."
        if let code = result.exitCode, Int32(exactly: code) == nil {
            throw Problem.badRequest("exit_code must fit in 32 bits.", field: prefix + "exit_code")
        }
        guard result.durationSeconds.isFinite, result.durationSeconds >= 0 else {
            throw Problem.badRequest("duration_seconds must be a finite number ≥ 0.", field: prefix + "duration_seconds")
        }
        if result.outcome == .succeeded && result.metrics.isEmpty {
            throw Problem.badRequest("A succeeded run must report at least one metric.", field: prefix + "metrics")
        }
        guard result.metrics.count <= 100 else {
            throw Problem.badRequest("At most 100 metrics per run.", field: prefix + "metrics")
        }
        for (name, value) in result.metrics {
            guard MetricName.isValid(name) else {
                throw Problem.badRequest("metric name \"\(name)\" is not valid.", field: prefix + "metrics.\(name)")
            }
            guard value.isFinite else {
                throw Problem.badRequest("metric \(name) is not a finite number.", field: prefix + "metrics.\(name)")
            }
        }
        try RunParams.validate(result.params, field: prefix + "params")
        // Both are stored with the run as sent; bounded so that one result cannot store megabytes of
        // either (only the body's cap applied before). A worker registers with the same hardware class,
        // under the same limit, and a real fingerprint (packages included) is a few KiB.
        if let hardware = result.hardwareClass, hardware.count > maxHardwareClassLength {
            throw Problem.badRequest(
                "hardware_class must have at most \(maxHardwareClassLength) characters (got \(hardware.count)).",
                field: prefix + "hardware_class")
        }
        if let fingerprint = result.fingerprint {
            let size = (try? WireCoding.encoder().encode(fingerprint).count) ?? Int.max
            guard size <= maxFingerprintBytes else {
                throw Problem.badRequest(
                    "fingerprint must be at most \(maxFingerprintBytes) bytes as JSON (got \(size)).",
                    field: prefix + "fingerprint")
            }
        }
    }

    /// Longest hardware class, in characters, at registration and in results (the contract's `maxLength`).
    static let maxHardwareClassLength = 200
    /// Largest environment fingerprint of a result, as compact JSON (stated in the contract).
    static let maxFingerprintBytes = 64 << 10
}
