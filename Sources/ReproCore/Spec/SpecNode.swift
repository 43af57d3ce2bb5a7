/// A spec document after syntax, before meaning: the common tree that both the YAML and the JSON
/// reader produce, so that one decoder reports the same paths and reasons for both formats.
struct SpecNode: Sendable {
    /// A scalar as written, with the type its syntax gives it.
    struct Scalar: Sendable {
        enum Kind: Sendable {
            case string
            case integer(Int64)
            case number(Double)
            case bool(Bool)
            case null
        }

        /// The text as written (unquoted), used where a string is wanted.
        var text: String
        var kind: Kind
        /// An unquoted YAML scalar: its type was guessed by YAML's implicit typing (`no` is false,
        /// `1.10` is a number), so a field that wants a string takes its text instead of refusing it.
        var isPlainYAML: Bool
    }

    /// One key of a mapping, in document order.
    struct Entry: Sendable {
        var key: String
        var keyLine: Int?
        var value: SpecNode
    }

    enum Value: Sendable {
        case scalar(Scalar)
        case sequence([SpecNode])
        case mapping([Entry])
    }

    var value: Value
    /// 1-based line where the node starts.
    var line: Int?

    /// How the node's type is named in messages: "a string", "a list", ...
    var typeDescription: String {
        switch value {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar(let scalar):
            switch scalar.kind {
            case .string: return "a string"
            case .integer: return "an integer"
            case .number: return "a number"
            case .bool: return "a boolean"
            case .null: return "nothing (null)"
            }
        }
    }

    /// The node as a short quoted excerpt for messages, or its type for collections.
    var excerpt: String {
        guard case .scalar(let scalar) = value else { return typeDescription }
        if case .null = scalar.kind { return "nothing (null)" }
        let text = scalar.text.count > 40 ? String(scalar.text.prefix(40)) + "…" : scalar.text
        if case .string = scalar.kind { return "\"\(text)\"" }
        return text
    }
}
