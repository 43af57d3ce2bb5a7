/// Finds the known name a misspelt one was probably meant to be, for "did you mean" hints.
enum KeySuggester {
    /// The closest of `candidates` to `name`, if close enough to be a typo: a small edit distance
    /// (ignoring case, `-` versus `_` and camelCase) or a clear prefix (`config` → `configurations`).
    static func suggestion(for name: String, among candidates: [String]) -> String? {
        let typed = normalized(name)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let known = normalized(candidate)
            let distance = editDistance(typed, known)
            let allowed = max(1, min(3, known.count / 3))
            let isPrefix = typed.count >= 4 && known.starts(with: typed)
            guard distance <= allowed || isPrefix else { continue }
            if let current = best, current.distance <= distance { continue }
            best = (candidate, distance)
        }
        return best?.candidate
    }

    /// `unknown key 'seedz' (did you mean 'seeds'?)`, or the list of keys allowed there.
    static func unknownKeyReason(_ key: String, allowed: [String]) -> String {
        if let suggestion = suggestion(for: key, among: allowed) {
            return "unknown key '\(key)' (did you mean '\(suggestion)'?)"
        }
        return "unknown key '\(key)' (expected one of: \(allowed.joined(separator: ", ")))"
    }

    private static func normalized(_ name: String) -> [Character] {
        Array(name.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Levenshtein distance with two rolling rows; keys are short, so this is cheap.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
