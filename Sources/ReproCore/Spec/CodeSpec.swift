/// Where a study's code comes from.
public enum CodeSpec: Sendable, Hashable {
    /// A content-addressed bundle: `sha256:<64 hex>` once uploaded, or (only before `repro submit`
    /// uploads it) a directory relative to the spec file.
    case bundle(String)
    /// A git repository pinned to a full commit id, so every worker runs the same code.
    case git(url: String, commit: String)

    /// Whether `reference` is an uploaded bundle's `sha256:` followed by 64 lowercase hex digits.
    public static func isBundleReference(_ reference: String) -> Bool {
        guard reference.hasPrefix(bundlePrefix) else { return false }
        let digest = reference.dropFirst(bundlePrefix.count)
        return digest.count == 64 && digest.allSatisfy(\.isLowercaseHexDigit)
    }

    /// The prefix of an uploaded bundle's reference.
    public static let bundlePrefix = "sha256:"
}

extension CodeSpec: Codable {
    private enum CodingKeys: String, CodingKey {
        case bundle, git
    }

    private enum GitKeys: String, CodingKey {
        case url, commit
    }

    /// Decodes `{"bundle": "..."}` or `{"git": {"url": ..., "commit": ...}}`, the shape of the spec file.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let bundle = try container.decodeIfPresent(String.self, forKey: .bundle) {
            self = .bundle(bundle)
            return
        }
        let git = try container.nestedContainer(keyedBy: GitKeys.self, forKey: .git)
        self = .git(
            url: try git.decode(String.self, forKey: .url), commit: try git.decode(String.self, forKey: .commit))
    }

    /// Encodes in the spec file's shape, so the JSON parses back with ``StudySpec/parse(_:format:limits:context:)``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .bundle(let reference):
            try container.encode(reference, forKey: .bundle)
        case .git(let url, let commit):
            var git = container.nestedContainer(keyedBy: GitKeys.self, forKey: .git)
            try git.encode(url, forKey: .url)
            try git.encode(commit, forKey: .commit)
        }
    }
}

extension Character {
    /// `0`–`9` and `a`–`f`: the digits of a lowercase hex digest.
    var isLowercaseHexDigit: Bool {
        isASCIIDigit || ("a"..."f").contains(self)
    }
}
