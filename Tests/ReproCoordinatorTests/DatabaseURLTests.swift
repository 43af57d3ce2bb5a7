import Foundation
import Testing

@testable import ReproCoordinator

@Suite("DatabaseURL")
struct DatabaseURLTests {
    @Test func parsesTCPURLWithPercentEncodedParts() throws {
        let url = try DatabaseURL("postgres://alice:s%40c%3Aret%2F@db.example.com:6543/repro%20grid")
        #expect(url.endpoint == .tcp(host: "db.example.com", port: 6543))
        #expect(url.username == "alice")
        #expect(url.password == "s@c:ret/")
        #expect(url.database == "repro grid")
        #expect(url.sslMode == nil)
        #expect(!url.isLocal)

        let configuration = try url.configuration()
        #expect(configuration.host == "db.example.com")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s@c:ret/")
        #expect(configuration.database == "repro grid")
    }

    @Test func acceptsPostgresqlSchemeAndDefaultsThePort() throws {
        let url = try DatabaseURL("PostgreSQL://bob@localhost/app")
        #expect(url.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(url.password == nil)
        #expect(url.isLocal)
    }

    @Test func unencodedAtSignInPasswordStillWorks() throws {
        let url = try DatabaseURL("postgres://carol:p@ss@127.0.0.1:5433/db")
        #expect(url.password == "p@ss")
        #expect(url.endpoint == .tcp(host: "127.0.0.1", port: 5433))
        #expect(url.isLocal)
    }

    @Test func parsesBracketedIPv6Host() throws {
        let url = try DatabaseURL("postgres://u@[::1]:5433/db")
        #expect(url.endpoint == .tcp(host: "::1", port: 5433))
        #expect(url.isLocal)
    }

    @Test func hostParameterWithAPathMeansUnixSocket() throws {
        let url = try DatabaseURL("postgres://reprogrid@localhost:45871/postgres?host=/tmp/reprogrid-pg.x/socket")
        #expect(url.endpoint == .unixSocket(directory: "/tmp/reprogrid-pg.x/socket", port: 45871))
        #expect(url.unixSocketPath == "/tmp/reprogrid-pg.x/socket/.s.PGSQL.45871")
        #expect(try url.configuration().unixSocketPath == "/tmp/reprogrid-pg.x/socket/.s.PGSQL.45871")
        #expect(url.isLocal)
    }

    @Test func socketWithoutAuthorityHostAndPercentEncodedDirectory() throws {
        let url = try DatabaseURL("postgresql://reprogrid@/app?host=%2Fvar%2Frun%2Fpostgresql&port=5433")
        #expect(url.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5433")
        #expect(url.database == "app")
    }

    @Test func queryParametersOverrideURLParts() throws {
        let url = try DatabaseURL(
            "postgres://a:b@h:1/d?user=u2&password=p2&dbname=d2&port=2&application_name=repro%20test&connect_timeout=7")
        #expect(url.username == "u2")
        #expect(url.password == "p2")
        #expect(url.database == "d2")
        #expect(url.endpoint == .tcp(host: "h", port: 2))
        #expect(url.applicationName == "repro test")
        #expect(url.connectTimeout == .seconds(7))
        let configuration = try url.configuration()
        #expect(configuration.options.connectTimeout == .seconds(7))
        #expect(configuration.options.additionalStartupParameters.contains { $0 == ("application_name", "repro test") })
    }

    @Test(arguments: [
        ("disable", DatabaseURL.SSLMode.disable), ("prefer", .prefer), ("require", .require),
        ("verify-full", .verifyFull),
    ])
    func parsesSSLModes(text: String, mode: DatabaseURL.SSLMode) throws {
        let url = try DatabaseURL("postgres://u@db.example.com/d?sslmode=\(text)")
        #expect(url.sslMode == mode)
        _ = try url.configuration()
    }

    @Test func requiringTLSOverASocketIsAnError() throws {
        let url = try DatabaseURL("postgres://u@/d?host=/tmp&sslmode=require")
        let error = try #require(throws: DatabaseSetupError.self) { try url.configuration() }
        #expect(error.code == .invalidURLParameter)
        #expect(error.description.contains("Unix socket"))
    }

    @Test(arguments: [
        ("mysql://u@h/d", DatabaseSetupError.Code.unsupportedScheme, "'mysql'"),
        ("u@h/d", .malformedURL, "postgres://"),
        ("postgres://u@h:abc/d", .invalidPort, "'abc'"),
        ("postgres://u@h:70000/d", .invalidPort, "'70000'"),
        ("postgres://u@h:/d", .invalidPort, "''"),
        ("postgres://u@/d", .missingHost, "?host="),
        ("postgres://u@h/d?sslmode=bogus", .invalidURLParameter, "'bogus'"),
        ("postgres://u@h/d?sslmode=allow", .invalidURLParameter, "disable, prefer, require, verify-full"),
        ("postgres://u@h/d?frobnicate=1", .invalidURLParameter, "'frobnicate'"),
        ("postgres://u@h/d?host=", .invalidURLParameter, "'host'"),
        ("postgres://u@h/d?connect_timeout=soon", .invalidURLParameter, "connect_timeout"),
        ("postgres://u@h1,h2/d", .malformedURL, "several hosts"),
        ("postgres://u@::1:5432/d", .malformedURL, "brackets"),
        ("postgres://u@[::1/d", .malformedURL, "']'"),
        ("postgres://u@h/d%zz", .invalidPercentEncoding, "database name"),
    ])
    func rejectsBadURLsNamingTheProblem(text: String, code: DatabaseSetupError.Code, mention: String) throws {
        let error = try #require(throws: DatabaseSetupError.self) { try DatabaseURL(text) }
        #expect(error.code == code)
        #expect(error.description.contains(mention), "\(error.description)")
    }

    @Test func badPasswordEscapeDoesNotEchoThePassword() throws {
        let error = try #require(throws: DatabaseSetupError.self) { try DatabaseURL("postgres://u:secret%zz@h/d") }
        #expect(error.code == .invalidPercentEncoding)
        #expect(!error.description.contains("secret"))
    }

    @Test func descriptionHidesThePasswordAndURLStringRoundTrips() throws {
        let original = try DatabaseURL("postgres://al%20ice:p%40ss@db.example.com:6543/re%2Fpo?sslmode=require")
        #expect(original.description == "postgres://al%20ice:***@db.example.com:6543/re%2Fpo?sslmode=require")
        #expect(try DatabaseURL(original.urlString) == original)

        let socket = try DatabaseURL("postgres://reprogrid@/postgres?host=/tmp/a%20b/socket&port=5999")
        #expect(!socket.description.contains("***"))
        #expect(try DatabaseURL(socket.urlString) == socket)
    }

    @Test func missingUserDefaultsToTheOperatingSystemUser() throws {
        let url = try DatabaseURL("postgres://db.example.com/app")
        #expect(url.username == ProcessInfo.processInfo.userName)
    }
}
