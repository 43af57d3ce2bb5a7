import Foundation
import ReproCore

/// One `NNNN_name.sql` file of a migrations directory, read and checksummed.
public struct MigrationFile: Sendable, Hashable {
    /// The file's number: 1 for `0001_init.sql`.
    public let version: Int
    /// The file's name without number and extension: `init` for `0001_init.sql`.
    public let name: String
    /// The SQL text; may hold many statements.
    public let sql: String
    /// SHA-256 of the file's bytes, lowercase hex.
    public let checksum: String

    /// The file name, e.g. `0001_init.sql`.
    public var fileName: String { Self.fileName(version: version, name: name) }

    /// Creates a migration from its parts; the checksum is computed from `sql`'s UTF-8 bytes.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = BundleArchive.sha256Hex(Data(sql.utf8))
    }

    /// Reads all migrations in `directory`, sorted by number.
    ///
    /// Files not ending in `.sql` (READMEs, editor backups) and hidden files are ignored; every `.sql`
    /// file must be named `NNNN_name.sql` (four digits, then letters, digits, `_` or `-`), and the numbers
    /// must run 0001, 0002, … without gaps or duplicates, so a missing or misnamed file is noticed
    /// before anything is applied rather than silently skipped.
    ///
    /// - Throws: ``DatabaseSetupError`` naming the offending file.
    public static func load(from directory: URL) throws(DatabaseSetupError) -> [MigrationFile] {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw DatabaseSetupError(
                .unreadableMigrations,
                "cannot read migrations directory \(directory.path): \(error.localizedDescription)")
        }
        var files: [MigrationFile] = []
        for entry in entries.sorted() where !entry.hasPrefix(".") && entry.lowercased().hasSuffix(".sql") {
            guard let (version, name) = parseFileName(entry) else {
                throw DatabaseSetupError(
                    .invalidMigrationFileName,
                    "migration file name '\(entry)' is invalid: name it NNNN_description.sql "
                        + "(four digits, then letters, digits, '_' or '-'), e.g. 0002_add_workers.sql")
            }
            let url = directory.appendingPathComponent(entry)
            let bytes: Data
            do {
                bytes = try Data(contentsOf: url)
            } catch {
                throw DatabaseSetupError(
                    .unreadableMigrations, "cannot read migration \(entry): \(error.localizedDescription)")
            }
            guard let sql = String(data: bytes, encoding: .utf8) else {
                throw DatabaseSetupError(.unreadableMigrations, "migration \(entry) is not valid UTF-8 text")
            }
            // Checksum the bytes on disk, not the decoded string, so any edit at all is noticed.
            files.append(MigrationFile(version: version, name: name, sql: sql, checksum: BundleArchive.sha256Hex(bytes)))
        }
        files.sort { ($0.version, $0.name) < ($1.version, $1.name) }
        try checkSequence(files)
        return files
    }

    static func fileName(version: Int, name: String) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name + ".sql"
    }

    private init(version: Int, name: String, sql: String, checksum: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = checksum
    }

    private static func parseFileName(_ fileName: String) -> (Int, String)? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        let parts = stem.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let number = parts[0]
        let name = parts[1]
        let nameCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-"))
        guard number.count == 4, number.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(number),
            version > 0, !name.isEmpty, name.allSatisfy(\.isASCII),
            name.unicodeScalars.allSatisfy(nameCharacters.contains)
        else { return nil }
        return (version, String(name))
    }

    private static func checkSequence(_ files: [MigrationFile]) throws(DatabaseSetupError) {
        var expected = 1
        var previous: MigrationFile?
        for file in files {
            if let previous, previous.version == file.version {
                throw DatabaseSetupError(
                    .duplicateMigrationVersion,
                    "migrations \(previous.fileName) and \(file.fileName) share the number "
                        + "\(String(file.fileName.prefix(4))): give one of them the next free number")
            }
            if file.version != expected {
                let after = previous.map { "after \($0.fileName)" } ?? "at the start"
                throw DatabaseSetupError(
                    .missingMigrationVersion,
                    "migration \(fileName(version: expected, name: "…")) is missing \(after) "
                        + "(next file is \(file.fileName)): numbers must run 0001, 0002, … without gaps")
            }
            expected += 1
            previous = file
        }
    }
}
