import Dispatch

/// Runs blocking work (fsync, removing a large tree, waiting for a tool)
/// on a Dispatch queue instead of the cooperative thread pool.
///
/// The pool has one thread per core; every thread blocked in a system call
/// is one fewer to deliver job output and heartbeats on a 2-core volunteer.
enum BlockingWork {
    static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
