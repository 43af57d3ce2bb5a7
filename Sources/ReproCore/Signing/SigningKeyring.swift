import Crypto
import Foundation

/// The coordinator's public signing keys, as `GET /v1/signing-keys` publishes them and as the coordinator
/// keeps them beside its private key (decision 0007).
///
/// A key made by rotation is *endorsed* by the key before it: the old private key signs the new public
/// key. A worker that pinned the old key can then trust the new one without anyone copying it around,
/// while a key nobody it pinned endorsed (an attacker's, or a coordinator reinstalled from scratch)
/// is refused.
public struct SigningKeyring: Codable, Sendable, Equatable {
    public var keys: [Entry]

    /// One public key.
    public struct Entry: Codable, Sendable, Equatable {
        /// ``SigningKeyring/keyID(of:)`` of the key.
        public var keyID: String
        /// The raw 32-byte Ed25519 public key, base64.
        public var publicKey: String
        public var createdAt: Date
        /// The key that endorsed this one (the current key when it was rotated), if any.
        public var endorsedBy: String?
        /// That key's signature over ``SigningKeyring/endorsementMessage(for:)``, base64.
        public var endorsement: String?

        enum CodingKeys: String, CodingKey {
            case keyID = "key_id"
            case publicKey = "public_key"
            case createdAt = "created_at"
            case endorsedBy = "endorsed_by"
            case endorsement
        }

        /// Creates an entry.
        public init(
            keyID: String, publicKey: String, createdAt: Date, endorsedBy: String? = nil, endorsement: String? = nil
        ) {
            self.keyID = keyID
            self.publicKey = publicKey
            self.createdAt = createdAt
            self.endorsedBy = endorsedBy
            self.endorsement = endorsement
        }

        /// The entry of `key`, endorsed by `endorser` (the key current when `key` was made by rotation).
        public init(key: Curve25519.Signing.PublicKey, createdAt: Date, endorser: Curve25519.Signing.PrivateKey? = nil)
            throws
        {
            self.init(
                keyID: SigningKeyring.keyID(of: key), publicKey: key.rawRepresentation.base64EncodedString(),
                createdAt: createdAt, endorsedBy: endorser.map { SigningKeyring.keyID(of: $0.publicKey) },
                endorsement: try endorser.map {
                    try $0.signature(for: SigningKeyring.endorsementMessage(for: key)).base64EncodedString()
                })
        }

        /// The key itself, when `publicKey` is a valid Ed25519 key whose id is `keyID`.
        public var key: Curve25519.Signing.PublicKey? {
            guard let raw = Data(base64Encoded: publicKey),
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
                SigningKeyring.keyID(of: key) == keyID
            else { return nil }
            return key
        }
    }

    /// Creates a keyring.
    public init(keys: [Entry]) { self.keys = keys }

    /// The first 16 hex digits of the SHA-256 of the raw public key: short enough to read, long enough
    /// that two keys of one coordinator never share it.
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        String(BundleArchive.sha256Hex(key.rawRepresentation).prefix(16))
    }

    /// What an endorsing key signs: a fixed prefix, so an endorsement can never be mistaken for a
    /// manifest signature, and the new raw key.
    public static func endorsementMessage(for key: Curve25519.Signing.PublicKey) -> Data {
        Data("reprogrid-signing-key-endorsement-v1:".utf8) + key.rawRepresentation
    }

    /// `pinned` extended by every key of this keyring that a key already in the set endorsed, transitively
    /// (A endorses B, B endorses C). Keys nobody pinned endorsed are left out.
    public func extending(_ pinned: [String: Curve25519.Signing.PublicKey]) -> [String: Curve25519.Signing.PublicKey] {
        var trusted = pinned
        var changed = true
        while changed {
            changed = false
            for entry in keys where trusted[entry.keyID] == nil {
                guard let key = entry.key, let endorser = entry.endorsedBy.flatMap({ trusted[$0] }),
                    let signature = entry.endorsement.flatMap({ Data(base64Encoded: $0) }),
                    endorser.isValidSignature(signature, for: Self.endorsementMessage(for: key))
                else { continue }
                trusted[entry.keyID] = key
                changed = true
            }
        }
        return trusted
    }

    /// Every well-formed key by id (for trust on first use, or the coordinator's own checks).
    public var publicKeys: [String: Curve25519.Signing.PublicKey] {
        Dictionary(
            keys.compactMap { entry in entry.key.map { (entry.keyID, $0) } }, uniquingKeysWith: { first, _ in first })
    }
}

/// A manifest's signature as stored with the study and carried by the lease.
public struct ManifestSignature: Codable, Sendable, Hashable {
    /// Ed25519 signature over ``JobManifest/canonicalJSON()``, base64.
    public var signature: String
    /// Which key made it.
    public var keyID: String

    enum CodingKeys: String, CodingKey {
        case signature
        case keyID = "key_id"
    }

    /// Creates a signature record.
    public init(signature: String, keyID: String) {
        self.signature = signature
        self.keyID = keyID
    }

    /// Whether this signature by a key in `keys` covers `manifest` exactly.
    public func verifies(_ manifest: JobManifest, with keys: [String: Curve25519.Signing.PublicKey]) -> Bool {
        guard let key = keys[keyID], let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(bytes, for: manifest.canonicalJSON())
    }
}
