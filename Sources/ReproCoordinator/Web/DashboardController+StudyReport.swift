import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReproCore
import ReproPlots
import ReproStats

extension DashboardController {
    /// The report and the plots of the study page: what ``StudyPageCache`` keeps while the study's status
    /// and accepted runs stay the same.
    static func reportParts(_ id: UUID, status: StudyStatus, spec: StudySpec, values: [RunValue]) -> StudyPageCache.Parts {
        let report = ReportBuilder.build(
            studyID: id, preprintID: status.preprintID, title: status.title, state: status.state, tasks: status.tasks,
            // No bootstrap: the page shows t intervals only, and the bootstrap would dominate its cost.
            spec: spec, values: values, adaptive: status.adaptive, bootstrap: nil)
        let replicas = Set(values.map(\.replica)).count > 1

        var strips: [PlotView] = []
        var byCell: [String: [RunValue]] = [:]
        for value in values { byCell[Self.cellKey(value.dataset, value.configuration, value.metric), default: []].append(value) }
        for (index, summary) in report.summaries.enumerated() {
            let cell = byCell[Self.cellKey(summary.dataset, summary.configuration, summary.metric)] ?? []
            let claim = report.claims.first {
                $0.check.claim.dataset == summary.dataset && $0.check.claim.metric == summary.metric
                    && $0.configuration == summary.configuration
            }
            let name = Self.cellName(summary.dataset, summary.configuration, summary.metric)
            let plot = StripPlot.render(
                .init(
                    id: "strip-\(index)", title: "\(name): one dot per run", metric: summary.metric,
                    points: cell.sorted { ($0.seed, $0.replica) < ($1.seed, $1.replica) }.map {
                        StripPlot.Point(group: replicas ? "replica \($0.replica)" : "runs", seed: $0.seed, value: $0.value, runID: $0.runID)
                    },
                    mean: summary.summary.mean,
                    ci95: Self.range(summary.summary.ci95Mean),
                    claimed: claim?.check.claim.value, tolerance: claim?.check.tolerance))
            strips.append(PlotView(heading: name, plot: plot))
        }
        let claimRows = report.claims.map { claim -> ClaimPlot.Row in
            let check = claim.check
            let runs = (byCell[Self.cellKey(check.claim.dataset, claim.configuration, check.claim.metric)] ?? []).map(\.value)
            return ClaimPlot.Row(
                label: Self.cellName(check.claim.dataset, claim.configuration, check.claim.metric)
                    + " \(check.claim.direction.rawValue) \(SVG.label(check.claim.value))",
                claimed: check.claim.value, tolerance: check.tolerance, mean: check.mean,
                ci95: Self.range(check.ci95Mean), runs: runs, verdict: Self.verdictText(claim.verdict))
        }
        let claims = PlotView(
            heading: "Claims", plot: ClaimPlot.render(id: "claims", title: "Claimed values against the runs", rows: claimRows))
        var variance: [PlotView] = []
        for (index, entry) in report.variance.enumerated() {
            var parts = [
                ShareBar.Part(label: "seed", value: entry.seed.varSeed ?? 0),
                ShareBar.Part(label: "repeat", value: entry.seed.varRepeat ?? 0),
            ]
            if let hardware = report.acrossDatasets.first(where: {
                $0.metric == entry.metric && $0.configuration == entry.configuration
            })?.hardware {
                parts.append(ShareBar.Part(label: "hardware", value: hardware.varHardware))
            }
            let name = Self.cellName(entry.dataset, entry.configuration, entry.metric)
            variance.append(
                PlotView(heading: name, plot: ShareBar.render(id: "variance-\(index)", title: "Variance split of \(name)", parts: parts)))
        }

        return StudyPageCache.Parts(report: report, strips: strips, claims: claims, variance: variance)
    }
}
