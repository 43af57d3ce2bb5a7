/// Length limits of preprint metadata, in characters, shared by a study spec's `preprint` and
/// `PUT /v1/preprints/{id}` (and stated as `maxLength`/`maxItems` in the OpenAPI document), so the
/// two ways of writing the same row accept the same values. The id's limit is ``PreprintID/maxLength``.
public enum PreprintLimits {
    public static let title = 500
    /// One author or institution.
    public static let name = 300
    public static let authors = 500
    public static let institutions = 100
    public static let field = 100
    /// A funder or a grant.
    public static let funder = 200
    public static let funding = 100
}
