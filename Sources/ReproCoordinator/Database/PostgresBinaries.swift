import Foundation

/// The directory holding one PostgreSQL installation's server programs.
struct PostgresBinaries: Sendable, Hashable {
    /// The `bin` directory, e.g. `/usr/lib/postgresql/15/bin`.
    let directory: URL
    /// The major version, e.g. 15.
    let majorVersion: Int

    var initdb: String { directory.appendingPathComponent("initdb").path }
    var pgCtl: String { directory.appendingPathComponent("pg_ctl").path }

    /// Finds the server programs: `override` if given, else `pg_config --bindir`, else the newest
    /// `/usr/lib/postgresql/*/bin`. With `majorVersion` (from an existing data directory's
    /// `PG_VERSION`), the first installation of that version wins, since a server cannot open
    /// another major version's files.
    ///
    /// The PATH is not searched for `pg_ctl`: on some machines `/usr/local/bin` holds unrelated
    /// programs of that name, and Debian keeps the real ones off the PATH anyway.
    static func locate(override: URL?, majorVersion wanted: Int?) async throws -> PostgresBinaries {
        if let override {
            guard let binaries = try await inspect(override) else {
                throw DatabaseSetupError(
                    .binariesNotFound,
                    "\(override.path) does not hold PostgreSQL's initdb, pg_ctl and postgres: "
                        + "point the bin directory setting at e.g. /usr/lib/postgresql/15/bin")
            }
            return binaries
        }
        // Each inspection runs `postgres --version`: stop at the first usable installation; only the
        // error listing what is installed needs them all.
        var found: [PostgresBinaries] = []
        for directory in try await candidateDirectories() {
            guard let binaries = try await inspect(directory), !found.contains(binaries) else { continue }
            if wanted == nil || binaries.majorVersion == wanted { return binaries }
            found.append(binaries)
        }
        guard let wanted, !found.isEmpty else {
            throw DatabaseSetupError(
                .binariesNotFound,
                "PostgreSQL server binaries not found: install Debian's postgresql package "
                    + "(apt-get install postgresql), or set DATABASE_URL to use an existing server")
        }
        let versions = found.map { "\($0.majorVersion) (\($0.directory.path))" }.joined(separator: ", ")
        throw DatabaseSetupError(
            .binariesNotFound,
            "the data directory was created by PostgreSQL \(wanted), but only \(versions) is installed: "
                + "install postgresql-\(wanted), or upgrade the data directory with pg_upgradecluster/pg_upgrade")
    }

    private static func candidateDirectories() async throws -> [URL] {
        var candidates: [URL] = []
        if let pgConfig = findOnPath("pg_config") {
            let result = try await CommandRunner.run(pgConfig, ["--bindir"])
            if result.succeeded, !result.output.isEmpty {
                candidates.append(URL(fileURLWithPath: result.output))
            }
        }
        // Debian installs each major version side by side; newest first.
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Double(name).map { (name, $0) } }
            .sorted { $0.1 > $1.1 }
        candidates += versions.map { URL(fileURLWithPath: "\(root)/\($0.0)/bin") }
        return candidates
    }

    private static func inspect(_ directory: URL) async throws -> PostgresBinaries? {
        let directory = directory.standardizedFileURL.resolvingSymlinksInPath()
        for tool in ["initdb", "pg_ctl", "postgres"]
        where !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(tool).path) {
            return nil
        }
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> 15
        let result = try await CommandRunner.run(directory.appendingPathComponent("postgres").path, ["--version"])
        guard result.succeeded, let version = result.output.split(separator: " ").dropFirst(2).first,
            let major = Int(version.prefix { $0.isNumber })
        else { return nil }
        return PostgresBinaries(directory: directory, majorVersion: major)
    }

    private static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for entry in path.split(separator: ":") {
            let candidate = "\(entry)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
