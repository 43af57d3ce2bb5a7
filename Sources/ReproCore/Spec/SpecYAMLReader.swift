import Yams

/// Reads YAML into a ``SpecNode`` tree with Yams (libyaml), keeping line numbers for messages.
enum SpecYAMLReader {
    /// Aliases let a few lines expand into millions of nodes ("billion laughs"); a spec never needs
    /// more than this many values, so reading stops there instead of exhausting memory.
    static let maxNodes = 200_000
    /// Deeper nesting than this is never a real spec and would risk the stack.
    static let maxDepth = 64

    /// The document's root, or nil for an empty document.
    static func read(_ text: String) throws(SpecValidationError) -> SpecNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SpecValidationError(issues: [issue(for: error)])
        } catch {
            throw SpecValidationError(issues: [SpecIssue(path: "", reason: "YAML could not be read: \(error)")])
        }
        guard let root else { return nil }
        var converter = Converter()
        let node = converter.convert(root, depth: 0)
        if let problem = converter.problem {
            throw SpecValidationError(issues: [problem])
        }
        return node
    }

    /// Turns libyaml's error into one issue with the line and column where it stopped.
    static func issue(for error: YamlError) -> SpecIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return SpecIssue(
                path: "",
                reason: "YAML syntax error at line \(mark.line), column \(mark.column): \(problem)\(during)",
                line: mark.line
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return SpecIssue(
                path: "",
                reason: "duplicate key \(keys) in one mapping (first at line \(context.mark.line))",
                line: context.mark.line
            )
        case .reader(let problem, _, _, _):
            return SpecIssue(path: "", reason: "the spec is not readable text: \(problem)")
        default:
            return SpecIssue(path: "", reason: "YAML could not be read: \(error)")
        }
    }

    private struct Converter {
        var nodeCount = 0
        var problem: SpecIssue?

        mutating func convert(_ node: Node, depth: Int) -> SpecNode {
            let line = node.mark?.line
            nodeCount += 1
            if problem == nil, nodeCount > SpecYAMLReader.maxNodes {
                problem = SpecIssue(
                    path: "",
                    reason: "the document expands to more than \(SpecYAMLReader.maxNodes) values "
                        + "(check anchors and aliases)",
                    line: line
                )
            }
            if problem == nil, depth > SpecYAMLReader.maxDepth {
                problem = SpecIssue(
                    path: "", reason: "the document nests deeper than \(SpecYAMLReader.maxDepth) levels", line: line)
            }
            if problem != nil {
                return SpecNode(value: .scalar(.init(text: "", kind: .null, isPlainYAML: false)), line: line)
            }
            switch node {
            case .scalar(let scalar):
                return SpecNode(value: .scalar(convert(scalar, node: node)), line: line)
            case .sequence(let sequence):
                return SpecNode(value: .sequence(sequence.map { convert($0, depth: depth + 1) }), line: line)
            case .mapping(let mapping):
                return SpecNode(value: .mapping(entries(of: mapping, depth: depth)), line: line)
            case .alias:
                // Yams resolves aliases to their anchored node while composing; this case is only
                // produced by its encoder, never by `compose`.
                return SpecNode(value: .scalar(.init(text: "", kind: .null, isPlainYAML: false)), line: line)
            }
        }

        /// Keys in document order, with YAML merge keys (`<<: *base`) applied: explicit keys win,
        /// as in every YAML 1.1 implementation, so configurations can share a base.
        mutating func entries(of mapping: Node.Mapping, depth: Int) -> [SpecNode.Entry] {
            var explicit: [SpecNode.Entry] = []
            var merged: [SpecNode.Entry] = []
            for (key, value) in mapping {
                if Tag.Name(rawValue: key.tag.rawValue) == .merge {
                    let sources: [Node] = value.sequence.map { Array($0) } ?? [value]
                    for source in sources {
                        let converted = convert(source, depth: depth + 1)
                        if case .mapping(let inherited) = converted.value {
                            merged.append(contentsOf: inherited)
                        } else {
                            explicit.append(SpecNode.Entry(key: "<<", keyLine: key.mark?.line, value: converted))
                        }
                    }
                    continue
                }
                let name = key.scalar?.string ?? "<\(key.mapping != nil ? "mapping" : "list") used as a key>"
                explicit.append(
                    SpecNode.Entry(key: name, keyLine: key.mark?.line, value: convert(value, depth: depth + 1)))
            }
            var seen = Set(explicit.map(\.key))
            for entry in merged where !seen.contains(entry.key) {
                seen.insert(entry.key)
                explicit.append(entry)
            }
            return explicit
        }

        func convert(_ scalar: Node.Scalar, node: Node) -> SpecNode.Scalar {
            let isPlain = scalar.style == .plain
            let kind: SpecNode.Scalar.Kind
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int:
                if let value = node.int {
                    kind = .integer(Int64(value))
                } else if let value = node.float {
                    // Past Int64: still a number, so range checks can say "too large".
                    kind = .number(value)
                } else {
                    kind = .string
                }
            case .float:
                kind = node.float.map { .number($0) } ?? .string
            case .bool:
                kind = node.bool.map { .bool($0) } ?? .string
            case .null:
                kind = .null
            default:
                kind = .string
            }
            return SpecNode.Scalar(text: scalar.string, kind: kind, isPlainYAML: isPlain)
        }
    }
}
