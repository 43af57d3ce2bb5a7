import Foundation

/// Splits a `postgres://` URL by hand rather than with `URLComponents`, whose handling of unusual
/// passwords and bracketed hosts differs between platforms; the rules here are libpq's.
struct DatabaseURLParser {
    private static let supportedParameters = [
        "host", "port", "user", "password", "dbname", "sslmode", "application_name", "connect_timeout",
    ]
    private static let defaultPort = 5432

    private let text: String

    init(_ text: String) {
        self.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func parse() throws(DatabaseSetupError) -> DatabaseURL {
        guard let schemeEnd = text.range(of: "://") else {
            throw DatabaseSetupError(
                .malformedURL, "database URL must look like postgres://user:password@host:port/database")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw DatabaseSetupError(
                .unsupportedScheme,
                "database URL scheme '\(scheme)' is not supported: use postgres:// or postgresql://")
        }

        // Query first: everything after the first '?' (a '?' in a password must be written %3F).
        var rest = text[schemeEnd.upperBound...]
        var queryText: Substring = ""
        if let questionMark = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: questionMark)...]
            rest = rest[..<questionMark]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }

        var username: String?
        var password: String?
        var hostPort = authority
        // The last '@' ends the user info, so an unencoded '@' in a password still works.
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = try decode(userInfo[..<colon], part: "user name")
                password = try decode(userInfo[userInfo.index(after: colon)...], part: "password")
            } else {
                username = try decode(userInfo, part: "user name")
            }
        }
        var (host, port) = try splitHostPort(hostPort)
        var database: String? = path.isEmpty ? nil : try decode(path, part: "database name")
        var sslMode: DatabaseURL.SSLMode?
        var applicationName: String?
        var connectTimeout: Duration?

        for pair in queryText.split(separator: "&", omittingEmptySubsequences: true) {
            let key: String
            let value: String
            if let equals = pair.firstIndex(of: "=") {
                key = try decode(pair[..<equals], part: "parameter name")
                value = try decode(pair[pair.index(after: equals)...], part: "value of parameter '\(key)'")
            } else {
                key = try decode(pair, part: "parameter name")
                value = ""
            }
            switch key {
            case "host":
                guard !value.isEmpty else {
                    throw DatabaseSetupError(
                        .invalidURLParameter,
                        "database URL parameter 'host' is empty: give a host or a socket directory")
                }
                host = value
            case "port": port = try parsePort(value)
            case "user": username = value
            case "password": password = value
            case "dbname": database = value.isEmpty ? nil : value
            case "sslmode": sslMode = try parseSSLMode(value)
            case "application_name": applicationName = value
            case "connect_timeout": connectTimeout = try parseConnectTimeout(value)
            default:
                throw DatabaseSetupError(
                    .invalidURLParameter,
                    "unknown database URL parameter '\(key)'; supported: "
                        + Self.supportedParameters.joined(separator: ", "))
            }
        }

        guard let host, !host.isEmpty else {
            throw DatabaseSetupError(
                .missingHost,
                "database URL has no host: write postgres://user@HOST:PORT/database, "
                    + "or add ?host=/path/to/socket/directory for a Unix socket")
        }
        let resolvedPort = port ?? Self.defaultPort
        let resolvedUser = username.flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.userName
        guard !resolvedUser.isEmpty else {
            throw DatabaseSetupError(
                .malformedURL, "database URL has no user name: write postgres://USER@host/database")
        }

        var url = DatabaseURL(
            socketDirectory: host, port: resolvedPort, username: resolvedUser, password: password,
            database: database)
        // libpq's rule: a host starting with '/' is a socket directory.
        if !host.hasPrefix("/") {
            url.endpoint = .tcp(host: host, port: resolvedPort)
        }
        url.sslMode = sslMode
        url.applicationName = applicationName
        url.connectTimeout = connectTimeout
        return url
    }

    private func splitHostPort(_ hostPort: Substring) throws(DatabaseSetupError) -> (String?, Int?) {
        if hostPort.isEmpty { return (nil, nil) }
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw DatabaseSetupError(.malformedURL, "database URL host '\(hostPort)' has '[' without a closing ']'")
            }
            let host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let afterHost = hostPort[hostPort.index(after: close)...]
            if afterHost.isEmpty { return (host, nil) }
            guard afterHost.hasPrefix(":") else {
                throw DatabaseSetupError(.malformedURL, "database URL has unexpected text '\(afterHost)' after ']'")
            }
            return (host, try parsePort(String(afterHost.dropFirst())))
        }
        let parts = hostPort.split(separator: ":", omittingEmptySubsequences: false)
        if hostPort.contains(",") {
            throw DatabaseSetupError(
                .malformedURL, "database URL names several hosts ('\(hostPort)'); give exactly one")
        }
        switch parts.count {
        case 1:
            return (try decode(parts[0], part: "host"), nil)
        case 2:
            let host = try decode(parts[0], part: "host")
            return (host.isEmpty ? nil : host, try parsePort(String(parts[1])))
        default:
            throw DatabaseSetupError(
                .malformedURL,
                "database URL host '\(hostPort)' is ambiguous: write IPv6 addresses in brackets, [::1]:5432"
            )
        }
    }

    private func parsePort(_ text: String) throws(DatabaseSetupError) -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let port = Int(text),
            (1...65535).contains(port)
        else {
            throw DatabaseSetupError(.invalidPort, "database URL port '\(text)' is not a number from 1 to 65535")
        }
        return port
    }

    private func parseSSLMode(_ text: String) throws(DatabaseSetupError) -> DatabaseURL.SSLMode {
        guard let mode = DatabaseURL.SSLMode(rawValue: text) else {
            let supported = DatabaseURL.SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw DatabaseSetupError(
                .invalidURLParameter, "database URL sslmode '\(text)' is not supported; use one of: \(supported)")
        }
        return mode
    }

    private func parseConnectTimeout(_ text: String) throws(DatabaseSetupError) -> Duration {
        guard let seconds = Int(text), seconds > 0 else {
            throw DatabaseSetupError(
                .invalidURLParameter, "database URL connect_timeout '\(text)' must be a whole number of seconds above 0"
            )
        }
        return .seconds(seconds)
    }

    private func decode(_ text: Substring, part: String) throws(DatabaseSetupError) -> String {
        guard text.contains("%") else { return String(text) }
        guard let decoded = String(text).removingPercentEncoding else {
            // The password itself is never echoed back: error messages end up in logs.
            let shown = part == "password" ? "" : " '\(text)'"
            throw DatabaseSetupError(
                .invalidPercentEncoding,
                "database URL \(part)\(shown) has a bad %-escape: write special characters as %XX, e.g. @ as %40")
        }
        return decoded
    }
}
