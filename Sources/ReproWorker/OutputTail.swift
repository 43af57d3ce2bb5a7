/// The last `limit` bytes of a job's combined output.
///
/// A volunteer's job may print gigabytes; only the end is kept for the report
/// and for error messages, because that is where tracebacks are.
struct OutputTail: Sendable {
    let limit: Int
    private(set) var totalByteCount = 0
    private var storage: [UInt8] = []

    init(limit: Int) {
        precondition(limit > 0, "an output tail needs room for at least one byte")
        self.limit = limit
        storage.reserveCapacity(limit)
    }

    /// Whether bytes were dropped from the front.
    var isTruncated: Bool { totalByteCount > limit }

    mutating func append(_ bytes: some Collection<UInt8>) {
        totalByteCount += bytes.count
        if bytes.count >= limit {
            storage = Array(bytes.suffix(limit))
            return
        }
        storage.append(contentsOf: bytes)
        // Trim only once the buffer holds twice the limit, so the copying
        // stays amortised O(1) per byte instead of O(limit) per read.
        if storage.count >= 2 * limit {
            storage.removeFirst(storage.count - limit)
        }
    }

    /// The kept bytes, or the last `limit` of them.
    var bytes: ArraySlice<UInt8> { storage.suffix(limit) }

    /// The kept output as text; invalid UTF-8 becomes U+FFFD.
    var text: String {
        var kept = bytes
        if isTruncated {
            // The cut may fall inside a multi-byte character: drop its
            // continuation bytes rather than show a replacement character.
            while let first = kept.first, first & 0b1100_0000 == 0b1000_0000 {
                kept = kept.dropFirst()
            }
        }
        return String(decoding: kept, as: UTF8.self)
    }
}
