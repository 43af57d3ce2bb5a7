/// Hands the worker's GPUs to its slots, so that two jobs never share a device unless the volunteer
/// said they may (`--share-gpus`).
///
/// The coordinator only leases a task that needs no more GPUs than the worker has; with several
/// slots the devices can still all be taken, and then a job waits here for one to be released.
actor GPUAllocator {
    let count: Int
    let sharing: Bool
    private var users: [Int]
    private var waiters: [(needed: Int, continuation: CheckedContinuation<[Int], Never>)] = []

    init(count: Int, sharing: Bool) {
        self.count = max(0, count)
        self.sharing = sharing
        self.users = Array(repeating: 0, count: max(0, count))
    }

    /// Indices of `needed` devices for one job; suspends until they are free. Throws when the
    /// machine does not have that many.
    func acquire(_ needed: Int) async throws -> [Int] {
        guard needed > 0 else { return [] }
        guard needed <= count else {
            throw WorkerError("the task needs \(needed) GPU(s) and this worker has \(count)")
        }
        if let indices = take(needed) { return indices }
        return await withCheckedContinuation { waiters.append((needed, $0)) }
    }

    /// Gives devices back and wakes the jobs that now fit, in arrival order.
    func release(_ indices: [Int]) {
        for index in indices where users.indices.contains(index) { users[index] -= 1 }
        var still: [(needed: Int, continuation: CheckedContinuation<[Int], Never>)] = []
        for waiter in waiters {
            if let indices = take(waiter.needed) { waiter.continuation.resume(returning: indices) } else { still.append(waiter) }
        }
        waiters = still
    }

    private func take(_ needed: Int) -> [Int]? {
        // Least-used first; without sharing only unused devices qualify.
        let candidates = users.indices.filter { sharing || users[$0] == 0 }.sorted { (users[$0], $0) < (users[$1], $1) }
        guard candidates.count >= needed else { return nil }
        let chosen = Array(candidates.prefix(needed)).sorted()
        for index in chosen { users[index] += 1 }
        return chosen
    }
}
