/// A number of bytes written the way people write memory limits: `512MiB`, `2GiB`, `1G` (SI) or bytes.
public struct ByteSize: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The size in bytes.
    public var bytes: Int64

    /// Creates a size of `bytes`.
    public init(bytes: Int64) {
        self.bytes = bytes
    }

    /// Binary units (KiB = 1024) and SI units (K, KB = 1000), case-insensitive, as in Kubernetes and Docker.
    private static let multipliers: [String: Int64] = [
        "": 1, "b": 1,
        "k": 1_000, "kb": 1_000, "m": 1_000_000, "mb": 1_000_000,
        "g": 1_000_000_000, "gb": 1_000_000_000, "t": 1_000_000_000_000, "tb": 1_000_000_000_000,
        "ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20,
        "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
    ]

    /// Parses `512MiB`, `2GiB`, `1.5G`, `1G`, `2048` (bytes); nil for anything else.
    ///
    /// Fractions are allowed (`1.5GiB`) and rounded down to whole bytes.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        let numberEnd = trimmed.firstIndex { !($0.isASCIIDigit || $0 == ".") } ?? trimmed.endIndex
        let number = trimmed[..<numberEnd]
        let unit = String(trimmed[numberEnd...]).trimmingWhitespace().lowercased()
        guard !number.isEmpty, number.first != ".", number.last != ".",
            let multiplier = Self.multipliers[unit]
        else { return nil }
        if let whole = Int64(number) {
            let (product, overflow) = whole.multipliedReportingOverflow(by: multiplier)
            guard !overflow else { return nil }
            bytes = product
        } else {
            guard let fraction = Double(number), fraction.isFinite else { return nil }
            let product = (fraction * Double(multiplier)).rounded(.down)
            guard product < 9.2e18 else { return nil }
            bytes = Int64(product)
        }
    }

    /// The largest binary unit that divides the size exactly, such as `2GiB` or `1536MiB`.
    public var description: String {
        for (suffix, size) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes != 0 && bytes % size == 0 {
            return "\(bytes / size)\(suffix)"
        }
        return "\(bytes)B"
    }
}
