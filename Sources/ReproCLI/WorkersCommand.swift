import ArgumentParser
import Foundation
import ReproClient
import ReproCore

/// `repro workers`: reliability of workers (admins: all; volunteers: their own) and quarantine (admins).
struct Workers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "Workers' reliability (replicas checked against each other) and quarantine.",
        subcommands: [List.self, Show.self, Quarantine.self, Release.self, Events.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "List workers with their reliability: every worker with an admin key, your own with a volunteer key.")

        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let client = try connection.client()
            let list: WorkerList = try await reporting { try await client.call(.GET, "/v1/workers") }
            if json { return try printJSON(list) }
            print(WorkersTable.render(list.workers))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one worker's reliability and quarantine.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Worker id.") var id: String

        func run() async throws {
            let worker = try parseUUID(id, what: "worker id")
            let client = try connection.client()
            let row: WorkerReliability = try await reporting {
                try await client.call(.GET, "/v1/workers/\(worker.uuidString)")
            }
            try printJSON(row)
        }
    }

    struct Quarantine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Quarantine a worker (or with --account, every worker of a volunteer account): no more tasks, its "
                + "accepted runs leave reports and scores, and their tasks are redone by other workers.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Worker id, or account id with --account.") var id: String
        @Flag(help: "ID is a volunteer account: quarantine all its workers.") var account = false
        @Option(help: "Why (recorded in the quarantine log).") var reason: String

        func run() async throws {
            let target = try parseUUID(id, what: account ? "account id" : "worker id")
            let client = try connection.client()
            let path = "/v1/\(account ? "accounts" : "workers")/\(target.uuidString)/quarantine"
            let outcome: QuarantineOutcome = try await reporting {
                try await client.call(.POST, path, json: QuarantineRequest(reason: reason))
            }
            print(
                "Quarantined \(outcome.workers.count) worker(s): \(outcome.runsExcluded) run(s) excluded, "
                    + "\(outcome.tasksRequeued) task(s) queued again.")
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a quarantine: excluded runs count again unless their task was redone meanwhile.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Worker id, or account id with --account.") var id: String
        @Flag(help: "ID is a volunteer account.") var account = false
        @Option(help: "Why (recorded in the quarantine log).") var reason = "released by an admin"

        func run() async throws {
            let target = try parseUUID(id, what: account ? "account id" : "worker id")
            let client = try connection.client()
            let path = "/v1/\(account ? "accounts" : "workers")/\(target.uuidString)/release"
            let outcome: QuarantineOutcome = try await reporting {
                try await client.call(.POST, path, json: QuarantineRequest(reason: reason))
            }
            print(
                "Released \(outcome.workers.count) worker(s): \(outcome.runsRestored) run(s) restored, "
                    + "\(outcome.runsSuperseded) superseded by a redo.")
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The quarantine log, newest first (admin).")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "How many entries (1 to 1000, default 100).") var limit = 100

        func run() async throws {
            let client = try connection.client()
            let list: QuarantineEventList = try await reporting {
                try await client.call(.GET, "/v1/quarantine/events?limit=\(limit)")
            }
            for event in list.events {
                let target =
                    event.workerID.map { "worker \($0.uuidString.lowercased())" }
                    ?? event.accountID.map { "account \($0.uuidString.lowercased())" } ?? "?"
                let actor = event.actor.map { $0.uuidString.lowercased() } ?? "automatic rule"
                print(
                    "\(event.at.formatted(.iso8601))  \(event.action)  \(target)  by \(actor)  "
                        + "excluded \(event.runsExcluded), restored \(event.runsRestored), requeued \(event.tasksRequeued)  "
                        + "— \(event.reason)")
            }
        }
    }
}

/// The table of `repro workers list`.
enum WorkersTable {
    static func render(_ workers: [WorkerReliability]) -> String {
        guard !workers.isEmpty else { return "No workers." }
        var lines = [
            "WORKER                                NAME              ACCEPTED  AGREE  DISAGREE  STREAK  RATE   STATUS"
        ]
        for worker in workers {
            let rate = worker.disagreementRate.map { String(format: "%.2f", $0) } ?? "-"
            let status = worker.quarantine.map { "quarantined (\($0.scope)): \($0.reason)" } ?? "ok"
            lines.append(
                worker.workerID.uuidString.lowercased().padding(toLength: 38, withPad: " ", startingAt: 0)
                    + String(worker.name.prefix(16)).padding(toLength: 18, withPad: " ", startingAt: 0)
                    + "\(worker.accepted)".padding(toLength: 10, withPad: " ", startingAt: 0)
                    + "\(worker.agreeing)".padding(toLength: 7, withPad: " ", startingAt: 0)
                    + "\(worker.disagreeing)".padding(toLength: 10, withPad: " ", startingAt: 0)
                    + "\(worker.consecutiveAgreeing)".padding(toLength: 8, withPad: " ", startingAt: 0)
                    + rate.padding(toLength: 7, withPad: " ", startingAt: 0) + status)
        }
        return lines.joined(separator: "\n")
    }
}

func parseUUID(_ text: String, what: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("\(text) is not a \(what) (a UUID).") }
    return id
}

func printJSON(_ value: some Encodable) throws {
    let encoder = WireCoding.encoder()
    encoder.outputFormatting.insert(.prettyPrinted)
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
