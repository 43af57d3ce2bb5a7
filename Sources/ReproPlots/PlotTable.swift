/// The numbers a plot shows, as rows for an HTML table next to it (screen readers, copy-paste).
public struct PlotTable: Sendable, Equatable {
    /// Column headings.
    public var headers: [String]
    /// Rows of cells, already formatted for people (not escaped: the page template escapes them).
    public var rows: [[String]]

    /// Creates a table.
    public init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }
}

/// A rendered plot: the SVG document and the table of the same numbers.
public struct Plot: Sendable, Equatable {
    /// A complete `<svg>` element, safe to embed in HTML as is (every text in it is escaped).
    public var svg: String
    /// The numbers behind it.
    public var table: PlotTable
    /// Elements drawn for the data (dots, bins, bars, line points): bounded by the thinning rules.
    public var markCount: Int
}
