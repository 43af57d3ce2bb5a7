import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReproCore
import ReproPlots
import ReproStats

extension DashboardController {
    struct StudyView: Sendable {
        struct Count: Sendable {
            var state: String
            var value: Int
        }
        struct Run: Sendable {
            var id: Int64
            var dataset: String
            var seed: Int64
            var replica: Int
            var hardware: String
            var duration: String
            var outcome: String
            var accepted: String
            var metrics: String
            /// The params the run logged with MLflow, `name=value` sorted by name, "–" when none; the
            /// column shows when any run on the page has some (``StudyView/runsHaveParams``), as in
            /// the CLI report.
            var params: String
            var hasParams: Bool
        }
        struct Failure: Sendable {
            var runID: Int64
            var dataset: String
            var seed: Int64
            var replica: Int
            var outcome: String
            var error: String
            var logTail: String
        }

        /// The looks of one adaptive claim.
        struct Looks: Sendable {
            var heading: String
            var stop: String
            var headers: [String]
            var rows: [PlotView.Row]
        }

        var chrome: Chrome
        var id: String
        var title: String
        var preprintID: String
        var preprintHref: String
        var state: String
        var running: Bool
        var counts: [Count]
        var acceptedRuns: Int
        var scoreText: String
        var highlights: [String]
        var claims: PlotView
        var strips: [PlotView]
        var variance: [PlotView]
        var showRuns: Bool
        var runs: [Run]
        var runsNote: String?
        var showFailures: Bool
        var failures: [Failure]
        var canCancel: Bool
        /// "Adaptive seeds: digits 10, wine 5 of at most 20 per dataset; 15 of at most 40 tasks." (nil: fixed seeds)
        var adaptiveNote: String? = nil
        /// The next page of the runs table, and the first one (nil when there is none / this is it).
        var runsNextHref: String? = nil
        var runsFirstHref: String? = nil
        /// Whether the runs table has a params column (a run on the page logged MLflow params).
        var runsHaveParams = false
        var looks: [Looks] = []
        // Stored, not computed: Mustache sees only stored properties (Mirror).
        var hasHighlights = false
        var hasVariance = false
        var hasLooks = false
    }

    /// Runs listed per page of the runs table (`?runs_after=RUN` shows the next ones); all of them are in
    /// `GET /v1/studies/{id}/runs`.
    static let runsShown = 100

    /// The study and what this caller may see of it, as `GET /v1/studies/{id}/report`, `/runs` and
    /// `/cancel` decide: 404 for a study the caller may not see (ids cannot be probed).
    func visibleStudy(_ context: AppRequestContext, _ identity: Identity) async throws -> (UUID, owner: Bool) {
        guard let id = UUID(uuidString: context.parameters.get("id") ?? "") else {
            throw Problem.badRequest("The study id must be a UUID.", field: "id")
        }
        guard let owner = try await studies.owner(of: id) else { throw Problem.notFound("No study \(id).", field: "id") }
        let isOwner = owner == identity.accountID && identity.roles.contains(.researcher)
        let seesAll = identity.isAdmin || !identity.roles.isDisjoint(with: [.moderator, .funder])
        guard seesAll || isOwner else { throw Problem.notFound("No study \(id).", field: "id") }
        return (id, isOwner)
    }

