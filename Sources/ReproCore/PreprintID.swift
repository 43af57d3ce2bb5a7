import Foundation

/// Normalized preprint identifiers, so that `arXiv:2401.01234v2`, `2401.01234` and
/// `https://arxiv.org/abs/2401.01234` name one preprint, and DOIs compare case-insensitively.
public enum PreprintID {
    /// The normalized form: `arXiv:<id without version>` or `doi:<lower-cased DOI>`; nil when the
    /// text is neither an arXiv identifier nor a DOI.
    public static func normalize(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        for prefix in ["https://arxiv.org/abs/", "http://arxiv.org/abs/", "https://arxiv.org/pdf/", "arxiv.org/abs/"]
        where text.lowercased().hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        for prefix in ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi.org/", "doi:"]
        where text.lowercased().hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        if text.lowercased().hasPrefix("arxiv:") { text = String(text.dropFirst(6)) }
        if text.hasPrefix("10."), text.contains("/") {
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
