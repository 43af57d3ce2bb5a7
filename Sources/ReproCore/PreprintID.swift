import Foundation

/// Normalized preprint identifiers, so that `arXiv:2401.01234v2`, `2401.01234` and
/// `https://arxiv.org/abs/2401.01234` name one preprint, and DOIs compare case-insensitively.
public enum PreprintID {
    /// The longest identifier accepted, in characters, before normalization; the OpenAPI document's
    /// `maxLength` of a preprint id.
    public static let maxLength = 200

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    /// The normalized form: `arXiv:<id without version>` or `doi:<lower-cased DOI>`; nil when the
    /// text is neither an arXiv identifier nor a DOI.
    public static func normalize(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        // Bounded so the id always fits a btree index entry (a 3 000-character DOI did not: 503), and
        // free of control characters (NUL cannot be stored at all).
        guard text.count <= maxLength, StorableText.isStorable(text), !text.unicodeScalars.contains(where: isControl) else {
            return nil
        }
        for prefix in ["https://arxiv.org/abs/", "http://arxiv.org/abs/", "https://arxiv.org/pdf/", "arxiv.org/abs/"]
        where text.lowercased().hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        for prefix in ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi.org/", "doi:"]
        where text.lowercased().hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        if text.lowercased().hasPrefix("arxiv:") { text = String(text.dropFirst(6)) }
        if text.hasPrefix("10.") {
            // The same DOI syntax as a study spec's `preprint.id` (``PreprintSpec/isValidIdentifier(_:)``).
            guard text.wholeMatch(of: /10\.[0-9]{4,9}(?:\.[0-9]+)*\/\S+/) != nil else { return nil }
            return "doi:" + text.lowercased()
        }
        // New style 2401.01234 (4 or 5 digits after the dot), old style hep-th/9901001; drop a version.
        let newStyle = /^(\d{4}\.\d{4,5})(v\d+)?$/
        let oldStyle = /^([a-z][a-z.-]*\/\d{7})(v\d+)?$/
        if let match = text.wholeMatch(of: newStyle) { return "arXiv:" + match.1 }
        if let match = text.lowercased().wholeMatch(of: oldStyle) { return "arXiv:" + match.1 }
        return nil
    }
}
