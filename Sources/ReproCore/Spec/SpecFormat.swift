/// The syntax a study spec is written in.
public enum SpecFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// YAML 1.1, as read by Yams (libyaml).
    case yaml
    /// JSON (RFC 8259).
    case json

    /// JSON when the first non-blank byte is `{`, YAML otherwise.
    ///
    /// A YAML spec never starts with `{` in practice (flow-style YAML is JSON's look-alike,
    /// and reading it as JSON gives the stricter, clearer errors).
    public static func detect(_ data: some Collection<UInt8>) -> SpecFormat {
        let firstNonBlank = data.first { !SpecFormat.blanks.contains($0) }
        return firstNonBlank == UInt8(ascii: "{") ? .json : .yaml
    }

    /// Space, tab, CR, LF and the UTF-8 byte-order mark's bytes, which editors add silently.
    private static let blanks: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF]
}
