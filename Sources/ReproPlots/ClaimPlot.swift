/// The claim plot: one row per claim, each on its own value axis, showing the claimed value with its
/// tolerance band, the measured mean with its 95 % interval, and each run as a dot. Rows with more
/// than ``StripPlot/maxDots`` runs draw the runs as ``bins`` value bins instead (shaded by count).
public enum ClaimPlot {
    /// One claim.
    public struct Row: Sendable {
        public var label: String
        public var claimed: Double
        public var tolerance: Double?
        public var mean: Double?
        public var ci95: ClosedRange<Double>?
        public var runs: [Double]
        public var verdict: String

        public init(
            label: String, claimed: Double, tolerance: Double?, mean: Double?, ci95: ClosedRange<Double>?, runs: [Double],
            verdict: String
        ) {
            self.label = label
            self.claimed = claimed
            self.tolerance = tolerance
            self.mean = mean
            self.ci95 = ci95
            self.runs = runs
            self.verdict = verdict
        }
    }

    /// Value bins of a row with many runs.
    public static let bins = 60

    /// Renders the rows (an empty list gives a plot that says so).
    public static func render(id: String, title: String, rows: [Row]) -> Plot {
        let width = 560.0
        let rowHeight = 56.0
        let left = 8.0
        let right = width - 110
        let height = Swift.max(Double(rows.count) * rowHeight, 40) + 8
        var desc = "\(rows.count) claim\(rows.count == 1 ? "" : "s"). "
        desc += rows.map { row in
            "\(row.label): claimed \(SVG.label(row.claimed))\(row.tolerance.map { " ± \(SVG.label($0))" } ?? ""), measured mean \(SVG.label(row.mean)) over \(row.runs.filter(\.isFinite).count) runs, \(row.verdict)."
        }.joined(separator: " ")
        var svg = SVG.open(id: id, width: width, height: height, title: title, desc: desc, className: "claims")
        var marks = 0
        var table: [[String]] = []
        for (index, row) in rows.enumerated() {
            let runs = row.runs.filter(\.isFinite)
            var extent = runs + [row.claimed]
            if let tolerance = row.tolerance { extent += [row.claimed - tolerance, row.claimed + tolerance] }
            if let mean = row.mean { extent.append(mean) }
            if let ci = row.ci95 { extent += [ci.lowerBound, ci.upperBound] }
            let x = LinearScale(covering: extent, rangeStart: left, rangeEnd: right)
            let y0 = 4 + Double(index) * rowHeight
            let mid = y0 + 30
            svg += "<g class=\"claim-row\" data-claim=\"\(index)\" data-runs=\"\(runs.count)\">"
            svg += SVG.text(left, y0 + 12, row.label, className: "lbl claim-name")
            svg += SVG.text(width - 4, mid + 4, row.verdict, anchor: "end", className: "lbl verdict verdict-\(SVG.escape(row.verdict.replacingSpaces()))")
            if let tolerance = row.tolerance, tolerance.isFinite, tolerance > 0 {
                let x0 = x(row.claimed - tolerance)
                svg += "<rect class=\"band\" x=\"\(SVG.number(x0))\" y=\"\(SVG.number(mid - 12))\" width=\"\(SVG.number(Swift.max(x(row.claimed + tolerance) - x0, 0.5)))\" height=\"24\"/>"
            }
            svg += "<line class=\"claim\" x1=\"\(SVG.number(x(row.claimed)))\" x2=\"\(SVG.number(x(row.claimed)))\" y1=\"\(SVG.number(mid - 14))\" y2=\"\(SVG.number(mid + 14))\"><title>claimed \(SVG.escape(SVG.label(row.claimed)))</title></line>"
            if runs.count > StripPlot.maxDots {
                let (counts, lower, binWidth) = Histogram.bin(runs, bins: bins, domain: x)
                let most = Double(counts.max() ?? 1)
                for (bin, count) in counts.enumerated() where count > 0 {
                    let x0 = x(lower + Double(bin) * binWidth)
                    let opacity = 0.2 + 0.8 * Double(count) / most
                    svg += "<rect class=\"bin\" data-count=\"\(count)\" x=\"\(SVG.number(x0))\" y=\"\(SVG.number(mid - 6))\" width=\"\(SVG.number(Swift.max(x(lower + Double(bin + 1) * binWidth) - x0, 0.5)))\" height=\"12\" fill-opacity=\"\(SVG.number(opacity))\"/>"
                    marks += 1
                }
            } else {
                for value in runs {
                    svg += "<circle class=\"run\" cx=\"\(SVG.number(x(value)))\" cy=\"\(SVG.number(mid))\" r=\"3\"/>"
                    marks += 1
                }
            }
            if let ci = row.ci95, ci.lowerBound.isFinite, ci.upperBound.isFinite {
                svg += "<line class=\"ci\" x1=\"\(SVG.number(x(ci.lowerBound)))\" x2=\"\(SVG.number(x(ci.upperBound)))\" y1=\"\(SVG.number(mid + 10))\" y2=\"\(SVG.number(mid + 10))\"/>"
            }
            if let mean = row.mean, mean.isFinite {
                let cx = x(mean)
                svg += "<path class=\"mean\" d=\"M\(SVG.number(cx)) \(SVG.number(mid + 5))l5 5l-5 5l-5 -5z\"><title>mean \(SVG.escape(SVG.label(mean)))</title></path>"
            }
            svg += SVG.text(left, mid + 24, SVG.label(x.domainLower), className: "lbl tick")
            svg += SVG.text(right, mid + 24, SVG.label(x.domainUpper), anchor: "end", className: "lbl tick")
            svg += "</g>"
            table.append([
                row.label, SVG.label(row.claimed), SVG.label(row.tolerance), SVG.label(row.mean),
                row.ci95.map { "\(SVG.label($0.lowerBound)) to \(SVG.label($0.upperBound))" } ?? "–", "\(runs.count)",
                row.verdict,
            ])
        }
        if rows.isEmpty { svg += SVG.text(width / 2, 28, "no claims", anchor: "middle", className: "lbl empty") }
        svg += "</svg>"
        return Plot(
            svg: svg,
            table: PlotTable(headers: ["claim", "claimed", "tolerance", "mean", "95 % CI", "runs", "verdict"], rows: table),
            markCount: marks)
    }
}

extension String {
    /// A CSS-class-friendly form: spaces become dashes.
    func replacingSpaces() -> String { String(map { $0 == " " || $0 == "_" ? "-" : $0 }) }
}
