import Foundation
import Hummingbird
import ReproCore
import ReproPlots
import ReproStats

extension DashboardController {
    struct PreprintView: Sendable {
        struct Study: Sendable {
            var href: String
            var label: String
            var linked: Bool
        }
        struct Item: Sendable {
            var verdict: String
            var rating: String
            var tags: [String]
            var text: String
            var helpful: Int
            var unhelpful: Int
            var when: String
            var hasTags: Bool
        }
        struct Tag: Sendable {
            var tag: String
            var count: Int
        }

        var chrome: Chrome
        var id: String
        var title: String
        var authors: String
        var institutions: [Chrome.Link]
        var field: String
        var funding: [Chrome.Link]
        var date: String
        var scoreText: String
        var badgeHref: String
        var history: PlotView
        var showClaims: Bool
        var claims: PlotView
        var studies: [Study]
        var summaryLine: String
        var topTags: [Tag]
        var items: [Item]
        var canPost: Bool
        var verdicts: [String]
        var message: String?
        var hasTopTags: Bool
    }

    @Sendable func preprintPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: Self.readers, publicPage: true)
        let id = try PreprintPath.id(context)
        return WebPage.render("preprint", try await preprintView(id, identity: identity, context: context))
    }

    func preprintView(_ id: String, identity: Identity, context: AppRequestContext, message: String? = nil) async throws
        -> PreprintView
    {
        let publicReader = identity.isPublicReader
        guard let record = try await preprints.record(id, completedOnly: publicReader) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        let history = try await scores.history(preprint: id, completedOnly: publicReader)
        let points = (history?.entries ?? []).map {
            LineChart.Point(time: $0.computedAt.timeIntervalSince1970, value: $0.score, label: WebPage.date($0.computedAt))
        }
        let historyPlot = PlotView(
            heading: "Score history",
            plot: LineChart.render(id: "history", title: "Reproducibility score over time", points: points, domain: 0...100))

        // The claims as GET /v1/preprints/{id}/score shows them (not to the anonymous reader, for whom
        // that route is not public); each run as a dot only for those who may read the study's report.
        var rows: [ClaimPlot.Row] = []
        var studyLinks: [PreprintView.Study] = []
        if !publicReader {
            for study in try await dashboard.studies(preprint: id) {
                let seesReport = identity.isAdmin || !identity.roles.isDisjoint(with: [.moderator, .funder])
                    || (identity.roles.contains(.researcher) && study.owner == identity.accountID)
                studyLinks.append(
                    PreprintView.Study(
                        href: "/studies/\(study.id.uuidString.lowercased())", label: "study \(study.id.uuidString.lowercased()) (\(study.state))",
                        linked: seesReport))
                guard let spec = try await studies.spec(study.id) else { continue }
                let values = try await reports.values(study: study.id)
                let adaptive = try await studies.adaptiveProgress(study.id)
                for (configuration, claim) in ReportBuilder.claims(of: spec) {
                    let cell = values.filter {
                        $0.dataset == claim.dataset && $0.metric == claim.metric && $0.configuration == configuration
                    }
                    let numbers = cell.map(\.value)
                    // Judged as the score judges it: seed means, and the looks of an adaptive study.
                    let judgement = ClaimJudge.judge(
                        claim, rows: cell, adaptive: adaptive, state: StudyState(rawValue: study.state) ?? .running)
                    let check = judgement.check
                    rows.append(
                        ClaimPlot.Row(
                            label: Self.cellName(claim.dataset, configuration, claim.metric)
                                + " \(claim.direction.rawValue) \(SVG.label(claim.value))",
                            claimed: claim.value, tolerance: seesReport ? check.tolerance : nil, mean: check.mean,
                            ci95: seesReport ? Self.range(check.ci95Mean) : nil,
                            runs: seesReport ? numbers : [], verdict: Self.verdictText(judgement.verdict)))
                }
            }
        }
        let claimPlot = PlotView(heading: "Claims", plot: ClaimPlot.render(id: "claims", title: "Claims of every study", rows: rows))
        let page = try await feedback.list(preprint: id, includeHidden: false, cursor: nil, limit: 50)
        let summary = record.feedback
        let score = record.score
        let canPost = !publicReader && !identity.roles.isDisjoint(with: [.community, .researcher]) && context.webSession != nil
        return PreprintView(
            chrome: chrome(context, title: record.title), id: record.id, title: record.title,
            authors: record.authors.joined(separator: ", "),
            institutions: record.institutions.map { Chrome.Link(href: "/institutions/\(WebPage.segment($0))", label: $0) },
            field: record.field ?? "–",
            funding: record.funding.map {
                Chrome.Link(href: "/funders/\(WebPage.segment($0.funder))", label: $0.funder + ($0.grant.map { " (\($0))" } ?? ""))
            }, date: record.date ?? "–",
            scoreText: score.flatMap { entry in entry.score.map { "\(SVG.label($0)) · \(entry.reproduced)/\(entry.decided) claims reproduced (K = \(entry.decided))" } }
                ?? "not yet scored",
            badgeHref: "/v1/preprints/\(WebPage.segment(record.id))/badge.svg", history: historyPlot, showClaims: !publicReader,
            claims: claimPlot, studies: studyLinks,
            summaryLine: "\(summary.items) item\(summary.items == 1 ? "" : "s"): \(summary.verdictCounts.reproduced) reproduced, \(summary.verdictCounts.partially) partially, \(summary.verdictCounts.notReproduced) not reproduced, \(summary.verdictCounts.comment) comments"
                + (summary.ratingMean.map { "; mean rating \(SVG.label($0)) of \(summary.ratingCount)" } ?? ""),
            topTags: summary.topTags.map { PreprintView.Tag(tag: $0.tag, count: $0.count) },
            items: page.items.map {
                PreprintView.Item(
                    verdict: $0.verdict.rawValue.replacingOccurrences(of: "_", with: " "), rating: $0.rating.map { "\($0)/5" } ?? "",
                    tags: $0.tags, text: $0.text, helpful: $0.helpful, unhelpful: $0.unhelpful, when: WebPage.date($0.createdAt),
                    hasTags: !$0.tags.isEmpty)
            }, canPost: canPost, verdicts: FeedbackItem.Verdict.allCases.map(\.rawValue), message: message,
            hasTopTags: !summary.topTags.isEmpty)
    }

    @Sendable func postFeedback(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: [.community, .researcher])
        let form = try await FormBody.read(request)
        try PageAccess.checkCSRF(form, context)
        let id = try PreprintPath.id(context)
        guard let verdict = FeedbackItem.Verdict(rawValue: form["verdict"] ?? "") else {
            throw Problem.badRequest("verdict must be one of reproduced, partially, not_reproduced, comment.", field: "verdict")
        }
        var rating: Int?
        if let text = form["rating"], !text.isEmpty {
            guard let value = Int(text) else { throw Problem.badRequest("rating must be an integer from 1 to 5.", field: "rating") }
            rating = value
        }
        let tags = (form["tags"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let input = try FeedbackInput(FeedbackPost(verdict: verdict, rating: rating, tags: tags, text: form["text"]))
        guard try await preprints.exists(id) else { throw Problem.notFound("No preprint \(id).", field: "id") }
        _ = try await feedback.post(preprint: id, account: identity.accountID, input: input)
        return Response(status: .seeOther, headers: [.location: "/preprints/\(WebPage.segment(id))#feedback"])
    }
}
