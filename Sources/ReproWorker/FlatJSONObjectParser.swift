/// Parses a JSON object whose values are all numbers, with error messages
/// that say where and what is wrong.
///
/// Hand-written rather than `JSONSerialization` because the errors that
/// matter here need precise wording: Python's `json.dump` writes a diverged
/// loss as the bare token `NaN` or `Infinity`, which a strict JSON parser can
/// only call malformed, and `true` would be bridged to the number 1.
struct FlatJSONObjectParser {
    private let bytes: [UInt8]
    private let fileName: String
    private var index = 0

    init(bytes: [UInt8], fileName: String) {
        self.bytes = bytes
        self.fileName = fileName
        // A UTF-8 byte order mark is not JSON, but editors write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    /// The object's members; a name given twice keeps its last value.
    mutating func parse() throws(MetricsError) -> [String: Double] {
        skipWhitespace()
        guard peek == UInt8(ascii: "{") else {
            if index == bytes.count { throw malformed("the file is empty") }
            throw MetricsError(
                .malformedFile,
                "\(fileName): the top level must be an object of metric names to numbers, like {\"accuracy\": 0.97}"
            )
        }
        index += 1
        var metrics: [String: Double] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipWhitespace()
                let name = try parseName()
                skipWhitespace()
                try expect(":", "after the name \(name.debugDescription)")
                skipWhitespace()
                metrics[name] = try parseValue(of: name)
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect("}", "or ',' after the value of \(name.debugDescription)")
                break
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw malformed("unexpected text after the object") }
        return metrics
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ character: Character, _ context: String) throws(MetricsError) {
        guard let ascii = character.asciiValue, peek == ascii else {
            throw malformed("expected '\(character)' \(context)")
        }
        index += 1
    }

    private mutating func parseName() throws(MetricsError) -> String {
        guard peek == UInt8(ascii: "\"") else { throw malformed("expected a quoted metric name") }
        let name = try parseString()
        guard MetricsParser.isValidName(name) else {
            throw MetricsError(
                .invalidName,
                "\(fileName): \(name.debugDescription) is not a valid metric name (\(MetricsParser.nameRule))"
            )
        }
        return name
    }

    private mutating func parseString() throws(MetricsError) -> String {
        index += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flushRaw() throws(MetricsError) {
            guard !raw.isEmpty else { return }
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw MetricsError(.malformedFile, "\(fileName): a string is not valid UTF-8")
            }
            scalars.append(contentsOf: text.unicodeScalars)
            raw.removeAll()
        }
        while true {
            guard let byte = peek else { throw malformed("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                try flushRaw()
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flushRaw()
                scalars.append(try parseEscape())
            case 0..<0x20:
                throw malformed("control character in a string")
            default:
                raw.append(byte)
            }
        }
    }

    private mutating func parseEscape() throws(MetricsError) -> Unicode.Scalar {
        guard let byte = peek else { throw malformed("unterminated string") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            if (0xD800..<0xDC00).contains(unit) {
                guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw malformed("unpaired surrogate in a string")
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low),
                    let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                else { throw malformed("unpaired surrogate in a string") }
                return scalar
            }
            guard let scalar = Unicode.Scalar(unit) else { throw malformed("unpaired surrogate in a string") }
            return scalar
        default:
            index -= 1
            throw malformed("invalid escape in a string")
        }
    }

    private mutating func parseHex4() throws(MetricsError) -> UInt32 {
        guard index + 4 <= bytes.count,
            let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw malformed("invalid \\u escape in a string") }
        index += 4
        return value
    }

    private mutating func parseValue(of name: String) throws(MetricsError) -> Double {
        let start = index
        let notANumber = MetricsError(.invalidValue, "\(fileName): value of \(name.debugDescription) is not a number")
        switch peek {
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "t"), UInt8(ascii: "f"),
            UInt8(ascii: "n"):
            throw notANumber
        case nil:
            throw malformed("expected the value of \(name.debugDescription)")
        default:
            break
        }
        // A number, or NaN / Infinity / -Infinity as Python writes them.
        while let byte = peek,
            byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
        {
            index += 1
        }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !token.isEmpty else { throw malformed("expected the value of \(name.debugDescription)") }
        switch NumberText.parse(token) {
        case .finite(let value) where Self.isJSONNumber(token):
            return value
        case .nonFinite:
            throw MetricsError(.invalidValue, "\(fileName): value of \(name.debugDescription) is not a finite number")
        default:
            index = start
            throw MetricsError(
                .invalidValue,
                "\(fileName): value of \(name.debugDescription) is not a number: \(token.debugDescription)"
            )
        }
    }

    /// JSON is stricter than ``NumberText``: no '+', no leading zeros, no bare '.'.
    private static func isJSONNumber(_ token: String) -> Bool {
        var digits = Substring(token)
        if digits.first == "-" { digits = digits.dropFirst() }
        guard let first = digits.first, first.isASCII, first.isNumber else { return false }
        if first == "0", let second = digits.dropFirst().first, second.isNumber { return false }
        if let dot = digits.firstIndex(of: ".") {
            let next = digits.index(after: dot)
            guard next < digits.endIndex, digits[next].isNumber else { return false }
        }
        return true
    }

    private func malformed(_ problem: String) -> MetricsError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0b1100_0000 != 0b1000_0000 {
                column += 1
            }
        }
        return MetricsError(.malformedFile, "\(fileName): malformed JSON at line \(line), column \(column): \(problem)")
    }
}
