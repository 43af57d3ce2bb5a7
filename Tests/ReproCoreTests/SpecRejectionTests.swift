import Foundation
import ReproCore
import Testing

/// Each case breaks one line of the full spec and names the issue it must produce.
@Suite("Rejected specs")
struct SpecRejectionTests {
    static let keysAndTypes: [RejectionCase] = [
        RejectionCase(
            old: "seeds: [0, 1, 2, 3, 4]", new: "seedz: [0, 1, 2, 3, 4]", path: "matrix.seedz",
            reason: "unknown key 'seedz' (did you mean 'seeds'?)", only: false),
        RejectionCase(
            old: "max_attempts: 4", new: "maxAttempts: 4", path: "run.maxAttempts",
            reason: "did you mean 'max_attempts'?"),
        RejectionCase(
            old: "claims:", new: "colour: blue\nclaims:", path: "colour",
            reason: "unknown key 'colour' (expected one of: preprint, code, environment, run, matrix, claims, metrics, verification)"),
        RejectionCase(
            old: "tolerance: 0.01}", new: "tolerance: 0.01, note: x}", path: "claims[0].note",
            reason: "unknown key 'note'"),
        RejectionCase(
            old: "title: \"Small Nets Generalise\"", new: "title: [Small, Nets]", path: "preprint.title",
            reason: "expected a string, got a list"),
        RejectionCase(
            old: "replicas: 1", new: "replicas: \"1\"", path: "matrix.replicas",
            reason: "expected a whole number, got \"1\""),
        RejectionCase(
            old: "replicas: 1", new: "replicas: 1.5", path: "matrix.replicas",
            reason: "expected a whole number, got 1.5"),
        RejectionCase(
            old: "seeds: [0, 1, 2, 3, 4]", new: "seeds: [0, one]", path: "matrix.seeds[1]",
            reason: "expected a whole number, got \"one\""),
        RejectionCase(
            old: SpecRunRejectionTests.fullCommand,
            new: "command: \"python3 train.py --seed {seed}\"", path: "run.command",
            reason: "expected a list of arguments"),
        RejectionCase(
            old: "authors: [\"Ada Lovelace\", \"Alan Turing\"]", new: "authors: Ada Lovelace",
            path: "preprint.authors", reason: "expected a list"),
        RejectionCase(
            old: "resources: {cpus: 2, memory: 2GiB, gpus: 0}", new: "resources: 2",
            path: "run.resources", reason: "expected a mapping"),
        RejectionCase(
            old: "value: 0.975", new: "value: \"high\"", path: "claims[0].value",
            reason: "expected a number, got \"high\""),
    ]

    @Test(arguments: keysAndTypes)
    func unknownKeysAndWrongTypes(_ rejection: RejectionCase) {
        rejection.check()
    }

    static let missingAndEmpty: [RejectionCase] = [
        RejectionCase(
            old: "  title: \"Small Nets Generalise\"\n", new: "", path: "preprint.title",
            reason: "missing required key 'title'"),
        RejectionCase(old: "  timeout: 10m\n", new: "", path: "run.timeout", reason: "missing required key 'timeout'"),
        RejectionCase(
            old: "code:\n  bundle: \"\(SpecFixtures.bundle)\"\n", new: "", path: "code",
            reason: "missing required key 'code'"),
        RejectionCase(
            old: "title: \"Small Nets Generalise\"", new: "title: \"  \"", path: "preprint.title",
            reason: "must not be empty"),
        RejectionCase(
            old: "id: \"arXiv:2401.01234\"", new: "id: \"\"", path: "preprint.id",
            reason: "must not be empty"),
        RejectionCase(old: "id: \"arXiv:2401.01234\"", new: "id:", path: "preprint.id", reason: "needs a value"),
        RejectionCase(
            old: "funding: [{funder: \"ERC\", grant: \"101000001\"}]", new: "funding: [{grant: \"1\"}]",
            path: "preprint.funding[0].funder", reason: "missing required key 'funder'"),
    ]

    @Test(arguments: missingAndEmpty)
    func missingRequiredFields(_ rejection: RejectionCase) {
        rejection.check()
    }

    static let preprintIdentifiers = [
        "arXiv:240101234", "2401.123", "https://arxiv.org/abs/2401.01234",
        "doi:10.1000/x", "10.12/abc", "hep-th/99010", "10.1000/has space",
    ]

