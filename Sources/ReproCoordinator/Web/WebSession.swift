import Foundation

/// A signed-in browser: who it is and the token its forms must carry.
public struct WebSession: Sendable, Equatable {
    /// The identity of the key the session was opened with.
    public var identity: Identity
    /// The CSRF token of every state-changing form of this session.
    public var csrfToken: String
    public var expiresAt: Date
}

/// Random tokens and constant-time comparison for sessions and CSRF.
enum WebToken {
    /// 32 random bytes, URL-safe base64 without padding.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Compares without stopping at the first difference, so timing does not reveal a prefix.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
