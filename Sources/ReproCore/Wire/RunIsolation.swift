/// How a run's job was isolated from the volunteer's machine, as its worker reported it in the
/// environment fingerprint (`"isolation": "strict"` or `"none"`).
///
/// Reports show it per run so that readers can tell results from sandboxed jobs from those of a
/// researcher's own machine (`repro-worker --isolation none`).
public enum RunIsolation: String, Codable, Sendable, CaseIterable {
    /// The job ran in the worker's sandbox (bubblewrap: own namespaces, built filesystem view, no
    /// network unless allowed).
    case strict
    /// The job ran without a sandbox (`--isolation none`). Not named `none` in Swift, where
    /// `isolation == .none` on an optional would silently mean nil.
    case unsandboxed = "none"
    /// The fingerprint does not say: a worker from before isolation levels, or a value this
    /// coordinator does not know.
    case unknown

    /// The level named by a fingerprint's `isolation` value; `unknown` for nil or any other text.
    public init(fingerprintValue: String?) {
        self = fingerprintValue.flatMap { RunIsolation(rawValue: $0) } ?? .unknown
    }

    /// Decodes a level; text of a level added later reads as `unknown` instead of failing the document.
    public init(from decoder: any Decoder) throws {
        self.init(fingerprintValue: try decoder.singleValueContainer().decode(String.self))
    }
}