    @Test(arguments: preprintIdentifiers)
    func preprintIdMustBeArXivOrDOI(_ id: String) {
        RejectionCase(
            old: "id: \"arXiv:2401.01234\"", new: "id: \"\(id)\"", path: "preprint.id",
            reason: "is not an arXiv id (arXiv:2401.01234, 2401.01234v2, hep-th/9901001) or a DOI"
        ).check()
    }

    static let code: [RejectionCase] = [
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"", new: "  bundle: ./train", path: "code.bundle",
            reason: "upload the bundle first; `repro submit` does this for you"),
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"", new: "  bundle: \"sha256:ABCDEF\"", path: "code.bundle",
            reason: "must be \"sha256:\" followed by 64 lowercase hex digits"),
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"",
            new: "  bundle: \"\(SpecFixtures.bundle)\"\n"
                + "  git: {url: \"https://x.org/a.git\", commit: \"\(String(repeating: "a", count: 40))\"}",
            path: "code", reason: "has both 'bundle' and 'git'; give exactly one"),
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"", new: "  {}", path: "code",
            reason: "needs one of 'bundle' or 'git'"),
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"",
            new: "  git: {url: \"https://x.org/a.git\", commit: \"abc123\"}", path: "code.git.commit",
            reason: "is not a full 40-character commit id"),
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"",
            new: "  git: {url: \"https://x.org/a.git\", commit: \"\(String(repeating: "g", count: 40))\"}",
            path: "code.git.commit", reason: "is not a full 40-character commit id"),
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"", new: "  git: {url: \"https://x.org/a.git\"}",
            path: "code.git.commit", reason: "missing required key 'commit'"),
    ]

    @Test(arguments: code)
    func codeMustBeOneUploadedBundleOrAPinnedGitCommit(_ rejection: RejectionCase) {
        rejection.check()
    }

    @Test(arguments: [
        "http://github.com/a/b.git", "file:///srv/repo", "/srv/repo", "ftp://x.org/a", "https://",
        "github.com/a/b",
    ])
    func gitURLMustBeHTTPSOrSSHOrGit(_ url: String) {
        RejectionCase(
            old: "  bundle: \"\(SpecFixtures.bundle)\"",
            new: "  git: {url: \"\(url)\", commit: \"\(String(repeating: "a", count: 40))\"}", path: "code.git.url",
            reason: "must be an https://, ssh:// or git:// URL"
        ).check()
    }

    static let environment: [RejectionCase] = [
        RejectionCase(
            old: "    requirements: requirements.txt",
            new: "    requirements: requirements.txt\n  container: {image: \"python:3.12\"}", path: "environment",
            reason: "has both 'python' and 'container'"),
        RejectionCase(
            old: "    requirements: requirements.txt", new: "    requirements: ../../etc/passwd",
            path: "environment.python.requirements", reason: "must be a relative path inside the code"),
        RejectionCase(
            old: "  python:\n    requirements: requirements.txt", new: "  container: {image: \"two words\"}",
            path: "environment.container.image", reason: "is not an image reference"),
    ]

    @Test(arguments: environment)
    func environmentMustBeExactlyOneValidKind(_ rejection: RejectionCase) {
        rejection.check()
    }

    @Test func oversizedInputIsRejectedBeforeParsing() {
        let issues = SpecFixtures.issues(SpecFixtures.fullYAML, limits: SpecLimits(maxSpecBytes: 100))
        #expect(issues.count == 1)
        expectIssue(issues, path: "", reason: "the limit is 100")
        let huge = String(repeating: "# padding\n", count: 110_000) + SpecFixtures.fullYAML
        expectIssue(SpecFixtures.issues(huge), path: "", reason: "the limit is 262144")
    }

    @Test func emptyOrNonMappingDocuments() {
        expectIssue(SpecFixtures.issues(""), path: "", reason: "the spec is empty")
        expectIssue(SpecFixtures.issues("- a\n- b\n"), path: "", reason: "expected a mapping")
        expectIssue(SpecFixtures.issues("[1, 2]", format: .json), path: "", reason: "expected a mapping")
    }

    @Test func nonUTF8InputIsRejected() throws {
        do {
            _ = try StudySpec.parse(Data([0x61, 0x3A, 0x20, 0xFF, 0xFE]))
            Issue.record("expected a rejection")
        } catch {
            expectIssue(error.issues, path: "", reason: "not UTF-8")
        }
    }
}
