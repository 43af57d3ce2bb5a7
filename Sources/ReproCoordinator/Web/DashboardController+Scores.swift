import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReproCore
import ReproPlots

extension DashboardController {
    struct PreprintListView: Sendable {
        struct Field: Sendable {
            var name: String
            var label: String
            var value: String
        }
        struct Column: Sendable {
            var label: String
            var href: String
            var mark: String
        }
        struct Row: Sendable {
            var href: String
            var id: String
            var title: String
            var score: String
            var claims: String
            var runs: Int
            var funders: String
            var updated: String
        }

        var chrome: Chrome
        var fields: [Field]
        var sort: String
        var order: String
        var limit: Int
        var scoredOnly: Bool
        var columns: [Column]
        var rows: [Row]
        var empty: Bool
        var nextHref: String?
        var firstHref: String?
        var csvHref: String
        var histogram: PlotView
    }

    /// The query of `GET /v1/scores` from the page's query string. A GET form sends empty fields as
    /// `name=`; those mean "no filter" here (the API itself refuses them).
    func scoreQuery(_ request: Request, _ identity: Identity) throws -> (ScoreQuery, [(String, String)]) {
        var kept: [(String, String)] = []
        for (name, value) in try QueryParameters(request).pairs {
            let text = value.trimmingCharacters(in: .whitespaces)
            if !text.isEmpty { kept.append((name, text)) }
        }
        let query = kept.map { "\(WebPage.queryValue($0.0))=\(WebPage.queryValue($0.1))" }.joined(separator: "&")
        var head = request.head
        head.path = "/v1/scores" + (query.isEmpty ? "" : "?" + query)
        var parsed = try ScoreQuery(request: Request(head: head, body: .init(buffer: ByteBuffer())))
        parsed.completedOnly = identity.isPublicReader
        return (parsed, kept)
    }

    static func href(_ path: String, _ parameters: [(String, String)]) -> String {
        parameters.isEmpty
            ? path : path + "?" + parameters.map { "\(WebPage.queryValue($0.0))=\(WebPage.queryValue($0.1))" }.joined(separator: "&")
    }

