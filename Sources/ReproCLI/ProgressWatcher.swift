import Foundation
import ReproClient
import ReproCore

/// Draws a live progress bar for a study until it ends.
struct ProgressWatcher {
    let client: CoordinatorClient
    var interval: Duration = .seconds(1)

    /// Polls the study and redraws; returns the final status.
    func watch(_ id: UUID) async throws -> StudyStatus {
        let isTTY = isatty(STDERR_FILENO) != 0
        let start = ContinuousClock.now
        var lastLine = ""
        var lastPrinted = ContinuousClock.now - .seconds(60)
        while true {
            let status = try await client.study(id)
            let elapsed = ContinuousClock.now - start
            let line = Self.bar(status, elapsed: elapsed)
            if isTTY {
                FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            } else if line != lastLine && ContinuousClock.now - lastPrinted >= .seconds(5) || status.isFinished {
                // Not a terminal (CI logs): a line every few seconds instead of redrawing.
                FileHandle.standardError.write(Data("\(line)\n".utf8))
                lastPrinted = ContinuousClock.now
            }
            lastLine = line
            if status.isFinished {
                if isTTY { FileHandle.standardError.write(Data("\n".utf8)) }
                return status
            }
            try await Task.sleep(for: interval)
        }
    }

    static func bar(_ status: StudyStatus, elapsed: Duration) -> String {
        let total = max(status.taskCount, 1)
        let done = status.tasks.finished
        let width = 30
        let filled = width * done / total
        let seconds = Int(elapsed.components.seconds)
        let clock = String(format: "%02d:%02d", seconds / 60, seconds % 60)
        // An adaptive study's task count grows with each step: the bar is of the tasks so far, and the line
        // says how far the study may still grow.
        let most = status.adaptive.map { " (of at most \($0.maxTaskCount))" } ?? ""
        return "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(done)/\(status.taskCount)\(most) done · \(status.tasks.leased) running · "
            + "\(status.tasks.queued) queued · \(status.tasks.failed) failed · \(clock) · \(status.state.rawValue)"
    }

    static func describe(_ status: StudyStatus) -> String {
        var text = """
            Study \(status.id.uuidString.lowercased()) — \(status.title) (\(status.preprintID))
            state: \(status.state.rawValue); tasks: \(status.taskCount) (\(status.tasks.succeeded) succeeded, \(status.tasks.failed) failed, \(status.tasks.cancelled) cancelled, \(status.tasks.leased) running, \(status.tasks.queued) queued, \(status.tasks.held) held for review)
            """
        if let adaptive = status.adaptive {
            text +=
                "\nadaptive \(adaptive.seedsLine) (step \(adaptive.step)); "
                + "tasks \(status.taskCount) of at most \(adaptive.maxTaskCount)"
            for dataset in adaptive.datasets {
                let looks =
                    dataset.looks.isEmpty
                    ? "no look yet" : "looks at \(dataset.looks.map(String.init).joined(separator: ", ")) seeds"
                text +=
                    "\n  \(dataset.dataset): \(dataset.seeds) of at most \(adaptive.max) seeds, \(looks)"
                    + (dataset.stopReason.map { "; stopped: \($0.rawValue)" } ?? "")
            }
        }
        if let review = status.review {
            if let reason = review.rejectionReason {
                text += "\nrejected by a moderator: \(reason)"
            } else if let approval = review.approval {
                let via = review.approvedVia.map { " (approval of study \($0.uuidString.lowercased()))" } ?? ""
                text += "\napproved: \(approval.rawValue)\(via); manifest signed by key \(review.signingKeyID ?? "?")"
            } else if status.state == .pendingReview {
                text += "\nwaiting for a moderator's review"
            }
        }
        return text
    }
}
