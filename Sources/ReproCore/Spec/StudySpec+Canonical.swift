import Foundation

extension StudySpec {
    /// The spec as JSON with sorted keys and no extra whitespace: equal specs give equal bytes,
    /// so the digest identifies a study's content (resubmitting the same spec is recognised).
    public func canonicalJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Parsed specs only hold finite numbers; these strings keep a hand-made NaN from making
        // encoding fail, and the parser will refuse them.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // Every member is a string, number, list or mapping, which JSONEncoder always encodes.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Lowercase hex SHA-256 of ``canonicalJSON()``.
    public var sha256Hex: String { BundleArchive.sha256Hex(canonicalJSON()) }
}
