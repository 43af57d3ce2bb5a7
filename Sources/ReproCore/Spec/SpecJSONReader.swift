/// Reads JSON into a ``SpecNode`` tree, keeping line numbers and reporting duplicate keys,
/// which Foundation's `JSONSerialization` silently drops.
struct SpecJSONReader {
    /// Deeper nesting than this is never a real spec and would risk the stack.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1
    /// Non-fatal problems (duplicate keys), reported together with the decoder's.
    private(set) var issues: [SpecIssue] = []

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The document's root, and the duplicate-key issues found on the way.
    static func read(_ bytes: [UInt8]) throws(SpecValidationError) -> (root: SpecNode, issues: [SpecIssue]) {
        var reader = SpecJSONReader(bytes)
        reader.skipByteOrderMark()
        let root = try reader.readValue(path: "", depth: 0)
        reader.skipWhitespace()
        if reader.index < reader.bytes.count {
            throw reader.syntaxError("unexpected text after the end of the document")
        }
        return (root, reader.issues)
    }

    // MARK: - Values

    private mutating func readValue(path: String, depth: Int) throws(SpecValidationError) -> SpecNode {
        skipWhitespace()
        guard depth <= Self.maxDepth else {
            throw syntaxError("the document nests deeper than \(Self.maxDepth) levels")
        }
        guard let byte = peek() else { throw syntaxError("unexpected end of the document, expected a value") }
        let startLine = line
        switch byte {
        case UInt8(ascii: "{"):
            return SpecNode(value: .mapping(try readObject(path: path, depth: depth)), line: startLine)
        case UInt8(ascii: "["):
            return SpecNode(value: .sequence(try readArray(path: path, depth: depth)), line: startLine)
        case UInt8(ascii: "\""):
            let text = try readString()
            return scalar(text, .string, startLine)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try readNumber(startLine)
        default:
            if consume(literal: "true") { return scalar("true", .bool(true), startLine) }
            if consume(literal: "false") { return scalar("false", .bool(false), startLine) }
            if consume(literal: "null") { return scalar("null", .null, startLine) }
            throw syntaxError("unexpected character '\(Character(Unicode.Scalar(byte)))', expected a value")
        }
    }

    private func scalar(_ text: String, _ kind: SpecNode.Scalar.Kind, _ line: Int) -> SpecNode {
        SpecNode(value: .scalar(.init(text: text, kind: kind, isPlainYAML: false)), line: line)
    }

    private mutating func readObject(path: String, depth: Int) throws(SpecValidationError) -> [SpecNode.Entry] {
        advance()  // {
        var entries: [SpecNode.Entry] = []
        var firstLineOfKey: [String: Int] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            advance()
            return entries
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw syntaxError("expected a key in double quotes") }
            let keyLine = line
            let key = try readString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw syntaxError("expected ':' after the key \"\(key)\"") }
            advance()
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            let value = try readValue(path: childPath, depth: depth + 1)
            if let first = firstLineOfKey[key] {
                issues.append(
                    SpecIssue(path: childPath, reason: "duplicate key '\(key)' (first at line \(first))", line: keyLine)
                )
            } else {
                firstLineOfKey[key] = keyLine
                entries.append(SpecNode.Entry(key: key, keyLine: keyLine, value: value))
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"):
                advance()
                return entries
            default: throw syntaxError("expected ',' or '}' after a value")
            }
        }
    }

    private mutating func readArray(path: String, depth: Int) throws(SpecValidationError) -> [SpecNode] {
        advance()  // [
        var elements: [SpecNode] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            advance()
            return elements
        }
        while true {
            elements.append(try readValue(path: "\(path)[\(elements.count)]", depth: depth + 1))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"):
                advance()
                return elements
            default: throw syntaxError("expected ',' or ']' after a value")
            }
        }
    }

    private mutating func readNumber(_ startLine: Int) throws(SpecValidationError) -> SpecNode {
        let start = index
        var isInteger = true
        if peek() == UInt8(ascii: "-") { advance() }
        guard let first = peek(), isDigit(first) else { throw syntaxError("expected a digit") }
        if first == UInt8(ascii: "0") {
            advance()
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            advance()
            guard let next = peek(), isDigit(next) else { throw syntaxError("expected a digit after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            advance()
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { advance() }
            guard let next = peek(), isDigit(next) else { throw syntaxError("expected a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int64(text) {
            return scalar(text, .integer(value), startLine)
        }
        // Integers past Int64 stay numbers so that range checks can say "too large".
        return scalar(text, .number(Double(text) ?? .infinity), startLine)
    }

    private mutating func readString() throws(SpecValidationError) -> String {
        advance()  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw syntaxError("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                advance()
                try readEscape(into: &utf8)
            case 0x00..<0x20:
                throw syntaxError("control character in a string (write it as an escape such as \\n)")
            default:
                utf8.append(byte)
                advance()
            }
        }
    }

    private mutating func readEscape(into utf8: inout [UInt8]) throws(SpecValidationError) {
        guard let byte = peek() else { throw syntaxError("unterminated string") }
        advance()
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "\\"): UInt8(ascii: "\\"),
            UInt8(ascii: "/"): UInt8(ascii: "/"), UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C,
            UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let replacement = simple[byte] {
            utf8.append(replacement)
            return
        }
        guard byte == UInt8(ascii: "u") else {
            throw syntaxError("unknown escape '\\\(Character(Unicode.Scalar(byte)))'")
        }
        var code = try readHex4()
        if (0xD800..<0xDC00).contains(code) {
            // A high surrogate must be followed by \u and a low surrogate (UTF-16 pair).
            guard consume(literal: "\\u") else { throw syntaxError("unpaired surrogate in \\u escape") }
            let low = try readHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw syntaxError("unpaired surrogate in \\u escape") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw syntaxError("invalid \\u escape") }
        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func readHex4() throws(SpecValidationError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexValue(byte) else {
                throw syntaxError("expected four hex digits after \\u")
            }
            value = value * 16 + digit
            advance()
        }
        return value
    }

    // MARK: - Bytes

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            // Count characters, not UTF-8 continuation bytes, so columns match what editors show.
            column += 1
        }
    }

    private mutating func consume(literal: String) -> Bool {
        let expected = Array(literal.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else {
            return false
        }
        for _ in expected { advance() }
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            advance()
        }
    }

    private mutating func skipByteOrderMark() {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { advance() }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func syntaxError(_ problem: String) -> SpecValidationError {
        SpecValidationError(issues: [
            SpecIssue(path: "", reason: "JSON syntax error at line \(line), column \(column): \(problem)", line: line)
        ])
    }
}
