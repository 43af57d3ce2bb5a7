import Foundation
import Hummingbird
import NIOCore
import ReproCore

/// Reads request bodies with a per-route size limit and turns decoding failures into problems that
/// name the field at fault.
public enum RequestBody {
    /// Largest JSON body of an ordinary route.
    public static let maxJSONBytes = 1 << 20
    /// Largest code bundle.
    public static let maxBundleBytes = 50 << 20

    /// Collects the body, refusing more than `limit` bytes with 413.
    public static func bytes(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem.tooLarge("The body is \(length) bytes; this route accepts at most \(limit).")
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw Problem.tooLarge("The body is larger than this route accepts (\(limit) bytes).")
        }
    }

    /// Decodes a JSON body of type `T`.
    ///
    /// PostgreSQL cannot store NUL in `text` or `jsonb`, so a string holding one (`\u0000`) is refused
    /// here with 400 naming its field, for every route. Routes carrying a job's output (results,
    /// heartbeat progress) pass `allowNUL` and replace the character before storing instead.
    public static func json<T: Decodable>(
        _ type: T.Type, from request: Request, limit: Int = maxJSONBytes, allowNUL: Bool = false
    ) async throws -> T {
        let buffer = try await bytes(request, limit: limit)
        if buffer.readableBytes == 0 {
            throw Problem.badRequest("The request needs a JSON body.")
        }
        return try decode(T.self, from: Data(buffer.readableBytesView), allowNUL: allowNUL)
    }

    /// Decodes a JSON body of type `T` when there is one; nil for an empty body (routes whose body is optional).
    public static func optionalJSON<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T? {
        let buffer = try await bytes(request, limit: maxJSONBytes)
        guard buffer.readableBytes > 0 else { return nil }
        return try decode(T.self, from: Data(buffer.readableBytesView), allowNUL: false)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, allowNUL: Bool) throws -> T {
        let value: T
        do {
            value = try WireCoding.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw problem(for: error)
        }
        if !allowNUL, data.range(of: Data("\\u0000".utf8)) != nil,
            let document = try? WireCoding.decoder().decode(JSONValue.self, from: data),
            let field = pathOfNUL(in: document, at: "")
        {
            throw Problem.badRequest(
                "\(field.isEmpty ? "(body)" : field) \(StorableText.reason).",
                field: field.isEmpty ? "(body)" : field)
        }
        return value
    }

    /// The JSON path of the first string or key holding NUL, nil when there is none.
    private static func pathOfNUL(in value: JSONValue, at path: String) -> String? {
        switch value {
        case .string(let text): return StorableText.isStorable(text) ? nil : path
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = pathOfNUL(in: item, at: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if !StorableText.isStorable(key) { return child }
                if let found = pathOfNUL(in: members[key]!, at: child) { return found }
            }
            return nil
        case .null, .bool, .number: return nil
        }
    }

    /// A query or path parameter as text; NUL cannot be stored or compared in PostgreSQL, so it is 400.
    static func checkStorable(_ text: String, field: String) throws {
        if !StorableText.isStorable(text) {
            throw Problem.badRequest("\(field) \(StorableText.reason).", field: field)
        }
    }

    /// A 400 problem naming the JSON path at fault.
    public static func problem(for error: DecodingError) -> Problem {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "(body)" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return Problem.badRequest("\(field): expected \(describe(type)).", field: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return Problem.badRequest("\(field): expected \(describe(type)), found null.", field: field)
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return Problem.badRequest("\(field) is required.", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if context.codingPath.isEmpty {
                return Problem.badRequest("The body is not valid JSON.", field: field)
            }
            return Problem.badRequest("\(field): \(context.debugDescription)", field: field)
        @unknown default:
            return Problem.badRequest("The body could not be decoded.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is UUID.Type: return "a UUID"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}

extension Response {
    /// A JSON response encoded with the wire coders.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        // A non-finite number the statistics missed becomes null rather than a 500 for good.
        json(data: try WireCoding.encodeNullingNonFinite(value).data, status: status)
    }

    /// A JSON answer already encoded (``JSONWriter``, on the worker's hot path).
    public static func json(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
