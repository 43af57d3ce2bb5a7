import PostgresNIO

/// The rows of one query, read in full before the query's deadline ended.
///
/// Reading every row inside ``DatabaseClient``'s deadline keeps the whole call bounded, including a
/// stream that stalls half-way. It is an `AsyncSequence` of `PostgresRow`, so PostgresNIO's
/// `decode((A, B).self)` and `for try await row in rows` work on it as on `PostgresRowSequence`.
/// Every query of the coordinator reads a bounded number of rows (pages, batches, one study's runs).
public struct DatabaseRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow

    /// The rows, in the order the server sent them.
    public let rows: [PostgresRow]

    init(_ rows: [PostgresRow]) { self.rows = rows }

    public func makeAsyncIterator() -> Iterator { Iterator(rows: rows) }

    /// Walks the rows already read.
    public struct Iterator: AsyncIteratorProtocol {
        var rows: [PostgresRow]
        var index = 0

        // Declared `throws` like PostgresRowSequence's, so call sites keep `for try await`.
        public mutating func next() async throws -> PostgresRow? {
            guard index < rows.count else { return nil }
            defer { index += 1 }
            return rows[index]
        }
    }
}
