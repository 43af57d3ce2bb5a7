import Foundation
import ReproCore

extension StudyRepository {
    /// The plan and looks of an adaptive study; nil for a study with a fixed seed list (or no such study).
    public func adaptiveProgress(_ studyID: UUID) async throws -> AdaptiveProgress? {
        try await AdaptivePlanStore.decodeProgress(
            try await client.query(AdaptivePlanStore.progressQuery(study: studyID), logger: logger))
    }
}
