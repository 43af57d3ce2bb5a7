import Foundation
import PostgresNIO

/// A PostgreSQL connection URL such as `DATABASE_URL`, parsed the way libpq reads it.
///
/// Accepted forms:
/// - `postgres://user:password@host:port/database` (or `postgresql://`), each part percent-decoded;
/// - `?host=/path/to/socketdir` for a Unix socket (libpq's convention: the socket file is
///   `DIR/.s.PGSQL.PORT`, with the port from the URL, default 5432);
/// - `?sslmode=disable|prefer|require|verify-full`, and also `port`, `user`, `password`, `dbname`,
///   `application_name` and `connect_timeout` (seconds) as query parameters, which override the URL parts.
///
/// Without `sslmode`, TLS is disabled for loopback hosts and sockets and preferred elsewhere. Like
/// libpq, `prefer` and `require` encrypt without checking the server's certificate (managed
/// databases often use private CAs); `verify-full` checks it against the system's trust roots.
/// A missing user name defaults to the operating-system user, as in libpq.
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// Whether and how to use TLS.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Never use TLS.
        case disable
        /// Use TLS if the server offers it, without verifying its certificate.
        case prefer
        /// Require TLS, without verifying the server's certificate (libpq's meaning).
        case require
        /// Require TLS and verify the certificate chain and host name.
        case verifyFull = "verify-full"
    }

    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        /// A TCP host name or address and port.
        case tcp(host: String, port: Int)
        /// A Unix socket in `directory`; the socket file's name carries the port.
        case unixSocket(directory: String, port: Int)
    }

    /// Where to connect.
    public var endpoint: Endpoint
    /// The user name to log in as.
    public var username: String
    /// The password, if the URL has one.
    public var password: String?
    /// The database to open; `nil` lets the server pick (the user name).
    public var database: String?
    /// The TLS mode the URL asked for, or `nil` for the default (see the type's documentation).
    public var sslMode: SSLMode?
    /// `application_name` shown in `pg_stat_activity`, if given.
    public var applicationName: String?
    /// How long to wait for a connection, if `connect_timeout` was given.
    public var connectTimeout: Duration?

    /// Creates a URL for a Unix socket, as used by the embedded server and the test clusters.
    public init(socketDirectory: String, port: Int, username: String, password: String? = nil, database: String?) {
        self.endpoint = .unixSocket(directory: socketDirectory, port: port)
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    ///
    /// - Throws: ``DatabaseSetupError`` naming the part that is wrong.
    public init(_ string: String) throws(DatabaseSetupError) {
        self = try DatabaseURLParser(string).parse()
    }

    /// The path of the socket file for ``Endpoint/unixSocket(directory:port:)``, else `nil`.
    public var unixSocketPath: String? {
        guard case .unixSocket(let directory, let port) = endpoint else { return nil }
        return (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }

    /// Whether the server is on this machine (loopback address or Unix socket), where TLS buys nothing.
    public var isLocal: Bool {
        switch endpoint {
        case .unixSocket:
            return true
        case .tcp(let host, _):
            let lowered = host.lowercased()
            return lowered == "localhost" || lowered == "::1" || lowered.hasPrefix("127.")
        }
    }

    /// The URL with the password replaced by `***`, safe for logs and error messages.
    public var description: String { render(password: password.map { _ in "***" }) }

    /// The URL as text, password included (percent-encoded); parsing it gives back an equal value.
    public var urlString: String { render(password: password.map { Self.encode($0) }) }

    private func render(password: String?) -> String {
        var text = "postgres://" + Self.encode(username)
        if let password { text += ":" + password }
        var query: [String] = []
        switch endpoint {
        case .tcp(let host, let port):
            text += "@" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        case .unixSocket(let directory, let port):
            text += "@:\(port)"
            query.append("host=" + Self.encode(directory, keeping: "/"))
        }
        text += "/" + Self.encode(database ?? "")
        if let sslMode { query.append("sslmode=\(sslMode.rawValue)") }
        if let applicationName { query.append("application_name=" + Self.encode(applicationName)) }
        if let connectTimeout { query.append("connect_timeout=\(connectTimeout.components.seconds)") }
        return query.isEmpty ? text : text + "?" + query.joined(separator: "&")
    }

    /// The configuration for a `PostgresClient` connecting to this URL.
    ///
    /// - Throws: ``DatabaseSetupError`` when TLS is required over a Unix socket, which PostgreSQL does not do.
    public func configuration() throws(DatabaseSetupError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .unixSocket:
            if let sslMode, sslMode == .require || sslMode == .verifyFull {
                throw DatabaseSetupError(
                    .invalidURLParameter,
                    "sslmode=\(sslMode.rawValue) cannot be used with a Unix socket (?host=/…): "
                        + "PostgreSQL does not encrypt socket connections; drop sslmode or connect over TCP"
                )
            }
            configuration = .init(
                unixSocketPath: unixSocketPath!, username: username, password: password, database: database)
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: username, password: password, database: database,
                tls: tlsMode)
        }
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        if let connectTimeout {
            configuration.options.connectTimeout = connectTimeout
        }
        return configuration
    }

    private var tlsMode: PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch sslMode ?? (isLocal ? .disable : .prefer) {
        case .disable: return .disable
        case .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    private static func encode(_ text: String, keeping extra: String = "") -> String {
        var allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~" + extra))
        allowed.formIntersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
