import Foundation

/// Writes JSON bytes directly, for the bodies of the worker's cycle (issue 16): the worker's results and the
/// coordinator's receipts and leases, one member per task.
///
/// At batch 50 `JSONEncoder` was about a quarter of the benchmark's CPU (coordinator and simulated workers in
/// one process), most of it the `Codable` machinery around the bytes, not the bytes. What this writes is
/// what ``WireCoding/encoder()`` writes for the same value, byte for byte (keys in sorted order, ISO 8601
/// dates in whole seconds, `/` unescaped, nil members left out, numbers as `Double.description` without a
/// trailing `.0`), so either side decodes it with ``WireCoding/decoder()``. The types that use it test
/// that equality (`WireWriterTests`); callers write members in sorted key order themselves.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the open container has a member already, so that the next one needs a comma.
    private var needsComma = false

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// The bytes written, as `Data`.
    public var data: Data { Data(bytes) }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; its value comes next.
    public mutating func key(_ key: String) {
        separate()
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    public mutating func int(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func int(_ value: Int) { int(Int64(value)) }

    /// A number as `JSONEncoder` writes it; a non-finite one, which JSON cannot carry, as `null` (as
    /// ``WireCoding/encodeNullingNonFinite(_:)`` does).
    public mutating func double(_ value: Double) {
        guard value.isFinite else { return null() }
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: Self.nullBytes)
        needsComma = true
    }

    /// A UUID as `Codable` writes it: its upper-case string. Written digit by digit: `uuidString` formats
    /// each byte through `snprintf`, which was 5 % of the benchmark process's CPU at batch 50 (two UUIDs
    /// per lease, one per receipt).
    public mutating func uuid(_ value: UUID) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: value.uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(Self.upperHexDigits[Int(byte >> 4)])
                bytes.append(Self.upperHexDigits[Int(byte & 0x0F)])
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    /// A value already encoded as JSON (``WireMemo`` keeps such bytes), written as one value.
    public mutating func encodedBytes(_ data: Data) {
        separate()
        bytes.append(contentsOf: data)
        needsComma = true
    }

    /// A date as the `.iso8601` strategy writes it: UTC, whole seconds (the fraction dropped), `Z`. Years
    /// 1600–9999 are written here, others by Foundation.
    public mutating func date(_ value: Date) {
        separate()
        let seconds = Int64(value.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        guard (1600...9999).contains(year) else {
            // Foundation's calendar is Julian before October 1582; such a date is Foundation's to write.
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: Date.ISO8601FormatStyle().format(value).utf8)
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
            return
        }
        bytes.append(UInt8(ascii: "\""))
        appendDigits(Int(year), width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2)
        bytes.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
        needsComma = true
    }

    /// A value as ``WireCoding/encoder()`` encodes it, for the parts that are not per task (a study's job
    /// and manifest, a fingerprint): rare enough that `Codable` costs nothing that matters.
    public mutating func encoded<T: Encodable>(_ value: T) throws {
        separate()
        bytes.append(contentsOf: try WireCoding.encodeNullingNonFinite(value).data)
        needsComma = true
    }

    /// Members of a `[String: String]` or `[String: Double]` in sorted key order, as an object.
    public mutating func object<Value>(_ members: [String: Value], value write: (inout JSONWriter, Value) -> Void) {
        beginObject()
        for name in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            key(name)
            write(&self, members[name]!)
        }
        endObject()
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendDigits(_ value: Int, width: Int) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        for _ in digits.count..<max(width, digits.count) { bytes.append(UInt8(ascii: "0")) }
        bytes.append(contentsOf: digits.reversed())
    }

    /// `"text"` with the escapes `JSONEncoder` uses: `\"`, `\\`, the short forms of backspace, form feed,
    /// newline, carriage return and tab, and `\u00xx` for the other control characters.
    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex[Int(byte >> 4)],
                        hex[Int(byte & 0xF)],
                    ])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
}
