/// Why the database could not be set up: a bad database URL, a migration problem, or an embedded
/// server that would not start. ``description`` names what is wrong and what to do next.
public struct DatabaseSetupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem, for code that wants to react to it.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        // MARK: Database URLs

        /// Not a URL of the form `postgres://…` at all.
        public static let malformedURL = Code("malformedURL")
        /// A scheme other than `postgres` or `postgresql`.
        public static let unsupportedScheme = Code("unsupportedScheme")
        /// A `%` escape that is not two hex digits or does not decode to UTF-8.
        public static let invalidPercentEncoding = Code("invalidPercentEncoding")
        /// A port that is not a number from 1 to 65535.
        public static let invalidPort = Code("invalidPort")
        /// No host in the URL and no `?host=`.
        public static let missingHost = Code("missingHost")
        /// A query parameter that is unknown or has a value that cannot be used.
        public static let invalidURLParameter = Code("invalidURLParameter")

        // MARK: Migrations

        /// The migrations directory is missing or unreadable, or a file is not UTF-8.
        public static let unreadableMigrations = Code("unreadableMigrations")
        /// A `.sql` file whose name is not `NNNN_name.sql`.
        public static let invalidMigrationFileName = Code("invalidMigrationFileName")
        /// Two migration files with the same number.
        public static let duplicateMigrationVersion = Code("duplicateMigrationVersion")
        /// Migration numbers that do not run 1, 2, 3, … without gaps.
        public static let missingMigrationVersion = Code("missingMigrationVersion")
        /// A migration that was applied and has been edited since.
        public static let migrationChanged = Code("migrationChanged")
        /// The database rejected a migration's SQL.
        public static let migrationFailed = Code("migrationFailed")

        // MARK: Embedded server

        /// No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found.
        public static let binariesNotFound = Code("binariesNotFound")
        /// The data directory cannot be used: permissions, foreign content, another version's files.
        public static let unusableDataDirectory = Code("unusableDataDirectory")
        /// The unprivileged user to run the server as could not be found or created.
        public static let serverUserUnavailable = Code("serverUserUnavailable")
        /// An external command (initdb, pg_ctl, runuser, useradd) failed; its output is included.
        public static let commandFailed = Code("commandFailed")
        /// The server did not start; the end of its log is included.
        public static let startFailed = Code("startFailed")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of problem.
    public let code: Code
    /// A sentence for people: what is wrong and what to change.
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
