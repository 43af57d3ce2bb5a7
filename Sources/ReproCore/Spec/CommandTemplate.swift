/// The `{name}` placeholders of a command argument. One scanner serves both validation (which names
/// appear) and substitution (what they become), so the two can never disagree about what a placeholder is.
enum CommandTemplate {
    /// A piece of an argument: text kept as is, or a placeholder's name.
    enum Segment: Equatable {
        case literal(Substring)
        case placeholder(Substring)
    }

    /// Splits an argument into text and placeholders. Only `{identifier}` is a placeholder; any other
    /// brace (a JSON argument such as `{"lr": 0.1}`) is ordinary text.
    static func segments(of argument: String) -> [Segment] {
        var segments: [Segment] = []
        var literalStart = argument.startIndex
        var index = argument.startIndex
        // Braces are ASCII, so their UTF-8 positions are character boundaries: searching the bytes finds the
        // same braces as searching the characters, without grapheme breaking (a worker splits every leased
        // task's command, issue 16).
        let bytes = argument.utf8
        while let open = bytes[index...].firstIndex(of: UInt8(ascii: "{")) {
            let nameStart = bytes.index(after: open)
            guard let close = bytes[nameStart...].firstIndex(of: UInt8(ascii: "}")),
                isIdentifier(argument[nameStart..<close])
            else {
                index = nameStart
                continue
            }
            if literalStart < open { segments.append(.literal(argument[literalStart..<open])) }
            segments.append(.placeholder(argument[nameStart..<close]))
            index = bytes.index(after: close)
            literalStart = index
        }
        if literalStart < argument.endIndex { segments.append(.literal(argument[literalStart...])) }
        return segments
    }

    /// Placeholder names in an argument, in order.
    static func placeholders(in argument: String) -> [String] {
        segments(of: argument).compactMap {
            if case .placeholder(let name) = $0 { String(name) } else { nil }
        }
    }

    /// The argument with known placeholders replaced; unknown ones are left as written.
    static func substitute(_ argument: String, values: [String: String]) -> String {
        // Most arguments hold no placeholder; a worker rebuilds every leased task's command (issue 16).
        guard argument.utf8.contains(UInt8(ascii: "{")) else { return argument }
        return segments(of: argument).map { segment in
            switch segment {
            case .literal(let text): String(text)
            case .placeholder(let name): values[String(name)] ?? "{\(name)}"
            }
        }.joined()
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: the names a placeholder or configuration parameter may have.
    /// Checked on the UTF-8 bytes: every byte of a non-ASCII character is 0x80 or above and fails, as the
    /// character did (issue 16: the character-wise check was the largest item of a worker's command rebuild).
    static func isIdentifier(_ name: Substring) -> Bool {
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let bytes = name.utf8
        guard let first = bytes.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || isDigit($0) }
    }
}
