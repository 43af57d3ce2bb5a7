import Crypto
import Foundation

/// API keys and worker tokens: random secrets given out once and stored only as their SHA-256.
public enum APIKey {
    /// A new secret: `rg_` and 32 random bytes in URL-safe base64 (256 bits; hashing without salt is
    /// safe at that entropy, and lets a lookup use the unique index directly).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "rg_" + text
    }

    /// The stored form of a key.
    public static func hash(_ key: String) -> Data {
        Data(SHA256.hash(data: Data(key.utf8)))
    }

    /// The first characters of a key, kept in clear so people can tell keys apart in listings.
    public static func prefix(_ key: String) -> String {
        String(key.prefix(10))
    }
}
