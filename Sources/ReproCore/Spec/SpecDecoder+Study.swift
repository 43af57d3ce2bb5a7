extension SpecDecoder {
    static let topLevelKeys = ["preprint", "code", "environment", "run", "matrix", "claims", "metrics", "verification"]

    /// The whole spec, or nil when anything is wrong (then ``issues`` says what).
    func decodeStudy(_ root: SpecNode?) -> StudySpec? {
        guard let root else {
            report("", "the spec is empty", line: nil)
            return nil
        }
        // Text that cannot be stored ends decoding here (its field would be reported twice otherwise);
        // issues found before (duplicate JSON keys) do not.
        let earlier = issues.count
        checkStorable(root, at: "")
        guard issues.count == earlier, let top = fields(root, at: "", allowed: Self.topLevelKeys) else { return nil }
        let preprint = required(top, "preprint").flatMap { decodePreprint($0, at: "preprint") }
        let code = required(top, "code").flatMap { decodeCode($0, at: "code") }
        let environment = top["environment"].map { decodeEnvironment($0, at: "environment") }
        // The matrix comes before run and claims: both are checked against its datasets and configurations.
        let matrix = required(top, "matrix").map { decodeMatrix($0, at: "matrix") } ?? MatrixParts()
        let run = required(top, "run").flatMap { decodeRun($0, at: "run", matrix: matrix) }
        let claims = top["claims"].map { decodeClaims($0, at: "claims", matrix: matrix) } ?? []
        let metrics = top["metrics"].map { decodeMetricRanges($0, at: "metrics") }
        let verification = top["verification"].map { decodeVerification($0, at: "verification", matrix: matrix) }

        guard issues.isEmpty, let preprint, let code, let run, let matrixSpec = matrix.spec, let claims else {
            if issues.isEmpty { report("", "the spec could not be read", line: root.line) }
            return nil
        }
        return StudySpec(
            preprint: preprint, code: code, environment: environment ?? nil, run: run, matrix: matrixSpec,
            claims: claims, metrics: metrics ?? nil, verification: verification ?? nil)
    }

    // MARK: - Preprint

    func decodePreprint(_ node: SpecNode, at path: String) -> PreprintSpec? {
        guard
            let fields = fields(
                node, at: path, allowed: ["id", "title", "authors", "institutions", "field", "funding"])
        else { return nil }
        let id = required(fields, "id").flatMap {
            boundedString($0, at: fields.path("id"), maxLength: PreprintID.maxLength)
        }
        if let id, !PreprintSpec.isValidIdentifier(id), let node = fields["id"] {
            report(
                fields.path("id"),
                "\"\(id)\" is not an arXiv id (arXiv:2401.01234, 2401.01234v2, hep-th/9901001) or a DOI (10.1234/abcd)",
                line: node.line)
        }
        let title = required(fields, "title").flatMap {
            boundedString($0, at: fields.path("title"), maxLength: PreprintLimits.title)
        }
        let authors = fields["authors"].map {
            stringList(
                $0, at: fields.path("authors"), example: "[\"Ada Lovelace\", \"Alan Turing\"]",
                maxCount: PreprintLimits.authors, maxLength: PreprintLimits.name)
        }
        let institutions = fields["institutions"].map {
            stringList(
                $0, at: fields.path("institutions"), example: "[\"University of Edinburgh\"]",
                maxCount: PreprintLimits.institutions, maxLength: PreprintLimits.name)
        }
        let field = fields["field"].map { boundedString($0, at: fields.path("field"), maxLength: PreprintLimits.field) }
        let funding = fields["funding"].map { decodeFunding($0, at: fields.path("funding")) }
        guard let id, PreprintSpec.isValidIdentifier(id), let title else { return nil }
        return PreprintSpec(
            id: id, title: title, authors: authors.flatMap { $0 } ?? [],
            institutions: institutions.flatMap { $0 } ?? [],
            field: field.flatMap { $0 }, funding: funding.flatMap { $0 } ?? [])
    }

    func decodeFunding(_ node: SpecNode, at path: String) -> [FundingSpec]? {
        guard let elements = list(node, at: path, example: "[{funder: ERC, grant: \"101000000\"}]") else { return nil }
        guard elements.count <= PreprintLimits.funding else {
            report(path, "at most \(PreprintLimits.funding) entries, got \(elements.count)", line: node.line)
            return nil
        }
        let grants = elements.enumerated().map { index, element -> FundingSpec? in
            let elementPath = Self.join(path, index)
            guard let fields = fields(element, at: elementPath, allowed: ["funder", "grant"]) else { return nil }
            let funder = required(fields, "funder").flatMap {
                boundedString($0, at: fields.path("funder"), maxLength: PreprintLimits.funder)
            }
            let grant = fields["grant"].map {
                boundedString($0, at: fields.path("grant"), maxLength: PreprintLimits.funder)
            }
            guard let funder, grant != .some(nil) else { return nil }
            return FundingSpec(funder: funder, grant: grant ?? nil)
        }
        return grants.contains(nil) ? nil : grants.compactMap { $0 }
    }

    // MARK: - Code

    func decodeCode(_ node: SpecNode, at path: String) -> CodeSpec? {
        guard let fields = fields(node, at: path, allowed: ["bundle", "git"]) else { return nil }
        let bundle = fields["bundle"].flatMap { decodeBundle($0, at: fields.path("bundle")) }
        let git = fields["git"].flatMap { decodeGit($0, at: fields.path("git")) }
        switch exactlyOne(of: ["bundle", "git"], in: fields) {
        case "bundle": return bundle.map { .bundle($0) }
        case "git": return git
        default: return nil
        }
    }

    func decodeBundle(_ node: SpecNode, at path: String) -> String? {
        guard let reference = nonEmptyString(node, at: path) else { return nil }
        if CodeSpec.isBundleReference(reference) { return reference }
        if reference.hasPrefix(CodeSpec.bundlePrefix) {
            report(path, "\"\(reference)\" must be \"sha256:\" followed by 64 lowercase hex digits", line: node.line)
            return nil
        }
        switch context {
        case .client:
            // A local directory, uploaded and replaced by its reference before the spec leaves the machine.
            return reference
        case .server:
            report(
                path,
                "\"\(reference)\" is not an uploaded bundle (sha256:<64 lowercase hex>): upload the bundle first; "
                    + "`repro submit` does this for you", line: node.line)
            return nil
        }
    }

    func decodeGit(_ node: SpecNode, at path: String) -> CodeSpec? {
        guard let fields = fields(node, at: path, allowed: ["url", "commit"]) else { return nil }
        let url = required(fields, "url").flatMap { nonEmptyString($0, at: fields.path("url")) }
        let commit = required(fields, "commit").flatMap { nonEmptyString($0, at: fields.path("commit")) }
        var valid = true
        if let url, !Self.isAcceptedGitURL(url), let urlNode = fields["url"] {
            report(
                fields.path("url"),
                "\"\(url)\" must be an https://, ssh:// or git:// URL, or user@host:path "
                    + "(plain http and local paths cannot be fetched safely by volunteers)", line: urlNode.line)
            valid = false
        }
        if let commit, !Self.isFullCommitID(commit), let commitNode = fields["commit"] {
            report(
                fields.path("commit"),
                "\"\(commit)\" is not a full 40-character commit id (branches and short ids can move; "
                    + "use the output of `git rev-parse HEAD`)", line: commitNode.line)
            valid = false
        }
        guard valid, let url, let commit else { return nil }
        return .git(url: url, commit: commit.lowercased())
    }

    static func isFullCommitID(_ commit: String) -> Bool {
        commit.count == 40 && commit.lowercased().allSatisfy(\.isLowercaseHexDigit)
    }

    /// https, ssh and git URLs with a host, or scp-style `user@host:path`, which git treats as ssh.
    static func isAcceptedGitURL(_ url: String) -> Bool {
        guard !url.contains(where: \.isWhitespace) else { return false }
        if let schemeEnd = url.range(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            let host = url[schemeEnd.upperBound...].prefix { $0 != "/" }
            return ["https", "ssh", "git"].contains(scheme) && !host.isEmpty
        }
        return url.wholeMatch(of: #/[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+/#) != nil
    }

    // MARK: - Environment

    /// Nil inside the optional means "given but invalid", so the caller can tell it from "left out".
    func decodeEnvironment(_ node: SpecNode, at path: String) -> EnvironmentSpec? {
        guard let fields = fields(node, at: path, allowed: ["python", "container"]) else { return nil }
        let python = fields["python"].flatMap { pythonNode -> EnvironmentSpec? in
            let pythonPath = fields.path("python")
            guard let python = self.fields(pythonNode, at: pythonPath, allowed: ["requirements"]),
                let requirements = required(python, "requirements").flatMap({
                    nonEmptyString($0, at: python.path("requirements"))
                })
            else { return nil }
            guard Self.isPathInsideCode(requirements) else {
                report(
                    python.path("requirements"),
                    "\"\(requirements)\" must be a relative path inside the code, such as requirements.txt",
                    line: python["requirements"]?.line)
                return nil
            }
            return .python(requirements: requirements)
        }
        let container = fields["container"].flatMap { containerNode -> EnvironmentSpec? in
            guard let image = self.fields(containerNode, at: fields.path("container"), allowed: ["image"]),
                let name = required(image, "image").flatMap({ nonEmptyString($0, at: image.path("image")) })
            else { return nil }
            guard !name.contains(where: \.isWhitespace), name.count <= 255 else {
                report(
                    image.path("image"), "\"\(name)\" is not an image reference such as python:3.12-slim",
                    line: image["image"]?.line)
                return nil
            }
            return .container(image: name)
        }
        switch exactlyOne(of: ["python", "container"], in: fields) {
        case "python": return python
        case "container": return container
        default: return nil
        }
    }

    /// Relative, without `..`: a worker resolves it inside the unpacked code and must not leave it.
    static func isPathInsideCode(_ path: String) -> Bool {
        !path.hasPrefix("/") && !path.hasPrefix("~") && !path.contains("\0")
            && !path.split(separator: "/").contains("..")
    }
}
