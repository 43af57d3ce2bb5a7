import Crypto
import Foundation
import ReproCore

/// The coordinator keys this worker trusts to sign what it runs (decision 0007), kept beside its token in
/// `WORK_DIR/private/coordinator-keys.json`.
///
/// They come from the volunteer (`--coordinator-key`) or, on the first start, from the coordinator itself
/// (trust on first use). Afterwards a key the coordinator presents is accepted only when a pinned key
/// endorsed it (``SigningKeyring/extending(_:)``: what `signing-key rotate` produces); a coordinator that
/// presents none of them is refused with a message saying so.
struct CoordinatorKeyPin: Codable, Sendable, Equatable {
    var coordinator: String
    var keys: [SigningKeyring.Entry]

    static func file(in workDirectory: URL) -> URL {
        WorkerCredentials.privateDirectory(in: workDirectory).appendingPathComponent("coordinator-keys.json")
    }

    /// The pinned keys by id.
    var publicKeys: [String: Curve25519.Signing.PublicKey] { SigningKeyring(keys: keys).publicKeys }

    /// How the pins were established at this start.
    enum Establishment: Equatable {
        /// Nothing was pinned: every key the coordinator presented is now.
        case trustedOnFirstUse([String])
        /// Pins existed (or were given); `added` are keys a pinned key endorsed.
        case confirmed(added: [String])
    }

    /// The pins after comparing `base` (given by the volunteer or saved earlier; nil on a first start) with
    /// the keys the coordinator presents. Throws, with what to do, when the coordinator presents no key
    /// the worker trusts: a coordinator key replaced without an endorsement, or an impostor.
    static func establish(
        coordinator: String, presented: SigningKeyring, base: [SigningKeyring.Entry]?
    ) throws -> (pin: CoordinatorKeyPin, how: Establishment) {
        guard let base else {
            let valid = presented.keys.filter { $0.key != nil }
            guard !valid.isEmpty else {
                throw WorkerError(
                    "the coordinator at \(coordinator) presents no signing key; it cannot sign what workers run")
            }
            return (CoordinatorKeyPin(coordinator: coordinator, keys: valid), .trustedOnFirstUse(valid.map(\.keyID)))
        }
        let pinned = SigningKeyring(keys: base).publicKeys
        let trusted = presented.extending(pinned)
        let presentedIDs = Set(presented.keys.map(\.keyID))
        guard !presentedIDs.isDisjoint(with: trusted.keys) else {
            throw WorkerError(
                """
                the coordinator at \(coordinator) presents signing key(s) \(presentedIDs.sorted().joined(separator: ", ")), \
                none of which this worker pinned (\(pinned.keys.sorted().joined(separator: ", "))) or a pinned key endorsed. \
                It may be an impostor, or its operator replaced the key. Refusing to run its tasks. If the operator confirms \
                the new key, pass it with --coordinator-key or delete the pin file to trust it again on first use.
                """)
        }
        let added = presented.keys.filter { pinned[$0.keyID] == nil && trusted[$0.keyID] != nil }
        return (CoordinatorKeyPin(coordinator: coordinator, keys: base + added), .confirmed(added: added.map(\.keyID)))
    }

    /// Keys given by the volunteer: a base64 Ed25519 public key, or a file holding the coordinator's
    /// `/v1/signing-keys` JSON or base64 keys one per line.
    static func parse(_ argument: String) throws -> [SigningKeyring.Entry] {
        var texts = [argument]
        if FileManager.default.fileExists(atPath: argument) {
            let data = try Data(contentsOf: URL(fileURLWithPath: argument))
            if let keyring = try? WireCoding.decoder().decode(SigningKeyring.self, from: data) {
                let valid = keyring.keys.filter { $0.key != nil }
                guard !valid.isEmpty else { throw WorkerError("--coordinator-key \(argument) holds no valid key") }
                return valid
            }
            texts = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        }
        var entries: [SigningKeyring.Entry] = []
        for text in texts.map({ $0.trimmingCharacters(in: .whitespaces) }) where !text.isEmpty && !text.hasPrefix("#") {
            guard let raw = Data(base64Encoded: text),
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else {
                throw WorkerError(
                    "--coordinator-key: \"\(text.prefix(60))\" is not a base64 Ed25519 public key (see GET /v1/signing-keys)"
                )
            }
            entries.append(.init(keyID: SigningKeyring.keyID(of: key), publicKey: text, createdAt: Date()))
        }
        guard !entries.isEmpty else { throw WorkerError("--coordinator-key holds no key") }
        return entries
    }

    /// The saved pins for this coordinator, if any.
    static func load(from workDirectory: URL, coordinator: String) -> CoordinatorKeyPin? {
        guard let data = try? Data(contentsOf: file(in: workDirectory)),
            let pin = try? WireCoding.decoder().decode(CoordinatorKeyPin.self, from: data),
            pin.coordinator == coordinator
        else { return nil }
        return pin
    }

    func save(in workDirectory: URL) throws {
        try WorkerCredentials.writePrivately(
            try WireCoding.encoder().encode(self), to: Self.file(in: workDirectory), in: workDirectory,
            what: "the pinned coordinator keys")
    }
}

/// The pins in use, shared by the running jobs; extended when a lease names a key the coordinator
/// endorsed after this worker started (a rotation while it runs).
final class PinnedKeys: Sendable {
    private let state: MutexBox<CoordinatorKeyPin>
    let workDirectory: URL

    init(_ pin: CoordinatorKeyPin, workDirectory: URL) {
        self.state = MutexBox(pin)
        self.workDirectory = workDirectory
    }

    var keys: [String: Curve25519.Signing.PublicKey] { state.value.publicKeys }

    /// Fetches the coordinator's keyring again and pins keys a pinned key endorsed; never drops a pin.
    func refresh(using fetch: () async throws -> SigningKeyring) async {
        guard let presented = try? await fetch() else { return }
        let current = state.value
        guard
            let extended = try? CoordinatorKeyPin.establish(
                coordinator: current.coordinator, presented: presented, base: current.keys),
            case .confirmed(let added) = extended.how, !added.isEmpty
        else { return }
        state.update { $0 = extended.pin }
        try? extended.pin.save(in: workDirectory)
    }
}
