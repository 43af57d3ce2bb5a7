import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EmbeddedPostgres {
    /// Where and how the embedded server runs. Every setting has a working default.
    public struct Configuration: Sendable {
        /// The data directory; `nil` for ``EmbeddedPostgres/defaultDataDirectory(environment:runningAsRoot:)``.
        public var dataDirectory: URL?
        /// The TCP port on 127.0.0.1 (`--embedded-postgres-port`); `nil`, the default, listens on the
        /// Unix socket only, so no process can reach the server over the network. The socket's name
        /// carries the port (``socketOnlyPort`` without TCP).
        public var port: Int?
        /// The superuser created by initdb, and the user the coordinator connects as.
        public var username: String
        /// The application database, created on first start.
        public var database: String
        /// The PostgreSQL `bin` directory; `nil` for `pg_config --bindir`, else the newest
        /// `/usr/lib/postgresql/*/bin`.
        public var binDirectory: URL?
        /// The account that runs the server when the coordinator runs as root; `nil` for the data
        /// directory's owner, else `postgres`, else a system user `reprogrid` created on demand.
        public var serverUser: String?

        /// Creates a configuration; see each property for its default.
        public init(
            dataDirectory: URL? = nil,
            port: Int? = nil,
            username: String = "reprogrid",
            database: String = "reprogrid",
            binDirectory: URL? = nil,
            serverUser: String? = nil
        ) {
            self.dataDirectory = dataDirectory
            self.port = port
            self.username = username
            self.database = database
            self.binDirectory = binDirectory
            self.serverUser = serverUser
        }
    }

    /// The port number in the socket's name (`.s.PGSQL.5432`) when the server has no TCP port: libpq's
    /// default, so `psql -h <socket directory>` finds it. Nothing binds it, and the socket lives in a
    /// directory of its own, so other clusters on 5432 are no conflict.
    public static let socketOnlyPort = 5432

    /// The system-wide data directory used by root, whose home directory the unprivileged server user
    /// cannot enter.
    public static let rootDataDirectory = URL(fileURLWithPath: "/var/lib/reprogrid/postgres")

    /// The data directory used when none is configured: `$XDG_DATA_HOME/reprogrid/postgres`, by default
    /// `~/.local/share/reprogrid/postgres`. As root, a directory inside the home directory (normally
    /// `/root`, mode 0700) cannot work, because the server runs as another user who must traverse
    /// every parent, so root gets ``rootDataDirectory`` instead.
    public static func defaultDataDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        runningAsRoot: Bool = geteuid() == 0
    ) -> URL {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (runningAsRoot ? "/root" : "/tmp")
        let dataHome: String
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            dataHome = xdg
        } else {
            dataHome = home + "/.local/share"
        }
        let directory = URL(fileURLWithPath: dataHome).appendingPathComponent("reprogrid/postgres")
        let homePrefix = home.hasSuffix("/") ? home : home + "/"
        if runningAsRoot && (directory.path.hasPrefix(homePrefix) || directory.path.hasPrefix("/root/")) {
            return rootDataDirectory
        }
        return directory
    }
}
