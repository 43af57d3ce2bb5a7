import ArgumentParser
import Foundation
import ReproClient
import ReproCore

/// `repro`: the command line of researchers, funders and admins.
public struct ReproCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Submit replication studies to a ReproGrid coordinator, follow them and read their reports.",
        version: "0.1.0",
        subcommands: [
            Submit.self, Status.self, Watch.self, Report.self, Cancel.self, Score.self, Accounts.self,
            Feedback.self, Scores.self, Review.self, Workers.self, Plan.self,
        ])

    /// Creates the command (ArgumentParser).
    public init() {}
}

/// Where the coordinator is and which key to use.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Coordinator URL (default: $REPRO_COORDINATOR, else http://127.0.0.1:8080).")
    var coordinator: String?

    @Option(help: "API key (default: $REPRO_KEY).")
    var key: String?

    func client() throws -> CoordinatorClient {
        let environment = ProcessInfo.processInfo.environment
        let url = coordinator ?? environment["REPRO_COORDINATOR"] ?? "http://127.0.0.1:8080"
        guard let key = key ?? environment["REPRO_KEY"], !key.isEmpty else {
            throw ValidationError("No API key: pass --key or set REPRO_KEY (an admin creates keys with `repro-coordinator keys create --role researcher`).")
        }
        return CoordinatorClient(baseURL: url, key: key)
    }
}

/// Runs a client call and turns its errors into a clean message and exit code 1.
func reporting<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CoordinatorClientError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a study spec (YAML or JSON); packs and uploads a local code bundle first.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The study spec file.") var file: String
    @Flag(help: "Follow the study with a progress bar until it ends, then print the report.") var watch = false
    @Flag(
        name: .customLong("new"),
        help: "Run the spec as a new study even if you already submitted the identical spec (its runs then count again).")
    var allowDuplicate = false

    func run() async throws {
        let client = try connection.client()
        let created = try await reporting {
            try await StudySubmitter(client: client).submit(specFile: URL(fileURLWithPath: file), allowDuplicate: allowDuplicate)
        }
        if created.existing {
            FileHandle.standardError.write(
                Data(
                    ("You already submitted this exact spec as study \(created.id.uuidString.lowercased()); nothing is run again. "
                        + "Pass --new to run it as a separate study.\n").utf8))
        }
        if created.state == .pendingReview {
            FileHandle.standardError.write(
                Data(
                    ("The study waits for a moderator's review (`repro review approve`); its tasks run once it is approved.\n").utf8))
        }
        print(created.id.uuidString.lowercased())
        if watch {
            let status = try await reporting { try await ProgressWatcher(client: client).watch(created.id) }
            if status.state == .completed {
                let report = try await reporting { try await client.reportData(created.id) }
                print(try ReportRenderer.render(reportJSON: report))
            }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a study's state and task counts.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Study id.") var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try connection.client()
        let status = try await reporting { try await client.study(try parseStudyID(id)) }
        if json {
            print(String(decoding: try WireCoding.encoder().encode(status), as: UTF8.self))
        } else {
            print(ProgressWatcher.describe(status))
        }
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a live progress bar until the study ends.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Study id.") var id: String

    func run() async throws {
        let client = try connection.client()
        let status = try await reporting { try await ProgressWatcher(client: client).watch(try parseStudyID(id)) }
        if status.tasks.failed > 0 { throw ExitCode(2) }
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a study's reproducibility report.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Study id.") var id: String
    @Flag(help: "Print the report as JSON (the API's document).") var json = false
    @Option(help: "Write the study page as one self-contained HTML file (inline CSS and SVG) to this path.")
    var html: String?

    func run() async throws {
        let client = try connection.client()
        let data = try await reporting { try await client.reportData(try parseStudyID(id)) }
        if let html {
            // The dashboard renders it, under the same roles as the report: one template, one truth.
            let page = try await reporting { try await client.standaloneStudyPage(try parseStudyID(id)) }
            do {
                try page.write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                throw ValidationError("could not write \(html): \(error.localizedDescription)")
            }
            print("Wrote \(html) (\(page.count) bytes).")
            return
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(try ReportRenderer.render(reportJSON: data))
        }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a running study (owner or admin).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Study id.") var id: String

    func run() async throws {
        let client = try connection.client()
        let status = try await reporting { try await client.cancelStudy(try parseStudyID(id)) }
        print("Cancelled: \(ProgressWatcher.describe(status))")
    }
}

struct Score: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a preprint's reproducibility score.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Preprint id (arXiv id or DOI).") var preprint: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let client = try connection.client()
        let data = try await reporting { try await client.scoreData(preprint) }
        if json {
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(try ReportRenderer.renderScore(scoreJSON: data))
        }
    }
}

struct Accounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Manage accounts (admin key needed) and API keys (your own, or any as admin).",
        subcommands: [Create.self, Trust.self, Keys.self])

    struct Trust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark an account trusted: its studies are approved at submission, without review.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Account id.") var id: String
        @Flag(help: "Take the trust back: the account's next studies wait for review again.") var revoke = false
        @Option(help: "Why, for the audit log.") var reason: String?

        func run() async throws {
            guard let account = UUID(uuidString: id) else { throw ValidationError("\(id) is not an account id (a UUID).") }
            let client = try connection.client()
            let trust = try await reporting { try await client.setTrusted(account, trusted: !revoke, reason: reason) }
            print("account \(trust.accountID.uuidString.lowercased()) is \(trust.trusted ? "trusted" : "not trusted")")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account and print its API key once.")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Account name.") var name: String
        @Option(name: .customLong("role"), help: "Role (researcher, volunteer, funder, moderator, community, admin); repeatable.")
        var roles: [String]

        func run() async throws {
            let parsed = try roles.map { role -> Role in
                guard let value = Role(rawValue: role), value != .worker else {
                    throw ValidationError("--role \(role) is not a role (researcher, volunteer, funder, moderator, community, admin).")
                }
                return value
            }
            let client = try connection.client()
            let created = try await reporting { try await client.createAccount(name: name, roles: parsed) }
            print(created.key)
        }
    }
}

func parseStudyID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("\(text) is not a study id (a UUID).") }
    return id
}
