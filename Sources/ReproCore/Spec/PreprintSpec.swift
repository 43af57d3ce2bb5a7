/// The preprint a study replicates, as funders will look it up.
public struct PreprintSpec: Sendable, Hashable, Codable {
    /// arXiv identifier (`arXiv:2401.01234`, `2401.01234v2`, `hep-th/9901001`) or DOI (`10.1234/abc`).
    public var id: String
    /// The preprint's title.
    public var title: String
    /// Author names, in the preprint's order.
    public var authors: [String]
    /// Institutions named on the preprint; funders aggregate scores by these.
    public var institutions: [String]
    /// Subject area, such as the arXiv category `cs.LG`.
    public var field: String?
    /// Grants that paid for the work; funders query scores by these.
    public var funding: [FundingSpec]

    /// Creates a preprint description.
    public init(
        id: String, title: String, authors: [String] = [], institutions: [String] = [], field: String? = nil,
        funding: [FundingSpec] = []
    ) {
        self.id = id
        self.title = title
        self.authors = authors
        self.institutions = institutions
        self.field = field
        self.funding = funding
    }

    /// Whether `id` is an arXiv identifier (new or old style, optional `arXiv:` prefix and version) or a DOI.
    public static func isValidIdentifier(_ id: String) -> Bool {
        guard id.count <= PreprintID.maxLength, !id.unicodeScalars.contains(where: PreprintID.isControl) else {
            return false
        }
        return id.wholeMatch(of: newArXiv) != nil || id.wholeMatch(of: oldArXiv) != nil || id.wholeMatch(of: doi) != nil
    }

    // Built on each call: `Regex` is not Sendable, so it cannot be a shared constant.
    private static var newArXiv: Regex<Substring> { #/(?i:arxiv:)?[0-9]{4}\.[0-9]{4,5}(?:v[0-9]+)?/# }
    private static var oldArXiv: Regex<Substring> {
        #/(?i:arxiv:)?[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/[0-9]{7}(?:v[0-9]+)?/#
    }
    /// DOI syntax per the DOI handbook: `10.` registrant code `/` a non-empty suffix without spaces.
    private static var doi: Regex<Substring> { #/10\.[0-9]{4,9}(?:\.[0-9]+)*/\S+/# }
}

/// A grant that funded the preprint's work.
public struct FundingSpec: Sendable, Hashable, Codable {
    /// The funding body, such as `ERC` or `NSF`.
    public var funder: String
    /// The grant number or name, when there is one.
    public var grant: String?

    /// Creates a funding entry.
    public init(funder: String, grant: String? = nil) {
        self.funder = funder
        self.grant = grant
    }
}
