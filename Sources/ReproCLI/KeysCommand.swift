import ArgumentParser
import Foundation
import ReproClient
import ReproCore

/// `repro accounts keys list|create|revoke|rotate`: an account's API keys. Without `--account` the
/// caller's own; admins may name any account. New secrets are printed once, on the last line.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "List, create, revoke and rotate API keys.",
        subcommands: [List.self, Create.self, Revoke.self, Rotate.self])

    struct AccountOption: ParsableArguments {
        @Option(help: "Account id (default: the key's own account; admins may name any).")
        var account: String?

        func path() throws -> String {
            guard let account else { return "me" }
            guard UUID(uuidString: account) != nil else {
                throw ValidationError("--account \(account) is not an account id (a UUID).")
            }
            return account.lowercased()
        }
    }

    static func keyID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw ValidationError("\(text) is not a key id (a UUID from `repro accounts keys list`).")
        }
        return id
    }

    static func line(_ key: APIKeyInfo) -> String {
        func date(_ value: Date?) -> String { value.map { $0.formatted(.iso8601) } ?? "-" }
        return [
            key.id.uuidString.lowercased(), key.prefix + "…", key.state.rawValue, "created " + date(key.createdAt),
            "last used " + date(key.lastUsedAt), "expires " + date(key.expiresAt), key.label ?? "",
        ].joined(separator: "  ")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: id, prefix, state, created, last used, expiry.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var account: AccountOption

        func run() async throws {
            let client = try connection.client()
            let path = try account.path()
            let list = try await reporting { try await client.keys(account: path) }
            for key in list.keys { print(Keys.line(key)) }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create another key and print it once.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var account: AccountOption
        @Option(help: "A label to tell the key apart (1–100 characters).") var label: String?
        @Option(help: "Days until the key expires (1–3650; default: never).") var expiresInDays: Int?

        func run() async throws {
            let client = try connection.client()
            let path = try account.path()
            let created = try await reporting {
                try await client.createKey(account: path, label: label, expiresInDays: expiresInDays)
            }
            FileHandle.standardError.write(Data("created key \(Keys.line(created.info))\n".utf8))
            print(created.key)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key; it stops working within the coordinator's auth cache TTL (10 s by default).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var account: AccountOption
        @Argument(help: "Key id (from `list`).") var id: String

        func run() async throws {
            let client = try connection.client()
            let path = try account.path()
            let key = try Keys.keyID(id)
            let info = try await reporting { try await client.revokeKey(key, account: path) }
            print(Keys.line(info))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a key: print the new one once; the old one keeps working for the grace period.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var account: AccountOption
        @Argument(help: "Key id (from `list`).") var id: String
        @Option(help: "Seconds the old key stays valid (0–2592000; default 86400).") var graceSeconds: Int?
        @Option(help: "Days until the new key expires (default: never).") var expiresInDays: Int?

        func run() async throws {
            let client = try connection.client()
            let path = try account.path()
            let key = try Keys.keyID(id)
            let created = try await reporting {
                try await client.rotateKey(key, account: path, graceSeconds: graceSeconds, expiresInDays: expiresInDays)
            }
            if let old = created.replaces { FileHandle.standardError.write(Data("old key \(Keys.line(old))\n".utf8)) }
            FileHandle.standardError.write(Data("new key \(Keys.line(created.info))\n".utf8))
            print(created.key)
        }
    }
}
