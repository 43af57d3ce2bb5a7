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
        subcommands: [Serve.self, Migrate.self, Keys.self],
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
    @Flag(help: "Let anonymous callers read scores, funder/institution summaries, preprints and feedback of preprints with a completed study (default: off).")
    var publicRead = false
    @Option(help: "Quarantine a worker automatically once it has at least this many checked replicas and disagrees too often (default 20).")
    var quarantineMinChecks = 20
    @Option(help: "Disagreement rate (0 to 1) above which the automatic rule quarantines a worker (default 0.5).")
    var quarantineDisagreementRate = 0.5
    @Flag(help: "Never quarantine workers automatically; admins still can.")
    var noAutoQuarantine = false

    func validate() throws {
        guard quarantineMinChecks >= 1 else { throw ValidationError("--quarantine-min-checks must be at least 1.") }
        guard quarantineDisagreementRate.isFinite, (0...1).contains(quarantineDisagreementRate) else {
            throw ValidationError("--quarantine-disagreement-rate must be between 0 and 1.")
        }
    }

    func run() async throws {
        let logger = log.makeLogger(label: "repro.coordinator")
        var limits = SpecLimits.default
        limits.maxTasks = maxTasks
        let admin: AdminKeySource?
        do {
            admin = try AdminKeySource.resolve(
                commandLine: adminKey, file: adminKeyFile, environment: ProcessInfo.processInfo.environment)
        } catch let error as CoordinatorStartupError {
            throw ValidationError(error.description)
        }
        for warning in admin?.warnings ?? [] {
            logger.warning("\(warning)", metadata: ["repro.admin_key.origin": "\(admin!.origin.rawValue)"])
        }
        let configuration = CoordinatorConfiguration(
            host: host, port: port, database: database.database, migrationsDirectory: database.migrationsDir,
            policy: LeasePolicy(
                ttlSeconds: leaseTTL, backoffBaseSeconds: retryBackoff, reaperIntervalSeconds: reaperInterval),
            adminKey: admin?.key, specLimits: limits, publicRead: publicRead,
            automaticQuarantine: noAutoQuarantine
                ? nil
                : AutomaticQuarantineRule(
                    minChecks: quarantineMinChecks, maxDisagreementRate: quarantineDisagreementRate))
        do {
            let (app, _) = try await buildApplication(configuration: configuration, logger: logger)
            try await app.runService()
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
                return try await AccountRepository(client: client, logger: logger).createAccount(name: name, roles: roles)
            }
            print(created.key)
        }
    }
}