    @Sendable func studyPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: Self.studyReaders)
        let (id, isOwner) = try await visibleStudy(context, identity)
        var runsAfter: Int64?
        let query = try QueryParameters(request)
        if let text = query["runs_after"] {
            guard let value = Int64(text), value >= 0 else {
                throw Problem.badRequest("runs_after must be a run id (a whole number).", field: "runs_after")
            }
            runsAfter = value
        }
        var view = try await studyView(id, identity: identity, isOwner: isOwner, runsAfter: runsAfter, context: context)
        if query["standalone"] == "true" {
            view.chrome.standalone = true
            view.chrome.css = WebPage.css
            view.chrome.events = nil
            view.canCancel = false
        }
        return WebPage.render("study", view)
    }

    func studyView(
        _ id: UUID, identity: Identity, isOwner: Bool, runsAfter: Int64? = nil, context: AppRequestContext
    ) async throws -> StudyView {
        guard let status = try await studies.status(id) else { throw Problem.notFound("No study \(id).", field: "id") }
        let version = StudyPageCache.Version(
            status: try WireCoding.encoder().encode(status), runs: try await reports.acceptedRunsVersion(study: id))
        let parts: StudyPageCache.Parts
        if let cached = studyPages.parts(id, at: version) {
            parts = cached
        } else {
            guard let spec = try await studies.spec(id) else { throw Problem.notFound("No study \(id).", field: "id") }
            parts = Self.reportParts(id, status: status, spec: spec, values: try await reports.values(study: id))
            studyPages.store(parts, for: id, at: version)
        }
        let report = parts.report
        let showRuns = isOwner || identity.isAdmin || identity.roles.contains(.moderator)
        let showFailures = isOwner || identity.isAdmin
        let strips = parts.strips, claims = parts.claims, variance = parts.variance

        var runs: [StudyView.Run] = []
        var runsNote: String?
        var runsNextHref: String?
        var runsFirstHref: String?
        var runsHaveParams = false
        if showRuns {
            // One more than shown: whether there is a next page.
            let fetched = try await studies.runs(id, limit: Self.runsShown + 1, after: runsAfter)
            let records = fetched.prefix(Self.runsShown)
            runs = records.map { run in
                StudyView.Run(
                    id: run.id, dataset: run.dataset + (run.configuration.map { " · \($0)" } ?? ""), seed: run.seed,
                    replica: run.replica, hardware: run.hardwareClass ?? "–", duration: SVG.label(run.durationSeconds) + " s",
                    outcome: run.outcome.rawValue, accepted: run.accepted ? "yes" : "no",
                    metrics: run.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(SVG.label($0.value))" }
                        .joined(separator: ", "),
                    params: Self.paramsText(run.params), hasParams: false)
            }
            // A column only for studies that log params (MLflow); the same on every row, for the template.
            let withParams = runs.contains { $0.params != "–" }
            for index in runs.indices { runs[index].hasParams = withParams }
            runsHaveParams = withParams
            if fetched.count > Self.runsShown || runsAfter != nil {
                let total = try await studies.runCount(id)
                runsNote = "Runs \(records.first?.id ?? 0) to \(records.last?.id ?? 0) of \(total), \(Self.runsShown) per page; "
                    + "all of them are in GET /v1/studies/\(id)/runs."
                if fetched.count > Self.runsShown, let last = records.last {
                    runsNextHref = "/studies/\(id.uuidString.lowercased())?runs_after=\(last.id)#runs"
                }
                if runsAfter != nil { runsFirstHref = "/studies/\(id.uuidString.lowercased())#runs" }
            }
        }
        var failures: [StudyView.Failure] = []
        if showFailures {
            failures = try await dashboard.failures(study: id).map {
                StudyView.Failure(
                    runID: $0.runID, dataset: $0.dataset, seed: $0.seed, replica: $0.replica, outcome: $0.outcome,
                    error: $0.error ?? "", logTail: $0.logTail ?? "")
            }
        }
        let running = status.state == .running || status.state == .pendingReview
        var frame = self.chrome(context, title: status.title)
        if running { frame.events = "/studies/\(id.uuidString.lowercased())/events" }
        let score = report.score
        var view = StudyView(
            chrome: frame, id: id.uuidString.lowercased(), title: status.title, preprintID: status.preprintID,
            preprintHref: "/preprints/\(WebPage.segment(status.preprintID))", state: status.state.rawValue, running: running,
            counts: Self.counts(status.tasks), acceptedRuns: report.acceptedRuns,
            scoreText: score.score.map { "\(SVG.label($0)) (\(score.reproduced)/\(score.decided) claims reproduced)" } ?? "not yet scored",
            highlights: report.highlights, claims: claims, strips: strips, variance: variance, showRuns: showRuns, runs: runs,
            runsNote: runsNote, showFailures: showFailures, failures: failures, canCancel: running && (isOwner || identity.isAdmin))
        view.runsNextHref = runsNextHref
        view.runsFirstHref = runsFirstHref
        view.runsHaveParams = runsHaveParams
        view.hasHighlights = !view.highlights.isEmpty
        view.hasVariance = !view.variance.isEmpty
        if status.adaptive != nil {
            view.adaptiveNote = Self.adaptiveNote(status)
            view.looks = report.claims.compactMap { claim in
                claim.sequential.map { sequential in
                    let claimed = claim.check.claim
                    return StudyView.Looks(
                        heading: Self.cellName(claimed.dataset, claim.configuration, claimed.metric),
                        stop: "\(Self.verdictText(claim.verdict)): \(sequential.stopSentence) "
                            + "(\(sequential.looksSentence)).",
                        headers: SequentialClaimReport.lookHeaders,
                        rows: sequential.looks.map { .init(cells: $0.cells) })
                }
            }
            view.hasLooks = !view.looks.isEmpty
        }
        return view
    }

    static func counts(_ tasks: TaskCounts) -> [StudyView.Count] {
        [
            .init(state: "held", value: tasks.held), .init(state: "queued", value: tasks.queued),
            .init(state: "leased", value: tasks.leased), .init(state: "succeeded", value: tasks.succeeded),
            .init(state: "failed", value: tasks.failed), .init(state: "cancelled", value: tasks.cancelled),
        ]
    }

    /// An interval as a range; nil when it is missing or not a proper interval (never traps).
    static func range(_ interval: Interval?) -> ClosedRange<Double>? {
        guard let interval, interval.lower.isFinite, interval.upper.isFinite, interval.lower <= interval.upper else {
            return nil
        }
        return interval.lower...interval.upper
    }

    static func cellKey(_ dataset: String, _ configuration: String?, _ metric: String) -> String {
        "\(dataset)\u{1}\(configuration ?? "")\u{1}\(metric)"
    }

    static func cellName(_ dataset: String, _ configuration: String?, _ metric: String) -> String {
        "\(metric) on \(dataset)" + (configuration.map { " (\($0))" } ?? "")
    }

    static func verdictText(_ verdict: Verdict) -> String {
        switch verdict {
        case .reproduced: "reproduced"
        case .notReproduced: "not reproduced"
        case .inconclusive: "inconclusive"
        case .insufficientRuns: "insufficient runs"
        }
    }

    /// Server-Sent Events: the task counts every two seconds until the study stops running, then one
    /// `done` event. The page reloads itself on `done` to show the final plots.
    @Sendable func studyEvents(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: Self.studyReaders)
        let (id, _) = try await visibleStudy(context, identity)
        let studies = self.studies
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                // Bounded: a page left open for an hour reconnects (EventSource does so by itself).
                for _ in 0..<1800 {
                    guard let status = try await studies.status(id) else { break }
                    let running = status.state == .running || status.state == .pendingReview
                    let data = try Self.progressEvent(status)
                    try await writer.write(ByteBuffer(string: "event: \(running ? "progress" : "done")\ndata: \(data)\n\n"))
                    if !running { break }
                    try await Task.sleep(for: .seconds(2))
                }
                try await writer.finish(nil)
            })
    }

    /// "Adaptive seeds: digits 10, wine 5 of at most 20 per dataset, step 5; 15 of at most 40 tasks." (nil: fixed seeds)
    static func adaptiveNote(_ status: StudyStatus) -> String? {
        status.adaptive.map {
            "Adaptive \($0.seedsLine), step \($0.step); \(status.taskCount) of at most \($0.maxTaskCount) tasks."
        }
    }

    /// One Server-Sent Event's data: the state, the task counts and, for an adaptive study, its growing
    /// "n of at most max" line (the page's script puts each value in the element of the same name).
    /// JSON-encoded, since the line holds dataset names, which researchers choose.
    static func progressEvent(_ status: StudyStatus) throws -> String {
        let tasks = status.tasks
        var fields: [String: Any] = [
            "state": status.state.rawValue, "held": tasks.held, "queued": tasks.queued, "leased": tasks.leased,
            "succeeded": tasks.succeeded, "failed": tasks.failed, "cancelled": tasks.cancelled,
        ]
        if let note = adaptiveNote(status) { fields["adaptive"] = note }
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Sendable func cancelStudy(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: [.researcher, .admin])
        let form = try await FormBody.read(request)
        try PageAccess.checkCSRF(form, context)
        let (id, isOwner) = try await visibleStudy(context, identity)
        // As POST /v1/studies/{id}/cancel: the owner or an admin; anyone else gets 404.
        guard isOwner || identity.isAdmin else { throw Problem.notFound("No study \(id).", field: "id") }
        guard try await studies.cancel(id) != nil else {
            throw Problem.conflict("The study is not running (already completed or cancelled).", field: "id")
        }
        context.logger.info("study cancelled from the dashboard", metadata: ["repro.study.id": "\(id)"])
        return Response(status: .seeOther, headers: [.location: "/studies/\(id.uuidString.lowercased())"])
    }
}


extension DashboardController {
    /// A run's MLflow params for the runs table: `name=value`, sorted by name, each value cut to 40
    /// characters as in the CLI report (all of them are in GET /v1/studies/{id}/runs); "–" when none.
    static func paramsText(_ params: [String: String]?) -> String {
        guard let params, !params.isEmpty else { return "–" }
        return params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.prefix(40))" }.joined(separator: ", ")
    }
}
