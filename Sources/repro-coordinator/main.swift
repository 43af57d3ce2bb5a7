import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ReproCoordinator
import ReproCore

/// `repro-coordinator`: serve the API, apply migrations, create keys.
@main
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro-coordinator",
        abstract: "The ReproGrid coordinator: hands replication-study tasks to workers and computes reports.",
        version: "0.1.0",
        subcommands: [Serve.self, Migrate.self, Keys.self, SigningKey.self],
        defaultSubcommand: Serve.self)
}

/// Options every subcommand that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (postgres://user:pass@host:port/db). Default: $DATABASE_URL, else the embedded cluster.")
    var databaseURL: String?

    @Option(help: "Data directory of the embedded PostgreSQL (default: ~/.local/share/reprogrid/postgres, or /var/lib/reprogrid/postgres as root).")
    var dataDir: String?

    @Option(help: "Folder of migration files (default: $REPRO_MIGRATIONS_DIR, ./migrations, or next to the executable).")
    var migrationsDir: String?

    @Option(
        help: """
            Also let the embedded PostgreSQL listen on 127.0.0.1 at this TCP port (password authentication, \
            like its Unix socket). Default: no TCP, the Unix socket only.
            """)
    var embeddedPostgresPort: Int?

    private var url: String? {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }

    var database: CoordinatorConfiguration.Database {
        if let url { return .url(url) }
        return .embedded(dataDirectory: dataDir, tcpPort: embeddedPostgresPort)
    }

    func validate() throws {
        guard let port = embeddedPostgresPort else { return }
        guard (1...65535).contains(port) else {
            throw ValidationError("--embedded-postgres-port must be between 1 and 65535, got \(port).")
        }
        if url != nil {
            throw ValidationError(
                "--embedded-postgres-port applies to the embedded PostgreSQL only, not to --database-url/DATABASE_URL.")
        }
    }
}

/// Logging options.
struct LogOptions: ParsableArguments {
    @Option(help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func makeLogger(label: String) -> Logger {
        LogSetup.bootstrap(format: logFormat, level: logLevel)
        return Logger(label: label)
    }
}

extension LogFormat: ExpressibleByArgument {}
// An invalid --log-level is a usage error listing the levels, not a silent `info`.
extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API (the default command).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Lease time-to-live in seconds; workers heartbeat every third of it.") var leaseTTL: Double = 60
    @Option(help: "Seconds between reaper passes.") var reaperInterval: Double = 5
    @Option(help: "Backoff before the second attempt of a failed task, in seconds (doubles per attempt).")
    var retryBackoff: Double = 5
    @Option(
        help: """
            Initial admin key when no admin exists. Visible to every local user in ps and /proc: prefer \
            --admin-key-file or $REPRO_ADMIN_KEY. Default: $REPRO_ADMIN_KEY, else generated and printed once.
            """)
    var adminKey: String?
    @Option(help: "File holding the initial admin key (mode 0600), read instead of --admin-key or $REPRO_ADMIN_KEY.")
    var adminKeyFile: String?
    @Option(help: "Most tasks one study may expand into.") var maxTasks = 10_000
    @Option(help: "Largest study spec accepted, in bytes (default 262144, 256 KiB); larger ones get 413.")
    var maxSpecBytes = 256 << 10
    @Option(help: "Largest lease answer, in bytes (default 1048576); leases past it are handed back at once.")
    var maxLeaseResponseBytes = 1 << 20
    @Flag(help: "Let anonymous callers read scores, funder/institution summaries, preprints and feedback of preprints with a completed study (default: off).")
    var publicRead = false
    @Option(help: "Seconds a request may wait on the database in all (and one database call of a background service): past it the call is abandoned and the request answered 503 with Retry-After.")
    var databaseDeadline: Double = 10
    @Option(help: "Seconds SIGTERM/SIGINT may take to stop the coordinator, whatever the database does.")
    var shutdownGrace: Double = 15
    @Option(help: "Ed25519 key that signs approved studies (mode 0600; generated at the first start). Default: signing.key beside the embedded data directory (~/.local/share/reprogrid, or /var/lib/reprogrid as root). Replicas must share it.")
    var signingKey: String?
    @Option(help: "Quarantine a worker automatically once it has at least this many checked replicas and disagrees too often (default 20).")
    var quarantineMinChecks = 20
    @Option(help: "Disagreement rate (0 to 1) above which the automatic rule quarantines a worker (default 0.5).")
    var quarantineDisagreementRate = 0.5
    @Flag(help: "Never quarantine workers automatically; admins still can.")
    var noAutoQuarantine = false
    @Option(help: "Serve Prometheus metrics (GET /metrics, no key) on this port, separate from the API (default: off; decision 0012).")
    var metricsPort: Int?
    @Option(help: "Address the metrics server listens on. Anyone who can reach it reads the metrics.")
    var metricsHost = "127.0.0.1"
    @Flag(help: "Mark the dashboard's session cookie Secure even on plain HTTP (behind a TLS-terminating proxy).")
    var cookieSecure = false

