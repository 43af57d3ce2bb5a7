import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads a job's output pipe on a dedicated thread, keeps its tail and hands
/// complete lines to async code.
///
/// A dedicated thread, not the cooperative pool: reads block for as long as
/// the job is quiet, which may be hours. It polls with a short timeout so it
/// can give up when told to: a process that left the job's process group
/// (`setsid`) may hold the pipe open forever after the job has ended.
final class OutputPump: Sendable {
    /// Lines longer than this are delivered in pieces, so a job printing
    /// megabytes without a newline cannot grow the worker's memory.
    static let maximumLineLength = 16 * 1024
    /// Lines handed out but not yet consumed before the reader waits; the
    /// pipe then fills and the job blocks, instead of the worker buffering.
    static let maximumPendingLines = 4096

    private struct State {
        var drainDeadline: ContinuousClock.Instant?
        var consumerGone = false
    }

    private let fd: Int32
    private let tailLimit: Int
    private let state = Mutex(State())
    private let pending = DispatchSemaphore(value: OutputPump.maximumPendingLines)
    private let finished = OneShot<OutputTail>()
    /// The job's output, line by line, without line terminators.
    let lines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    /// Takes ownership of `fd`, the read end of the output pipe.
    init(fd: Int32, tailLimit: Int) {
        self.fd = fd
        self.tailLimit = tailLimit
        (lines, continuation) = AsyncStream.makeStream(of: String.self)
        continuation.onTermination = { [weak self] _ in
            // The consumer stopped iterating (its task was cancelled): stop
            // waiting for it, but keep reading so the tail stays complete.
            self?.state.withLock { $0.consumerGone = true }
            self?.pending.signal()
        }
    }

    /// Starts the reading thread.
    func start(name: String) {
        let thread = Thread { [self] in pump() }
        thread.name = name
        thread.start()
    }

    /// Call after handling each line from `lines`.
    func lineConsumed() {
        pending.signal()
    }

    /// Stops reading at `deadline` if the pipe has not reached EOF by then.
    func stopReading(at deadline: ContinuousClock.Instant) {
        state.withLock { $0.drainDeadline = deadline }
    }

    /// The output's tail, once reading has ended.
    var tail: OutputTail {
        get async { await finished.value }
    }

    private func pump() {
        var tail = OutputTail(limit: tailLimit)
        var partialLine: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        reading: while true {
            let deadline = state.withLock { $0.drainDeadline }
            var timeoutMilliseconds: Int32 = 250
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { break reading }
                timeoutMilliseconds = Int32(min(250, max(1, left.nanosecondsClamped / 1_000_000)))
            }
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, timeoutMilliseconds)
            if ready == 0 || (ready < 0 && errno == EINTR) { continue }
            if ready < 0 { break }

            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                break
            }
            let chunk = buffer[..<count]
            tail.append(chunk)
            var lineStart = chunk.startIndex
            while let newline = chunk[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                appendToLine(&partialLine, chunk[lineStart..<newline])
                if partialLine.last == UInt8(ascii: "\r") { partialLine.removeLast() }
                deliver(&partialLine)
                lineStart = newline + 1
            }
            appendToLine(&partialLine, chunk[lineStart...])
        }
        if !partialLine.isEmpty {
            deliver(&partialLine)
        }
        close(fd)
        continuation.finish()
        finished.fulfill(tail)
    }

    /// Appends to the current line, handing out full-length pieces of it as they
    /// fill up; a piece ends on a character boundary where the text is UTF-8.
    private func appendToLine(_ line: inout [UInt8], _ bytes: ArraySlice<UInt8>) {
        line.append(contentsOf: bytes)
        while line.count > Self.maximumLineLength {
            var cut = Self.maximumLineLength
            while cut > Self.maximumLineLength - 4, line[cut] & 0b1100_0000 == 0b1000_0000 {
                cut -= 1
            }
            var piece = Array(line[..<cut])
            line.removeFirst(cut)
            deliver(&piece)
        }
    }

    private func deliver(_ line: inout [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        line.removeAll(keepingCapacity: true)
        if state.withLock({ $0.consumerGone }) { return }
        while pending.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if state.withLock({ $0.consumerGone }) { return }
        }
        if state.withLock({ $0.consumerGone }) { return }
        continuation.yield(text)
    }
}
