import Foundation

/// Reads JSON bytes in one pass, for the bodies of the worker's cycle (issue 16): the worker's results on
/// the coordinator, the receipts and leases on the worker.
///
/// It is a fast path only. Each reader answers nil as soon as the input is anything but what it expects
/// (an unknown or repeated member, a number where it wants a string, a lone surrogate, bytes after the
/// value), and the caller then decodes the same bytes with `JSONDecoder` (``WireCoding/decode(_:from:)``),
/// whose answer or error is the one that counts. So a body is never accepted here that `JSONDecoder` would
/// refuse, nor read differently; `JSONScannerTests` check that on every kind of member and on mutated bodies.
public struct JSONScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// Objects and arrays open around the scanner. Reading recurses, and a worker's body may be 16 MiB: without
    /// a bound, `[[[[…` would overflow the coordinator's stack. Deeper bodies go to `JSONDecoder`, which
    /// refuses nesting past its own bound with an error.
    private var depth = 0
    /// Deeper than any body of the cycle (a fingerprint a few levels down in a result in a request).
    public static let maxDepth = 32

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Whether only whitespace is left.
    public mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// Reads an object, calling `member` with each key (its raw bytes, before any escape is resolved: a key
    /// with an escape matches no name) with the scanner at its value; `member` reads the value and answers
    /// false to give up.
    public mutating func object(_ member: (inout JSONScanner, UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard depth < Self.maxDepth, take(UInt8(ascii: "{")) else { return false }
        depth += 1
        defer { depth -= 1 }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = rawKey(), take(UInt8(ascii: ":")), member(&self, key) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// Reads an array, calling `element` with the scanner at each element.
    public mutating func array(_ element: (inout JSONScanner) -> Bool) -> Bool {
        guard depth < Self.maxDepth, take(UInt8(ascii: "[")) else { return false }
        depth += 1
        defer { depth -= 1 }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            guard element(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// Reads an array whose elements `read` reads; nil when one is not what it reads.
    public mutating func elements<Element>(_ read: (inout JSONScanner) -> Element?) -> [Element]? {
        var elements: [Element] = []
        let done = array { scanner in
            guard let element = read(&scanner) else { return false }
            elements.append(element)
            return true
        }
        return done ? elements : nil
    }

    /// Consumes `null` if it comes next.
    public mutating func null() -> Bool {
        literal("null")
    }

    public mutating func bool() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// A string, escapes resolved; nil for anything else, invalid UTF-8 or a lone surrogate.
    public mutating func string() -> String? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                index = end + 1
                return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                index = start
                return escapedString()
            }
            guard byte >= 0x20 else { return nil }
            end += 1
        }
        return nil
    }

    /// An integer written as one (no fraction or exponent) that fits.
    public mutating func int64() -> Int64? {
        guard let text = number(), !text.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") })
        else { return nil }
        return Int64(String(decoding: text, as: UTF8.self))
    }

    public mutating func int() -> Int? {
        int64().flatMap { Int(exactly: $0) }
    }

    /// A finite number. A zero written with an exponent, or a number too small that rounds to zero, is left to
    /// `JSONDecoder`, which refuses some of those (`0E2`, `1e-400`).
    public mutating func double() -> Double? {
        guard let text = number(), let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            return nil
        }
        if value == 0,
            text.contains(where: {
                $0 | 0x20 == UInt8(ascii: "e") || (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0)
            })
        {
            return nil
        }
        return value
    }

    /// A UUID string. The canonical form (36 characters, hex digits of either case) is read here; any other
    /// string goes to `UUID(uuidString:)`, as `JSONDecoder` reads it (it uses `sscanf`, a tenth of the worker's
    /// reading time before this).
    public mutating func uuid() -> UUID? {
        skipSpace()
        if bytes.count - index >= 38, bytes[index] == UInt8(ascii: "\""), bytes[index + 37] == UInt8(ascii: "\""),
            let uuid = canonicalUUID(at: index + 1)
        {
            index += 38
            return uuid
        }
        return string().flatMap(UUID.init(uuidString:))
    }

    private func canonicalUUID(at start: Int) -> UUID? {
        var octets = [UInt8](repeating: 0, count: 16)
        var offset = start
        for octet in 0..<16 {
            if octet == 4 || octet == 6 || octet == 8 || octet == 10 {
                guard bytes[offset] == UInt8(ascii: "-") else { return nil }
                offset += 1
            }
            guard let high = Self.hexValue(bytes[offset]), let low = Self.hexValue(bytes[offset + 1]) else {
                return nil
            }
            octets[octet] = high << 4 | low
            offset += 2
        }
        return UUID(
            uuid: (
                octets[0], octets[1], octets[2], octets[3], octets[4], octets[5], octets[6], octets[7], octets[8],
                octets[9], octets[10], octets[11], octets[12], octets[13], octets[14], octets[15]
            ))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A date as the `.iso8601` strategy writes it, `2026-12-02T18:00:00Z`, from the year 1600 on (Foundation's
    /// calendar is Julian before October 1582); any other form is left to `JSONDecoder`.
    public mutating func date() -> Date? {
        guard let text = string(), text.utf8.count == 20 else { return nil }
        let utf8 = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for offset in range {
                let digit = Int(utf8[offset]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"), utf8[10] == UInt8(ascii: "T"),
            utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":"), utf8[19] == UInt8(ascii: "Z"),
            let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10), let hour = digits(11..<13),
            let minute = digits(14..<16), let second = digits(17..<19), (1600...9999).contains(year),
            (1...12).contains(month), hour < 24, minute < 60, second < 60,
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second)))
    }

    /// Any value, as ``JSONValue`` decodes it.
    public mutating func value() -> JSONValue? {
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var members: [String: JSONValue] = [:]
            let read = object { scanner, key in
                guard let name = String(validating: key, as: UTF8.self), !key.contains(UInt8(ascii: "\\")),
                    members[name] == nil, let value = scanner.value()
                else { return false }
                members[name] = value
                return true
            }
            return read ? .object(members) : nil
        case UInt8(ascii: "["): return elements { $0.value() }.map(JSONValue.array)
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return bool().map(JSONValue.bool)
        case UInt8(ascii: "n"): return null() ? .null : nil
        default: return double().map(JSONValue.number)
        }
    }

    /// The raw bytes of the next value, checked as JSON, for a part read by `JSONDecoder` after all.
    public mutating func rawValue() -> UnsafeRawBufferPointer? {
        skipSpace()
        let start = index
        guard value() != nil else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<index])
    }

    /// Whether a key read by ``object(_:)`` is `name`.
    public static func key(_ key: UnsafeRawBufferPointer, is name: StaticString) -> Bool {
        key.count == name.utf8CodeUnitCount && memcmp(key.baseAddress!, name.utf8Start, key.count) == 0
    }

    // MARK: - Lexing

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        skipSpace()
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count, memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0 else {
            return false
        }
        index += count
        return true
    }

    /// A key's raw bytes between its quotes (an empty buffer for `""`).
    private mutating func rawKey() -> UnsafeRawBufferPointer? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] >= 0x20 else { return nil }
            // An escaped quote would end the key too early: give up on escapes in keys.
            guard bytes[end] != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        index = end + 1
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// The bytes of a number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func number() -> UnsafeRawBufferPointer? {
        skipSpace()
        let start = index
        var at = index
        func digits() -> Int {
            let first = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return at - first
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard at < bytes.count else { return nil }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else if digits() == 0 {
            return nil
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { return nil }
        }
        if at < bytes.count, bytes[at] | 0x20 == UInt8(ascii: "e") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { return nil }
        }
        // A number runs into no digit, letter or point (`01`, `1x`, `1.2.3`): those are not JSON.
        if at < bytes.count {
            let next = bytes[at]
            let lower = next | 0x20
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lower)
                || next == UInt8(ascii: ".") || next == UInt8(ascii: "+") || next == UInt8(ascii: "-")
            {
                return nil
            }
        }
        index = at
        return UnsafeRawBufferPointer(rebasing: bytes[start..<at])
    }

    /// A string with escapes, the scanner just after its opening quote.
    private mutating func escapedString() -> String? {
        var utf8: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = hex4() else { return nil }
                    var scalar = UInt32(unit)
                    if (0xD800...0xDBFF).contains(unit) {
                        guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { return nil }
                        index += 2
                        guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        return nil
                    }
                    guard let character = Unicode.Scalar(scalar) else { return nil }
                    utf8.append(contentsOf: String(Character(character)).utf8)
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                utf8.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt16? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexValue(bytes[index]) else { return nil }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    // MARK: - Calendar

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