    func validate() throws {
        guard databaseDeadline > 0, databaseDeadline.isFinite else {
            throw ValidationError("--database-deadline must be a positive number of seconds.")
        }
        guard shutdownGrace >= 1, shutdownGrace.isFinite else {
            throw ValidationError("--shutdown-grace must be at least 1 second.")
        }
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535, got \(metricsPort).")
        }
        guard maxSpecBytes >= 1024 else { throw ValidationError("--max-spec-bytes must be at least 1024.") }
        guard maxLeaseResponseBytes >= 1024 else {
            throw ValidationError("--max-lease-response-bytes must be at least 1024.")
        }
        guard quarantineMinChecks >= 1 else { throw ValidationError("--quarantine-min-checks must be at least 1.") }
        guard quarantineDisagreementRate.isFinite, (0...1).contains(quarantineDisagreementRate) else {
            throw ValidationError("--quarantine-disagreement-rate must be between 0 and 1.")
        }
    }

    func run() async throws {
        let logger = log.makeLogger(label: "repro.coordinator")
        var limits = SpecLimits.default
        limits.maxTasks = maxTasks
        limits.maxSpecBytes = maxSpecBytes
        let admin: AdminKeySource?
        do {
            admin = try AdminKeySource.resolve(
                commandLine: adminKey, file: adminKeyFile, environment: ProcessInfo.processInfo.environment)
        } catch let error as CoordinatorStartupError {
            throw ValidationError(error.description)
        }
        if let admin {
            for warning in admin.warnings {
                logger.warning("\(warning)", metadata: ["repro.admin_key.origin": "\(admin.origin.rawValue)"])
            }
        }
        var policy = LeasePolicy(
            ttlSeconds: leaseTTL, backoffBaseSeconds: retryBackoff, reaperIntervalSeconds: reaperInterval)
        policy.maxResponseBytes = maxLeaseResponseBytes
        var configuration = CoordinatorConfiguration(
            host: host, port: port, database: database.database, migrationsDirectory: database.migrationsDir,
            policy: policy,
            adminKey: admin?.key, specLimits: limits, publicRead: publicRead,
            databaseDeadline: .milliseconds(Int(databaseDeadline * 1000)),
            shutdownGrace: .milliseconds(Int(shutdownGrace * 1000)), signingKey: signingKey,
            automaticQuarantine: noAutoQuarantine
                ? nil
                : AutomaticQuarantineRule(
                    minChecks: quarantineMinChecks, maxDisagreementRate: quarantineDisagreementRate))
        configuration.metricsPort = metricsPort
        configuration.metricsHost = metricsHost
        configuration.cookieSecure = cookieSecure
        do {
            let (app, _) = try await buildApplication(configuration: configuration, logger: logger)
            try await runCoordinator(app, configuration: configuration, logger: logger)
        } catch let error as CoordinatorStartupError {
            throw ValidationError(error.description)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations and exit.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = log.makeLogger(label: "repro.migrate")
        let applied = try await DatabaseSession.with(database.database, logger: logger) { client in
            try await MigrationRunner(directory: try MigrationsLocator.locate(database.migrationsDir), logger: logger)
                .apply(using: client)
        }
        print(applied.isEmpty ? "Schema is up to date." : "Applied \(applied.count) migration(s).")
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage accounts and API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account with the given roles and print its API key (shown once).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var log: LogOptions

        @Option(name: .customLong("role"), help: "A role (admin, researcher, volunteer, funder, moderator, community); repeat for several.")
        var roles: [String]

        @Option(help: "A name for the account.") var name = "cli"

        func validate() throws {
            for role in roles {
                guard let parsed = Role(rawValue: role), parsed != .worker else {
                    throw ValidationError("--role \(role) is not one of admin, researcher, volunteer, funder, moderator, community.")
                }
            }
        }

        func run() async throws {
            let logger = log.makeLogger(label: "repro.keys")
            let roles = self.roles.compactMap(Role.init(rawValue:))
            let created = try await DatabaseSession.with(database.database, logger: logger) { client in
                try await MigrationRunner(directory: try MigrationsLocator.locate(database.migrationsDir), logger: logger)
                    .apply(using: client)
                return try await AccountRepository(client: DatabaseClient(client, logger: logger), logger: logger)
                    .createAccount(name: name, roles: roles)
            }
            print(created.key)
        }
    }
}

struct SigningKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-key", abstract: "Show or rotate the key that signs approved studies.",
        subcommands: [Show.self, Rotate.self])

    struct KeyOptions: ParsableArguments {
        @Option(help: "The signing key file (default: signing.key beside the embedded data directory).")
        var signingKey: String?
        @Option(help: "Data directory of the embedded PostgreSQL, to find the default key beside it.")
        var dataDir: String?

        var store: SigningKeyStore {
            SigningKeyStore(
                keyFile: signingKey.map { URL(fileURLWithPath: $0) } ?? SigningKeyStore.defaultKeyFile(dataDirectory: dataDir))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the keyring: every public key, the current one last (creates the key if missing).")
        @OptionGroup var options: KeyOptions

        func run() throws {
            let store = options.store
            let current = try store.prepare()
            for entry in try store.readKeyring().keys {
                let endorsed = entry.endorsedBy.map { " (endorsed by \($0))" } ?? ""
                print("\(entry.keyID)  \(entry.publicKey)\(entry.keyID == current ? "  current" : "")\(endorsed)")
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new signing key, endorsed by the current one; old public keys stay in the keyring.",
            discussion: """
                Running coordinators sign with the new key from their next approval on (the key file is read \
                at each signature). Studies signed before stay verifiable with the old public key; workers that \
                pinned the old key accept the new one because the old key endorsed it.
                """)
        @OptionGroup var options: KeyOptions

        func run() throws {
            let rotated = try options.store.rotate()
            print("signing key rotated: \(rotated.old) -> \(rotated.new) (\(rotated.old) kept for verification)")
        }
    }
}
