import Foundation
import Hummingbird
import ReproCore

/// A study spec sent as a request body (`POST /v1/studies`, `POST /v1/plan`): the size limit, the
/// media type and the spec's own checks, each refused with its problem document. One place, so both
/// routes answer bad specs alike.
enum SpecBody {
    static func decode(_ request: Request, limits: SpecLimits, context: SpecContext) async throws -> StudySpec {
        let body = try await RequestBody.bytes(request, limit: limits.maxSpecBytes)
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let format: SpecFormat?
        if contentType.contains("json") {
            format = .json
        } else if contentType.contains("yaml") {
            format = .yaml
        } else if contentType.isEmpty || contentType.hasPrefix("text/plain") {
            format = nil
        } else {
            throw Problem.unsupportedMediaType("Send the study spec as application/yaml or application/json.")
        }
        do {
            return try StudySpec.parse(Data(body.readableBytesView), format: format, limits: limits, context: context)
        } catch {
            throw Problem.invalid(
                "The study spec is invalid: \(error.issues.count) problem(s).",
                issues: error.issues.map { .init(path: $0.path, reason: $0.reason, line: $0.line) })
        }
    }
}
