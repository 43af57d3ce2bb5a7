/// A migration file that ``MigrationRunner`` applied.
public struct AppliedMigration: Sendable, Hashable {
    /// The file's number: 1 for `0001_init.sql`.
    public let version: Int
    /// The file's name without number and extension: `init` for `0001_init.sql`.
    public let name: String
    /// SHA-256 of the file's bytes, lowercase hex, as stored in `schema_migrations.checksum`.
    public let checksum: String

    /// Creates a record of an applied migration.
    public init(version: Int, name: String, checksum: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
    }

    /// The file name, e.g. `0001_init.sql`.
    public var fileName: String { MigrationFile.fileName(version: version, name: name) }
}
