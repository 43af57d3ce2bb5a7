import Foundation
import ReproCore

/// Everything `repro-coordinator serve` can be told.
public struct CoordinatorConfiguration: Sendable {
    /// Where the database is.
    public enum Database: Sendable {
        /// A server named by a `postgres://` URL (`DATABASE_URL`).
        case url(String)
        /// The coordinator's own cluster in a data directory (nil: the default directory), on a Unix
        /// socket only, or also on 127.0.0.1:`tcpPort` when one is given (`--embedded-postgres-port`).
        case embedded(dataDirectory: String?, tcpPort: Int? = nil)
    }

    public var host: String
    public var port: Int
    public var database: Database
    /// Folder of `NNNN_name.sql` files; nil searches the usual places (see ``MigrationsLocator``).
    public var migrationsDirectory: String?
    public var policy: LeasePolicy
    /// Key of the first admin account, when none exists yet; nil generates one and prints it once.
    public var adminKey: String?
    public var specLimits: SpecLimits
    /// How long a key lookup is cached (revocation delay).
    public var authCacheTTL: Duration
    /// Size of the PostgreSQL connection pool.
    public var maxConnections: Int
    /// Lets anonymous callers read the funders' routes (scores, summaries, preprints, feedback) for
    /// preprints with a completed study (`--public-read`); off by default.
    public var publicRead: Bool
    /// The longest a request waits on the database in all, and the longest one call of a background
    /// service may take (`--database-deadline`): past it the call is abandoned, its connection closed,
    /// and the request answered 503 with `Retry-After` (decision 0006).
    public var databaseDeadline: Duration
    /// How long SIGTERM/SIGINT may take to stop the coordinator (`--shutdown-grace`): requests and
    /// services get two thirds of it to finish, then they are cancelled, and the process ends by the
    /// end of it whatever the database does.
    public var shutdownGrace: Duration
    /// The Ed25519 private key that signs approved job manifests (`--signing-key`); nil: `signing.key`
    /// beside the embedded data directory (see ``SigningKeyStore/defaultKeyFile(dataDirectory:)``).
    public var signingKey: String?
    /// When a worker is quarantined automatically for disagreeing with other workers' replicas; nil never.
    public var automaticQuarantine: AutomaticQuarantineRule?
    /// Port of the separate `/metrics` server (`--metrics-port`); nil: no metrics server (decision 0012).
    public var metricsPort: Int? = nil
    /// Address the metrics server listens on (`--metrics-host`, default 127.0.0.1).
    public var metricsHost: String = "127.0.0.1"
    /// Marks the dashboard's session cookie `Secure` even on plain HTTP (`--cookie-secure`), for a
    /// coordinator behind a TLS-terminating proxy; requests that arrive over TLS get it anyway.
    public var cookieSecure = false

    /// The signing key file this configuration uses.
    public var signingKeyFile: URL {
        if let signingKey { return URL(fileURLWithPath: signingKey) }
        if case .embedded(let dataDirectory, _) = database { return SigningKeyStore.defaultKeyFile(dataDirectory: dataDirectory) }
        return SigningKeyStore.defaultKeyFile(dataDirectory: nil)
    }

    /// Creates a configuration with the defaults of `repro-coordinator serve`.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, database: Database = .embedded(dataDirectory: nil),
        migrationsDirectory: String? = nil, policy: LeasePolicy = LeasePolicy(), adminKey: String? = nil,
        specLimits: SpecLimits = .default, authCacheTTL: Duration = .seconds(10), maxConnections: Int = 20,
        publicRead: Bool = false, databaseDeadline: Duration = .seconds(10), shutdownGrace: Duration = .seconds(15),
        signingKey: String? = nil, automaticQuarantine: AutomaticQuarantineRule? = AutomaticQuarantineRule()
    ) {
        self.signingKey = signingKey
        self.automaticQuarantine = automaticQuarantine
        self.host = host
        self.port = port
        self.database = database
        self.migrationsDirectory = migrationsDirectory
        self.policy = policy
        self.adminKey = adminKey
        self.specLimits = specLimits
        self.authCacheTTL = authCacheTTL
        self.maxConnections = maxConnections
        self.publicRead = publicRead
        self.databaseDeadline = databaseDeadline
        self.shutdownGrace = shutdownGrace
    }
}

/// Finds the `migrations` folder: an explicit path, `$REPRO_MIGRATIONS_DIR`, `./migrations`, next to
/// the executable's package checkout (`.build/<config>/` → `../../migrations`), or the installed copy.
public enum MigrationsLocator {
    /// The folder to apply migrations from.
    public static func locate(_ explicit: String?) throws -> URL {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let env = ProcessInfo.processInfo.environment["REPRO_MIGRATIONS_DIR"] { candidates.append(env) }
        candidates.append(FileManager.default.currentDirectoryPath + "/migrations")
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appendingPathComponent("migrations").path)
            folder = folder.deletingLastPathComponent()
        }
        candidates.append("/usr/share/reprogrid/migrations")
        for path in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                if explicit == nil || path == explicit {
                    return URL(fileURLWithPath: path)
                }
            } else if path == explicit {
                throw CoordinatorStartupError("migrations folder \(path) does not exist; pass --migrations-dir with the folder holding 0001_init.sql")
            }
        }
        throw CoordinatorStartupError(
            "no migrations folder found (looked in \(candidates.joined(separator: ", "))); pass --migrations-dir or set REPRO_MIGRATIONS_DIR")
    }
}

/// A start-up failure with a message that says what to do.
public struct CoordinatorStartupError: Error, CustomStringConvertible {
    public var description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}
