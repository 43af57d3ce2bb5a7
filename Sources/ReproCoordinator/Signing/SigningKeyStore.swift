import Crypto
import Foundation
import ReproCore

#if canImport(Glibc)
    import Glibc
#endif

/// The coordinator's Ed25519 signing key: a file outside the database (mode 0600) and, beside it, the
/// keyring of every public key it ever had (`<key>.keyring.json`), so studies signed before a rotation
/// stay verifiable (decision 0007).
///
/// The key lives in a file, not in PostgreSQL, so that whoever can write the database (a leaked
/// connection string, an SQL injection) still cannot sign a manifest. The keyring is a file for the same
/// reason: a public key added to a database table would be one that workers trust on first use.
/// The private key is read again at each signature: approvals are rare, and `signing-key rotate` then
/// takes effect on every running replica without a restart.
public struct SigningKeyStore: Sendable {
    /// The private key file.
    public let keyFile: URL

    /// The keyring file beside the key.
    public var keyringFile: URL { URL(fileURLWithPath: keyFile.path + ".keyring.json") }

    /// Creates the store; nothing is read or written until ``prepare()``.
    public init(keyFile: URL) { self.keyFile = keyFile }

    /// `signing.key` beside the embedded data directory (`~/.local/share/reprogrid/signing.key`, or
    /// `/var/lib/reprogrid/signing.key` as root) when none is given.
    public static func defaultKeyFile(dataDirectory: String?) -> URL {
        let data = dataDirectory.map { URL(fileURLWithPath: $0) } ?? EmbeddedPostgres.defaultDataDirectory()
        return data.deletingLastPathComponent().appendingPathComponent("signing.key")
    }

    /// Makes sure a key exists (generating one at the first start), that its file is private, and that
    /// the keyring lists it. Safe for replicas starting together: the key is created with `link`, which
    /// fails for all but one of them, and the others read the winner's key.
    @discardableResult
    public func prepare() throws -> String {
        try FileManager.default.createDirectory(
            at: keyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: keyFile.path) {
            try Self.createExclusively(Self.encode(Curve25519.Signing.PrivateKey()), at: keyFile)
        }
        let key = try currentKey()
        let id = SigningKeyring.keyID(of: key.publicKey)
        var keyring = try readKeyring()
        if !keyring.keys.contains(where: { $0.keyID == id }) {
            keyring.keys.append(
                .init(keyID: id, publicKey: key.publicKey.rawRepresentation.base64EncodedString(), createdAt: Date()))
            try writeKeyring(keyring)
        }
        return id
    }

    /// The current private key; refuses a key file that others may read.
    public func currentKey() throws -> Curve25519.Signing.PrivateKey {
        var info = stat()
        guard stat(keyFile.path, &info) == 0 else {
            throw CoordinatorStartupError(
                "cannot read the signing key \(keyFile.path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CoordinatorStartupError(
                "the signing key \(keyFile.path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 on it"
            )
        }
        let text = try String(contentsOf: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw CoordinatorStartupError("the signing key \(keyFile.path) is not a base64 Ed25519 private key")
        }
        return key
    }

    /// Signs a manifest with the current key.
    public func sign(_ manifest: JobManifest) throws -> ManifestSignature {
        let key = try currentKey()
        let signature = try key.signature(for: manifest.canonicalJSON())
        return ManifestSignature(
            signature: signature.base64EncodedString(), keyID: SigningKeyring.keyID(of: key.publicKey))
    }

    /// Every public key, old ones included.
    public func readKeyring() throws -> SigningKeyring {
        guard FileManager.default.fileExists(atPath: keyringFile.path) else { return SigningKeyring(keys: []) }
        return try WireCoding.decoder().decode(SigningKeyring.self, from: Data(contentsOf: keyringFile))
    }

    /// Makes a new key, endorsed by the current one, and keeps the old public key in the keyring: studies
    /// it signed stay verifiable, and workers that pinned it accept the new key through the endorsement.
    /// Returns (old id, new id).
    public func rotate() throws -> (old: String, new: String) {
        try prepare()
        let old = try currentKey()
        let new = Curve25519.Signing.PrivateKey()
        let oldID = SigningKeyring.keyID(of: old.publicKey)
        let newID = SigningKeyring.keyID(of: new.publicKey)
        var keyring = try readKeyring()
        keyring.keys.append(try .init(key: new.publicKey, createdAt: Date(), endorser: old))
        // The keyring first: a crash between the two writes leaves an unused public key, never a key
        // that signs what no keyring lists.
        try writeKeyring(keyring)
        try PrivateFile.write(Self.encode(new), to: keyFile, owner: nil)
        return (oldID, newID)
    }

    func writeKeyring(_ keyring: SigningKeyring) throws {
        let data = try WireCoding.encoder().encode(keyring)
        try PrivateFile.write(String(decoding: data, as: UTF8.self) + "\n", to: keyringFile, owner: nil)
    }

    static func encode(_ key: Curve25519.Signing.PrivateKey) -> String {
        key.rawRepresentation.base64EncodedString() + "\n"
    }

    /// Writes `contents` (mode 0600) at `url` unless a file is already there.
    static func createExclusively(_ contents: String, at url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        try PrivateFile.write(contents, to: temporary, owner: nil)
        defer { unlink(temporary.path) }
        if link(temporary.path, url.path) != 0 && errno != EEXIST {
            throw CoordinatorStartupError(
                "cannot create the signing key \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
