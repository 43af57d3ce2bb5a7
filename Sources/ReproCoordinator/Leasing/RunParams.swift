import Foundation
import PostgresNIO
import ReproCore

/// Parameters a job logged with MLflow (`mlflow.log_param`), stored with the accepted run they belong
/// to (`run_params`, migration 0010) and shown in the report's runs table.
enum RunParams {
    /// MLflow's own limits: 250 characters per key, 6 000 (8 000 in later versions) per value.
    static let maximumCount = 200
    static let maximumNameLength = 250
    static let maximumValueLength = 8000

    /// Refuses what cannot be stored as it was sent: too many, too long, or with NUL (text refuses it).
    static func validate(_ params: [String: String]?, field: String) throws {
        guard let params else { return }
        guard params.count <= maximumCount else {
            throw Problem.badRequest("At most \(maximumCount) params per run.", field: field)
        }
        for (name, value) in params {
            guard (1...maximumNameLength).contains(name.count), StorableText.isStorable(name) else {
                throw Problem.badRequest(
                    "param names must have 1 to \(maximumNameLength) characters and no NUL.", field: "\(field).\(name)")
            }
            guard value.count <= maximumValueLength, StorableText.isStorable(value) else {
                throw Problem.badRequest(
                    "param \(name) must have at most \(maximumValueLength) characters and no NUL.", field: "\(field).\(name)")
            }
        }
    }
}

extension TaskQueue {
    /// Stores the params of the results this batch accepted, in the batch's transaction: one statement,
    /// joined to the runs just inserted by lease id (a resent result inserts nothing twice).
    func writeParams(of results: [TaskResult], accepted: Set<UUID>, on connection: PostgresConnection) async throws {
        var leases: [UUID] = []
        var names: [String] = []
        var values: [String] = []
        for result in results where accepted.contains(result.leaseID) {
            for (name, value) in (result.params ?? [:]).sorted(by: { $0.key < $1.key }) {
                leases.append(result.leaseID)
                names.append(name)
                values.append(value)
            }
        }
        guard !leases.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO run_params (run_id, name, value)
            SELECT r.id, p.name, p.value
            FROM unnest(\(leases)::uuid[], \(names)::text[], \(values)::text[]) AS p(lease_id, name, value)
            JOIN runs r ON r.lease_id = p.lease_id
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }
}
