import Foundation
import Logging
import PostgresNIO
import ReproCore
import Synchronization

/// The one way preprint metadata is written, by `PUT /v1/preprints/{id}` and by study submission, with
/// the ownership rule of decision 0010: the account that first describes a preprint owns its metadata;
/// afterwards only that account, moderators and admins change it. Every change is appended to
/// `preprint_changes` with who made it, in the caller's transaction.
///
/// Before, any researcher could PUT over a preprint only others had studied, and every new study
/// silently replaced title, authors, institutions and funding, which moved the preprint between
/// funders' summaries.
enum PreprintMetadataWriter {
    /// The metadata to write. Nil fields are left as stored (a study carries no date; a spec without
    /// `field` keeps the stored one).
    struct Metadata: Sendable {
        var title: String
        var authors: [String]
        var institutions: [String]
        var field: String?
        var funding: [FundingEntry]
        var date: String?
    }

    /// Who writes, and whether they may change metadata someone else owns.
    struct Writer: Sendable {
        var account: UUID
        /// Moderators and admins.
        var mayOverride: Bool
        var source: Source
        var studyID: UUID?
    }

    enum Source: String, Sendable {
        case put, study
    }

    enum Outcome: Sendable, Equatable {
        case created
        case updated(fields: [String])
        case unchanged
        /// The writer does not own the metadata: nothing was written. `fields` differ from the stored ones.
        case refused(fields: [String])
    }

    static let comparedFields = ["title", "authors", "institutions", "field", "funding", "date"]

    /// Creates, updates or refuses, locking the preprint's row for the rest of the transaction.
    static func write(
        _ id: String, _ metadata: Metadata, by writer: Writer, on connection: PostgresConnection, logger: Logger
    ) async throws -> Outcome {
        let funding = String(decoding: try WireCoding.encoder().encode(metadata.funding), as: UTF8.self)
        for _ in 0..<2 {
            // Which fields differ, computed by PostgreSQL so arrays and jsonb compare as stored
            // (null grants stripped: a PUT leaves `grant` out where a spec writes null).
            // FOR NO KEY UPDATE, the lock the UPDATE below takes anyway: it serializes writers of the row but
            // not the foreign-key checks of rows that refer to it. FOR UPDATE also blocked those, and the
            // score maintainer's history insert (a key check on this row, made while it holds the
            // preprint_scores row this transaction's trigger then upserts) deadlocked with it.
            let rows = try await connection.query(
                """
                SELECT owner_account_id,
                       title <> \(metadata.title),
                       authors <> \(metadata.authors),
                       institutions <> \(metadata.institutions),
                       \(metadata.field)::text IS NOT NULL AND field IS DISTINCT FROM \(metadata.field)::text,
                       jsonb_strip_nulls(funding) <> jsonb_strip_nulls(\(funding)::jsonb),
                       \(metadata.date)::text IS NOT NULL AND published_on IS DISTINCT FROM \(metadata.date)::date
                FROM preprints WHERE id = \(id) FOR NO KEY UPDATE
                """, logger: logger)
            var found: (owner: UUID?, differs: [Bool])?
            for try await (owner, title, authors, institutions, field, fundingDiffers, date)
                in rows.decode((UUID?, Bool, Bool, Bool, Bool, Bool, Bool).self)
            {
                found = (owner, [title, authors, institutions, field, fundingDiffers, date])
            }
            guard let found else {
                let inserted = try await connection.query(
                    """
                    INSERT INTO preprints (id, title, authors, institutions, field, funding, published_on, owner_account_id)
                    VALUES (\(id), \(metadata.title), \(metadata.authors), \(metadata.institutions), \(metadata.field),
                            \(funding)::jsonb, \(metadata.date)::date, \(writer.account))
                    ON CONFLICT (id) DO NOTHING
                    RETURNING id
                    """, logger: logger)
                var created = false
                for try await _ in inserted { created = true }
                // Another transaction created it meanwhile: read it again, now locked.
                guard created else { continue }
                try await record(id, before: nil, by: writer, on: connection, logger: logger)
                return .created
            }
            let changed = zip(comparedFields, found.differs).filter(\.1).map(\.0)
            guard !changed.isEmpty else { return .unchanged }
            // A preprint written before owners existed and never studied has none: the first writer claims it.
            guard writer.mayOverride || found.owner == nil || found.owner == writer.account else {
                return .refused(fields: changed)
            }
            let previous = try await connection.query(
                "SELECT \(unescaped: snapshot)::text FROM preprints p WHERE p.id = \(id)", logger: logger)
            var before: String?
            for try await value in previous.decode(String.self) { before = value }
            try await connection.query(
                """
                UPDATE preprints SET
                    title = \(metadata.title), authors = \(metadata.authors), institutions = \(metadata.institutions),
                    field = coalesce(\(metadata.field)::text, field), funding = \(funding)::jsonb,
                    published_on = CASE WHEN \(metadata.date)::text IS NULL THEN published_on ELSE \(metadata.date)::date END,
                    owner_account_id = coalesce(owner_account_id, \(writer.account)), updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
            try await record(id, before: before, by: writer, on: connection, logger: logger)
            return .updated(fields: changed)
        }
        throw Problem.conflict("Preprint \(id) changed while it was being written; send the request again.", field: "id")
    }

    /// The metadata columns of `p` as one jsonb value.
    private static let snapshot =
        "jsonb_build_object('title', p.title, 'authors', p.authors, 'institutions', p.institutions, 'field', p.field, 'funding', p.funding, 'date', p.published_on, 'owner', p.owner_account_id)"

    /// Appends a change (`before` nil: the creation) with the row as it is now.
    private static func record(
        _ id: String, before: String?, by writer: Writer, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO preprint_changes (preprint_id, actor, source, study_id, before, after)
            SELECT \(id), \(writer.account), \(writer.source.rawValue), \(writer.studyID), \(before)::jsonb, \(unescaped: snapshot)
            FROM preprints p WHERE p.id = \(id)
            """, logger: logger)
    }
}

extension PreprintMetadataWriter {
    /// The warning a study's submitter gets for what its spec did to stored metadata, or nil.
    static func warning(for outcome: Outcome, preprint id: String) -> String? {
        switch outcome {
        case .created, .unchanged:
            return nil
        case .updated(let fields):
            return "The stored metadata of preprint \(id) was updated from this spec (\(fields.joined(separator: ", ")))."
        case .refused(let fields):
            return "Preprint \(id) is described by another account; its stored metadata is kept although this spec "
                + "differs (\(fields.joined(separator: ", "))). Its owner, a moderator or an admin can change it with "
                + "PUT /v1/preprints/{id}."
        }
    }
}

/// Warnings collected inside a transaction's closure (which cannot return them beside its value).
final class WarningList: Sendable {
    private let items = Mutex<[String]>([])

    func append(_ warning: String?) {
        guard let warning else { return }
        items.withLock { $0.append(warning) }
    }

    var all: [String] { items.withLock { $0 } }
}
