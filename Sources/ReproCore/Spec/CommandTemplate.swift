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
        while let open = argument[index...].firstIndex(of: "{") {
            let nameStart = argument.index(after: open)
            guard let close = argument[nameStart...].firstIndex(of: "}"), isIdentifier(argument[nameStart..<close])
            else {
                index = nameStart
                continue
            }
            if literalStart < open { segments.append(.literal(argument[literalStart..<open])) }
            segments.append(.placeholder(argument[nameStart..<close]))
            index = argument.index(after: close)
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
    static func isIdentifier(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
