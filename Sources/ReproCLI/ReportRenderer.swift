import Foundation
import ReproCore
import ReproStats

/// Renders reports and scores for the terminal: a table per dataset, one line per claim, a summary.
enum ReportRenderer {
    static func render(reportJSON: Data) throws -> String {
        let report = try WireCoding.decoder().decode(StudyReport.self, from: reportJSON)
        return render(report)
    }

    static func render(_ report: StudyReport) -> String {
        var out: [String] = []
        out.append("Reproducibility report — \(report.title) (\(report.preprintID))")
        out.append(
            "Study \(report.studyID.uuidString.lowercased()) · \(report.state.rawValue) · \(report.tasks.succeeded)/\(report.tasks.total) tasks succeeded · \(report.acceptedRuns) accepted runs")
        if let isolation = report.isolation, let line = describe(isolation) { out.append(line) }
        out.append("")
        let datasets = Dictionary(grouping: report.summaries) { $0.dataset + ($0.configuration.map { " / " + $0 } ?? "") }
        for name in datasets.keys.sorted() {
            out.append("Dataset \(name)")
            var table = [["metric", "n", "mean", "sd", "95% CI of mean", "min", "max", "median", "cv %", "outliers"]]
            for entry in datasets[name]!.sorted(by: { $0.metric < $1.metric }) {
                let s = entry.summary
                table.append([
                    entry.metric, "\(s.n)", f(s.mean), f(s.sd),
                    s.ci95Mean.map { "[\(f($0.lower)), \(f($0.upper))]" } ?? "—", f(s.min), f(s.max), f(s.median),
                    s.cv.map { String(format: "%.2f", $0) } ?? "—", "\(entry.outlierRuns.count)",
                ])
            }
            out.append(contentsOf: Self.table(table).map { "  " + $0 })
            out.append("")
        }
        if !report.claims.isEmpty {
            out.append("Claims")
            for claim in report.claims {
                let check = claim.check
                let mark: String
                switch claim.verdict {
                case .reproduced: mark = "✔ reproduced"
                case .notReproduced: mark = "✘ not reproduced"
                case .inconclusive: mark = "? inconclusive"
                case .insufficientRuns: mark = "· insufficient runs"
                }
                let place = check.claim.dataset + (claim.configuration.map { "/" + $0 } ?? "")
                out.append(
                    "  \(mark.padding(toLength: 19, withPad: " ", startingAt: 0)) \(check.claim.metric) on \(place): claimed \(f(check.claim.value)) (\(check.claim.direction.rawValue), ±\(f(check.tolerance))), measured \(f(check.mean)) over \(check.n) runs"
                        + (check.ci95Mean.map { ", 95% CI [\(f($0.lower)), \(f($0.upper))]" } ?? ""))
                if let sequential = claim.sequential { out.append(contentsOf: looks(sequential).map { "      " + $0 }) }
            }
            out.append("")
        }
        for entry in report.variance {
            let v = entry.seed
            out.append(
                "Variance \(entry.dataset) \(entry.metric): var_seed \(f(v.varSeed)), var_repeat \(f(v.varRepeat)), ICC \(f(v.icc)), repeatability r \(f(v.repeatability)), reproducibility R \(f(v.reproducibility)), bitwise-identical replicas \(v.deterministicShare.map { String(format: "%.0f %%", $0 * 100) } ?? "—")")
        }
        for entry in report.acrossDatasets {
            out.append(
                "Across datasets (\(entry.metric)): F = \(f(entry.anova.f)), p = \(f(entry.anova.p)), between-dataset share \(entry.anova.betweenShare.map { String(format: "%.0f %%", $0 * 100) } ?? "—")")
        }
        if !report.variance.isEmpty || !report.acrossDatasets.isEmpty { out.append("") }
        out.append(contentsOf: runsWithParams(report))
        out.append("Summary")
        for line in report.highlights { out.append("  " + line) }
        out.append("  Study score contribution: " + describe(report.score))
        return out.joined(separator: "\n")
    }

    /// An adaptive claim's looks (seeds, n, each test's z bound with its nominal level, α spent, verdict) and
    /// why they ended.
    static func looks(_ sequential: SequentialClaimReport) -> [String] {
        let heading = "adaptive seeds: \(sequential.stopSentence) (\(sequential.looksSentence))"
        guard !sequential.looks.isEmpty else { return [heading] }
        return [heading] + Self.table([SequentialClaimReport.lookHeaders] + sequential.looks.map(\.cells))
    }

    /// The runs table with the params each run logged with MLflow; nothing when no run logged any.
    static func runsWithParams(_ report: StudyReport) -> [String] {
        let runs = report.runs ?? []
        let names = Set(runs.flatMap { ($0.params ?? [:]).keys }).sorted()
        guard !names.isEmpty else { return [] }
        var table = [["run", "dataset", "seed", "replica"] + names]
        for run in runs {
            table.append(
                ["\(run.runID)", run.dataset + (run.configuration.map { "/" + $0 } ?? ""), "\(run.seed)", "\(run.replica)"]
                    + names.map { String((run.params?[$0] ?? "—").prefix(40)) })
        }
        return ["Runs (params logged with MLflow)"] + Self.table(table).map { "  " + $0 } + [""]
    }

    static func renderScore(scoreJSON: Data) throws -> String {
        let score = try WireCoding.decoder().decode(PreprintScore.self, from: scoreJSON)
        var out = ["\(score.title) (\(score.preprintID)) — \(score.studies) stud\(score.studies == 1 ? "y" : "ies")"]
        out.append("Score: " + describe(score.score))
        for claim in score.claims {
            out.append("  \(claim.verdict.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)) \(claim.metric) on \(claim.dataset): claimed \(f(claim.claimed)), measured \(f(claim.mean)) (n = \(claim.n))")
        }
        return out.joined(separator: "\n")
    }

    static func describe(_ score: ReproducibilityScore) -> String {
        let value = score.score.map { String(format: "%.2f", $0) } ?? "not yet scored"
        return "\(value) (\(score.reproduced) of \(score.decided) decided claims reproduced, \(score.inconclusive) inconclusive, \(score.runs) runs)"
            + (score.badge == .reproduced ? " · badge: reproduced" : "")
    }

    /// "isolation: 15 strict" (levels with runs, strict first); nil for a study without accepted runs.
    /// Runs whose worker did not report a level count as "unknown".
    static func describe(_ isolation: IsolationCounts) -> String? {
        let parts = RunIsolation.allCases.filter { isolation[$0] > 0 }.map { "\(isolation[$0]) \($0.rawValue)" }
        return parts.isEmpty ? nil : "isolation: " + parts.joined(separator: ", ")
    }

    static func f(_ value: Double?) -> String {
        guard let value else { return "—" }
        return String(format: "%.4f", value)
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.enumerated().flatMap { index, row -> [String] in
            let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return index == 0 ? [line, widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] : [line]
        }
    }
}
