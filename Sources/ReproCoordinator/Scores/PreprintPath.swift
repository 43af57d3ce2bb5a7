import Hummingbird
import ReproCore

/// Reads the preprint id of a route like `/v1/preprints/{id}/…`.
///
/// Hummingbird matches routes on the raw (still percent-encoded) path and hands parameters over
/// undecoded, so a DOI sent as `doi:10.1234%2Fabc` arrives in one segment and is decoded here. An
/// unencoded `/` would split the DOI over two segments and match no route (404).
enum PreprintPath {
    /// The normalized id, or a 400 problem naming `id`.
    static func id(_ context: AppRequestContext, parameter: String = "id") throws -> String {
        let raw = try context.parameters.require(parameter)
        let decoded = raw.removingPercentEncoding ?? raw
        guard let id = PreprintID.normalize(decoded) else {
            throw Problem.badRequest("\(decoded) is not an arXiv identifier or a DOI.", field: "id")
        }
        return id
    }

    /// A decoded free-text path segment (funder or institution names).
    static func text(_ context: AppRequestContext, parameter: String) throws -> String {
        let raw = try context.parameters.require(parameter)
        let decoded = (raw.removingPercentEncoding ?? raw).trimmingCharacters(in: .whitespaces)
        guard !decoded.isEmpty, decoded.count <= 200 else {
            throw Problem.badRequest("\(parameter) must be 1–200 characters.", field: parameter)
        }
        try RequestBody.checkStorable(decoded, field: parameter)
        return decoded
    }
}
