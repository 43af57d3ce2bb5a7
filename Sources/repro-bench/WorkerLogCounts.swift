import Foundation

/// What the workers' logs say about a chaos run. The logs survive SIGKILL (each restart appends), unlike
/// the workers' in-memory metrics, so the counts cover every process that ever ran.
struct WorkerLogCounts: Sendable {
    /// Results answered "rejected" (the lease was lost: re-leased elsewhere after expiry).
    var refused = 0
    /// Requests that failed and were retried (coordinator down, 503 during a database outage).
    var retried = 0
    /// Of those, failures where the worker's own HTTP client gave up waiting: a request that hung.
    var timeouts = 0

    static func read(paths: [String]) -> WorkerLogCounts {
        var counts = WorkerLogCounts()
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                // Worker.acknowledge's message; "result refused by the coordinator" is a 4xx quarantine instead.
                if line.contains("result refused") && !line.contains("by the coordinator") { counts.refused += 1 }
                // Log lines only: the worker's display lines ("[12:00:00] coordinator unreachable; retrying")
                // go to the same file and would count twice.
                if line.contains("failed; will retry") || line.contains("failed; retrying")
                    || line.contains("heartbeat failed")
                {
                    counts.retried += 1
                    // AsyncHTTPClient's own limits; a 503's detail may say "deadline" and is not a hang.
                    if line.contains("deadlineExceeded") || line.contains("readTimeout") {
                        counts.timeouts += 1
                    }
                }
            }
        }
        return counts
    }
}
