/// A replication study as the researcher wrote it: which preprint, which code, how to run it,
/// which seeds and datasets, and which claims to check.
///
/// Read untrusted input with ``parse(_:format:limits:context:)``, which validates everything and
/// reports every problem; `Codable` is for data this system wrote itself (storage, the wire), and
/// encodes the same shape as the spec file, so ``canonicalJSON()`` parses back to an equal value.
public struct StudySpec: Sendable, Hashable, Codable {
    /// The preprint being replicated.
    public var preprint: PreprintSpec
    /// Where the training code comes from.
    public var code: CodeSpec
    /// What to prepare before running; nil runs the command as it is.
    public var environment: EnvironmentSpec?
    /// How to run one task.
    public var run: RunSpec
    /// Seeds × datasets × configurations × replicas.
    public var matrix: MatrixSpec
    /// Reported numbers to check.
    public var claims: [ClaimSpec]
    /// Plausible range of each metric that declares one; a value outside it fails the attempt. Nil when the
    /// spec declares none (left out of the canonical JSON, so older specs keep their digest).
    public var metrics: [String: MetricRange]?
    /// Spot checks: extra replicas on other volunteers' workers; nil when the spec asks for none.
    public var verification: VerificationSpec?

    /// Creates a spec without validating it; see ``parse(_:format:limits:context:)``.
    public init(
        preprint: PreprintSpec, code: CodeSpec, environment: EnvironmentSpec? = nil, run: RunSpec,
        matrix: MatrixSpec, claims: [ClaimSpec] = [], metrics: [String: MetricRange]? = nil,
        verification: VerificationSpec? = nil
    ) {
        self.preprint = preprint
        self.code = code
        self.environment = environment
        self.run = run
        self.matrix = matrix
        self.claims = claims
        self.metrics = metrics
        self.verification = verification
    }

    /// The same spec with its code replaced by an uploaded bundle, as `repro submit` does after uploading
    /// the local directory. Takes `sha256:<hex>` or the bare hex digest.
    public func withBundle(_ sha256: String) -> StudySpec {
        var copy = self
        let reference = sha256.hasPrefix(CodeSpec.bundlePrefix) ? sha256 : CodeSpec.bundlePrefix + sha256
        copy.code = .bundle(reference.lowercased())
        return copy
    }
}