    @Sendable func preprintList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: Self.readers, publicPage: true)
        var (query, kept) = try scoreQuery(request, identity)
        query.csv = false
        // Two independent queries on two connections: the page waits for the slower one, not for both.
        let filtered = query
        async let histogram = scores.histogram(filtered)
        let page = try await scores.page(filtered)
        let (counts, unscored) = try await histogram
        let filters = kept.filter { !["cursor", "sort", "order", "format"].contains($0.0) }
        func value(_ name: String) -> String { kept.first { $0.0 == name }?.1 ?? "" }
        let fields = [
            ("funder", "Funder"), ("grant", "Grant"), ("institution", "Institution"), ("field", "Field"),
            ("min_score", "Min score"), ("max_score", "Max score"), ("updated_since", "Updated since"),
        ].map { PreprintListView.Field(name: $0.0, label: $0.1, value: value($0.0)) }
        let columns = [("score", "Score"), ("runs", "Runs"), ("date", "Updated")].map { name, label in
            let active = query.sort.rawValue == name
            let order = active && query.direction == .desc ? "asc" : "desc"
            return PreprintListView.Column(
                label: label, href: Self.href("/preprints", filters.filter { $0.0 != "limit" } + [("sort", name), ("order", order)] + filters.filter { $0.0 == "limit" }),
                mark: active ? (query.direction == .desc ? " ▼" : " ▲") : "")
        }
        let rows = page.rows.map { row in
            PreprintListView.Row(
                href: "/preprints/\(WebPage.segment(row.preprintID))", id: row.preprintID, title: row.title,
                score: row.score.map { SVG.label($0) } ?? "–", claims: "\(row.reproduced)/\(row.decided)", runs: row.runs,
                funders: row.funding.map(\.funder).joined(separator: ", "), updated: WebPage.date(row.updatedAt))
        }
        let sortParameters = [("sort", query.sort.rawValue), ("order", query.direction.rawValue)]
        let nextHref = page.nextCursor.map { Self.href("/preprints", filters + sortParameters + [("cursor", $0)]) }
        let plot = Histogram.render(id: "scores", title: "Scores of the filtered preprints", counts: counts, domain: 0...100)
        let view = PreprintListView(
            chrome: chrome(context, title: "Preprints"), fields: fields, sort: query.sort.rawValue,
            order: query.direction.rawValue, limit: query.limit, scoredOnly: query.scoredOnly, columns: columns, rows: rows,
            empty: rows.isEmpty, nextHref: nextHref,
            firstHref: query.cursor == nil ? nil : Self.href("/preprints", filters + sortParameters),
            // Exactly the rows shown: the same filters, sort, limit and cursor.
            csvHref: Self.href("/preprints.csv", kept.filter { $0.0 != "format" }),
            histogram: PlotView(
                heading: "Score distribution", plot: plot,
                caption: "All \(counts.reduce(0, +) + unscored) preprints of the filter, not only this page; \(unscored) without a score are not drawn."))
        return WebPage.render("preprints", view)
    }

    @Sendable func preprintCSV(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: Self.readers, publicPage: true)
        var (query, _) = try scoreQuery(request, identity)
        query.csv = true
        let page = try await scores.page(query)
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8; header=present"
        headers[.contentDisposition] = "attachment; filename=\"preprints.csv\""
        headers[.cacheControl] = "no-store"
        if let next = page.nextCursor { headers[HTTPField.Name("X-Next-Cursor")!] = next }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ScoresCSV.render(page.rows))))
    }

    struct GroupView: Sendable {
        struct Grant: Sendable {
            var name: String
            var preprints: [PreprintListView.Row]
        }

        var chrome: Chrome
        var kind: String
        var name: String
        var preprints: Int
        var scored: Int
        var quantiles: String
        var badgeShare: String
        var meanRuns: String
        var histogram: PlotView
        var grants: [Grant]
    }

    @Sendable func funderPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await groupPage(request, context, group: .funder, parameter: "name")
    }

    @Sendable func institutionPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await groupPage(request, context, group: .institution, parameter: "name")
    }

    func groupPage(_ request: Request, _ context: AppRequestContext, group: ScoreRepository.Group, parameter: String)
        async throws -> Response
    {
        let identity = try access.require(context, roles: Self.readers, publicPage: true)
        let name = try PreprintPath.text(context, parameter: parameter)
        let summary = try await scores.summary(of: group, name: name, completedOnly: identity.isPublicReader)
        var query = try scoreQuery(request, identity).0
        switch group {
        case .funder: query.funder = name
        case .institution: query.institution = name
        }
        let (counts, _) = try await scores.histogram(query)
        let grants = summary.grants.map { grant in
            GroupView.Grant(
                name: "\(grant.funder)\(grant.grant.map { " · \($0)" } ?? "")",
                preprints: grant.preprints.map {
                    PreprintListView.Row(
                        href: "/preprints/\(WebPage.segment($0.preprintID))", id: $0.preprintID, title: $0.title,
                        score: $0.score.map { SVG.label($0) } ?? "–", claims: "", runs: 0, funders: "", updated: "")
                })
        }
        let quantiles = summary.quantiles.map {
            "min \(SVG.label($0.min)) · p25 \(SVG.label($0.p25)) · median \(SVG.label($0.median)) · p75 \(SVG.label($0.p75)) · max \(SVG.label($0.max))"
        } ?? "no scores yet"
        let kind = group == .funder ? "Funder" : "Institution"
        let view = GroupView(
            chrome: chrome(context, title: "\(kind) \(name)"), kind: kind, name: name, preprints: summary.preprints,
            scored: summary.scored, quantiles: quantiles,
            badgeShare: summary.reproducedBadgeShare.map { SVG.label($0 * 100) + " %" } ?? "–",
            meanRuns: SVG.label(summary.meanRunsPerPreprint),
            histogram: PlotView(heading: "Score distribution", plot: Histogram.render(id: "group-scores", title: "Scores of the preprints of \(name)", counts: counts, domain: 0...100)),
            grants: grants)
        return WebPage.render("group", view)
    }
}
