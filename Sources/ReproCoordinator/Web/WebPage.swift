import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Renders the dashboard's Mustache templates (Resources/templates) into HTML responses.
///
/// Every `{{value}}` is HTML-escaped by Mustache; only `{{{svg}}}` of plots (built and escaped by
/// ReproPlots) and `{{{css}}}` of the stand-alone report are inserted raw (decision 0011).
enum WebPage {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let folder = Bundle.module.url(forResource: "templates", withExtension: nil, subdirectory: "Resources")
            ?? Bundle.module.bundleURL.appendingPathComponent("Resources/templates")
        // Missing templates (a broken install) make every page say so rather than crash the server.
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return library }
        for name in names where name.hasSuffix(".mustache") {
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { continue }
            // A template that does not parse is left out, so its pages answer 500 saying so; the tests
            // render every page, so that cannot ship unnoticed.
            try? library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        return library
    }()

    /// The one style sheet, served at /dashboard.css and inlined into stand-alone reports.
    static let css: String = resource("dashboard", "css")
    /// The few lines that follow a running study over Server-Sent Events.
    static let script: String = resource("dashboard", "js")

    static func resource(_ name: String, _ ext: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources/web"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "" }
        return text
    }

    /// The policy of every page: nothing from elsewhere, scripts only from our own file.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Renders `template` with `object` as an HTML response.
    static func render(_ template: String, _ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        guard let html = library.render(object, withTemplate: template) else {
            return htmlResponse("<!doctype html><title>error</title><p>The dashboard's template \(template) is missing from this installation.</p>", status: .internalServerError)
        }
        return htmlResponse(html, status: status)
    }

    static func htmlResponse(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A path segment with everything but unreserved characters percent-encoded (ids in links).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A query value, percent-encoded.
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A date for people, UTC.
    static func date(_ date: Date?) -> String {
        guard let date else { return "–" }
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon)).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }
}

/// Reads the `application/x-www-form-urlencoded` bodies of the dashboard's forms, decoded (and checked
/// for NUL) by ``QueryParameters``, the same reader as every query string.
enum FormBody {
    static let limit = 64 << 10

    static func read(_ request: Request) async throws -> QueryParameters {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw Problem.unsupportedMediaType("Send the form as application/x-www-form-urlencoded.")
        }
        let buffer = try await RequestBody.bytes(request, limit: limit)
        return try QueryParameters(query: String(buffer: buffer))
    }
}
