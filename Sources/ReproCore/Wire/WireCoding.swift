import Foundation

/// The JSON coders every party uses on the wire: ISO 8601 dates, stable key order.
public enum WireCoding {
    /// An encoder with ISO 8601 dates and sorted keys (stable output for hashing and diffs).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Encodes with ``encoder()``; a non-finite number anywhere in `value` (which JSON cannot carry and
    /// which makes `JSONEncoder` throw) is written as `null` instead, and `replacedNonFinite` says so.
    ///
    /// The statistics already leave out what overflows; this is the last line of defence, so one such
    /// number missed somewhere never turns a whole report or page into an error for good.
    public static func encodeNullingNonFinite<T: Encodable>(_ value: T) throws -> (data: Data, replacedNonFinite: Bool) {
        do {
            return (try encoder().encode(value), false)
        } catch EncodingError.invalidValue(let invalid, _) where invalid is Double || invalid is Float {
            let fallback = encoder()
            // A control character is always escaped in JSON, so the quoted, escaped sentinel marks the
            // numbers; a stored text that were exactly this string would become null too (names refuse
            // control characters, so none can be).
            let sentinel = "\u{1}repro-non-finite\u{1}"
            fallback.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: sentinel, negativeInfinity: sentinel, nan: sentinel)
            let text = String(decoding: try fallback.encode(value), as: UTF8.self)
            return (Data(text.replacingOccurrences(of: #""\u0001repro-non-finite\u0001""#, with: "null").utf8), true)
        }
    }

    /// Decodes `type` from JSON as ``decoder()`` does; the cycle's bodies (``WireScannable``) are read by
    /// their fast path first (``JSONScanner``, issue 16), which leaves anything unusual to that decoder.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let scannable = type as? any WireScannable.Type, let value = scannable.scanned(from: data) as? T {
            return value
        }
        return try decoder().decode(type, from: data)
    }

    /// A decoder matching ``encoder()``; accepts dates with or without fractional seconds.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = parseDate(text) { return date }
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(text) is not an ISO 8601 date-time")
        }
        return decoder
    }

    private static func parseDate(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
