import PostgresNIO

/// Reads a row's columns in order, one decode call per column.
///
/// PostgresNIO's `rows.decode((A, B, …).self)` decodes a tuple through variadic generics, which the
/// runtime resolves per row (generic metadata lookups, tuple caches): on the worker's cycle, 50 lease rows
/// of 14 columns and 50 locked task rows per batch, that was 6.6 % of the benchmark process's CPU (issue 16).
/// Here each column's type is known at the call, so the decode is specialised.
struct RowCells {
    private var cells: PostgresRow.Iterator
    private var index = 0

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    /// The next column, decoded as `T` (an optional type for a nullable column).
    mutating func next<T: PostgresDecodable>(_: T.Type = T.self, file: String = #fileID, line: Int = #line) throws -> T {
        guard let cell = cells.next() else { throw MissingColumn(index: index) }
        index += 1
        return try cell.decode(T.self, context: .default, file: file, line: line)
    }

    /// A row with fewer columns than its reader reads: a statement and its reader disagree.
    struct MissingColumn: Error, CustomStringConvertible {
        let index: Int
        var description: String { "the row has no column \(index)" }
    }
}
