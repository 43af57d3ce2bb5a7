import ArgumentParser
import Foundation
import ReproClient
import ReproCore

/// `repro review`: the moderators' commands (moderator or admin key).
struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Review studies before any volunteer runs them (moderator or admin key).",
        subcommands: [List.self, Show.self, Approve.self, Reject.self, Log.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List studies waiting for review, oldest first.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let client = try connection.client()
            let items = try await reporting { try await client.pendingReviews() }
            if items.isEmpty { print("No study waits for review.") }
            for item in items {
                print(
                    "\(item.studyID.uuidString.lowercased())  \(item.preprintID)  \(item.taskCount) tasks\(item.maxTaskCount.map { " (adaptive: up to \($0))" } ?? "")  by \(item.submitterName) "
                        + "(\(item.submitter.uuidString.lowercased()))  \(item.title)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a study would run: files, texts, requirements, command, resources, submitter.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Study id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try connection.client()
            let document = try await reporting { try await client.reviewDocument(try parseStudyID(id)) }
            if json {
                print(String(decoding: try WireCoding.encoder().encode(document), as: UTF8.self))
            } else {
                print(ReviewRenderer.render(document))
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a pending study: the coordinator signs its job manifest and its tasks are handed out.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Study id.") var id: String
        @Option(help: "A note for the audit log.") var reason: String?

        func run() async throws {
            let client = try connection.client()
            let status = try await reporting { try await client.approveStudy(try parseStudyID(id), note: reason) }
            print("Approved: \(ProgressWatcher.describe(status))")
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a pending study; its owner sees the reason, and nothing of it runs.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Study id.") var id: String
        @Option(help: "Why (shown to the study's owner; required).") var reason: String

        func run() async throws {
            let client = try connection.client()
            let status = try await reporting { try await client.rejectStudy(try parseStudyID(id), reason: reason) }
            print("Rejected: \(ProgressWatcher.describe(status))")
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the moderation audit log, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Only this study's entries.") var study: String?
        @Option(help: "Most entries (1–1000).") var limit = 100

        func run() async throws {
            let client = try connection.client()
            let studyID = try study.map(parseStudyID)
            let entries = try await reporting { try await client.moderationLog(study: studyID, limit: limit) }
            for entry in entries {
                let actor = entry.actor.map { $0.uuidString.lowercased() } ?? "coordinator"
                let subject =
                    entry.studyID.map { "study \($0.uuidString.lowercased())" }
                    ?? entry.accountID.map { "account \($0.uuidString.lowercased())" } ?? ""
                let at = entry.at.formatted(.iso8601)
                print("\(at)  \(entry.action)  \(subject)  by \(actor)" + (entry.reason.map { "  — \($0)" } ?? ""))
            }
        }
    }
}
