import Foundation
import ReproPlots

/// What every page shows around its content: who is signed in, the navigation, the CSRF token of
/// the sign-out form, and (for stand-alone reports) the inline style sheet.
struct Chrome: Sendable {
    struct Link: Sendable {
        var href: String
        var label: String
    }

    var title: String
    var signedIn: Bool
    var roles: String
    var csrf: String
    var nav: [Link]
    var standalone = false
    var css = ""
    /// The SSE address a running study page follows; nil for other pages (Mustache treats "" as true).
    var events: String? = nil
}

/// A plot and the table of its numbers, as the `plot` partial renders them.
struct PlotView: Sendable {
    struct Row: Sendable { var cells: [String] }

    var heading: String
    var svg: String
    var headers: [String]
    var rows: [Row]
    var caption: String?

    init(heading: String, plot: Plot, caption: String? = nil) {
        self.heading = heading
        self.svg = plot.svg
        self.headers = plot.table.headers
        self.rows = plot.table.rows.map { Row(cells: $0) }
        self.caption = caption
    }
}

/// The error page (401 offers the sign-in page).
struct ErrorView: Sendable {
    var chrome: Chrome
    var status: Int
    var detail: String
    var signIn: Bool
}
