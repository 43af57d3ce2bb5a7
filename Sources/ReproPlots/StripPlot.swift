/// A strip plot of one (dataset, metric) cell: a dot per run, runs grouped in columns (replicas side by
/// side), the mean with its 95 % interval, and the claimed value with its tolerance band as lines.
///
/// Thinning: up to ``maxDots`` runs every run is a `<circle class="run">`. Above it, each column is
/// aggregated into at most ``bins`` value bins drawn as one `<rect class="bin">` each, whose width
/// grows with its count (a sideways histogram); the desc and the table say so. The element count is
/// then bounded by columns × bins, whatever the number of runs.
public enum StripPlot {
    /// One run.
    public struct Point: Sendable, Equatable {
        /// Column of the run (e.g. "replica 0").
        public var group: String
        public var seed: Int64
        public var value: Double
        /// Run id, shown in the dot's tooltip.
        public var runID: Int64?

        public init(group: String, seed: Int64, value: Double, runID: Int64? = nil) {
            self.group = group
            self.seed = seed
            self.value = value
            self.runID = runID
        }
    }

    /// Everything the plot shows.
    public struct Input: Sendable {
        public var id: String
        public var title: String
        public var metric: String
        public var points: [Point]
        public var mean: Double?
        public var ci95: ClosedRange<Double>?
        public var claimed: Double?
        public var tolerance: Double?

        public init(
            id: String, title: String, metric: String, points: [Point], mean: Double? = nil,
            ci95: ClosedRange<Double>? = nil, claimed: Double? = nil, tolerance: Double? = nil
        ) {
            self.id = id
            self.title = title
            self.metric = metric
            self.points = points
            self.mean = mean
            self.ci95 = ci95
            self.claimed = claimed
            self.tolerance = tolerance
        }
    }

    /// Runs drawn one by one up to this count.
    public static let maxDots = 1_000
    /// Value bins per column above ``maxDots``.
    public static let bins = 40

    static let width = 420.0
    static let height = 240.0
    static let left = 56.0
    static let right = 96.0
    static let top = 12.0
    static let bottom = 28.0

    /// Renders the plot.
    public static func render(_ input: Input) -> Plot {
        let finite = input.points.filter { $0.value.isFinite }
        var extent = finite.map(\.value)
        if let mean = input.mean, mean.isFinite { extent.append(mean) }
        if let ci = input.ci95 { extent += [ci.lowerBound, ci.upperBound] }
        if let claimed = input.claimed, claimed.isFinite {
            extent.append(claimed)
            if let tolerance = input.tolerance, tolerance.isFinite {
                extent += [claimed - tolerance, claimed + tolerance]
            }
        }
        let y = LinearScale(covering: extent, rangeStart: height - bottom, rangeEnd: top)
        var groups: [String] = []
        var byGroup: [String: [Point]] = [:]
        for point in finite {
            if byGroup[point.group] == nil { groups.append(point.group) }
            byGroup[point.group, default: []].append(point)
        }
        let plotRight = width - right
        let columnWidth = groups.isEmpty ? plotRight - left : (plotRight - left) / Double(groups.count)
        let aggregated = finite.count > maxDots

        let skipped = input.points.count - finite.count
        var desc = "\(finite.count) run\(finite.count == 1 ? "" : "s") of \(input.metric)"
        desc += groups.count > 1 ? " in \(groups.count) columns (\(groups.joined(separator: ", ")))." : "."
        if aggregated { desc += " More than \(maxDots) runs: each column is drawn as \(bins) value bins whose width is the count." }
        if skipped > 0 { desc += " \(skipped) non-finite value\(skipped == 1 ? "" : "s") not drawn." }
        if let mean = input.mean { desc += " Mean \(SVG.label(mean))" }
        if let ci = input.ci95 { desc += ", 95 % CI \(SVG.label(ci.lowerBound)) to \(SVG.label(ci.upperBound))" }
        if input.mean != nil { desc += "." }
        if let claimed = input.claimed {
            desc += " Claimed \(SVG.label(claimed))"
            if let tolerance = input.tolerance { desc += " ± \(SVG.label(tolerance))" }
            desc += "."
        }

        var svg = SVG.open(id: input.id, width: width, height: height, title: input.title, desc: desc, className: "strip")
        svg += Axis.vertical(y, x: left, x2: plotRight)
        if let claimed = input.claimed, claimed.isFinite {
            if let tolerance = input.tolerance, tolerance.isFinite, tolerance > 0 {
                let top = y(claimed + tolerance)
                let bottom = y(claimed - tolerance)
                svg += "<rect class=\"band\" x=\"\(SVG.number(left))\" y=\"\(SVG.number(top))\" width=\"\(SVG.number(plotRight - left))\" height=\"\(SVG.number(Swift.max(bottom - top, 0.5)))\"/>"
            }
            svg += "<line class=\"claim\" x1=\"\(SVG.number(left))\" x2=\"\(SVG.number(plotRight))\" y1=\"\(SVG.number(y(claimed)))\" y2=\"\(SVG.number(y(claimed)))\"><title>claimed \(SVG.escape(SVG.label(claimed)))</title></line>"
            svg += SVG.text(plotRight + 4, y(claimed) + 4, "claimed", className: "lbl claim-lbl")
        }
        var marks = 0
        svg += "<g class=\"runs\" data-runs=\"\(finite.count)\">"
        for (index, group) in groups.enumerated() {
            let points = byGroup[group] ?? []
            let center = left + columnWidth * (Double(index) + 0.5)
            if aggregated {
                let (counts, binLower, binWidth) = Histogram.bin(points.map(\.value), bins: bins, domain: y)
                let most = counts.max() ?? 1
                for (bin, count) in counts.enumerated() where count > 0 {
                    let lower = binLower + Double(bin) * binWidth
                    let top = y(lower + binWidth)
                    let h = Swift.max(y(lower) - top, 0.5)
                    let w = Swift.max(columnWidth * 0.8 * Double(count) / Double(most), 1)
                    svg += "<rect class=\"bin\" data-count=\"\(count)\" x=\"\(SVG.number(center - w / 2))\" y=\"\(SVG.number(top))\" width=\"\(SVG.number(w))\" height=\"\(SVG.number(h))\"><title>\(count) runs in \(SVG.escape(SVG.label(lower)))–\(SVG.escape(SVG.label(lower + binWidth)))</title></rect>"
                    marks += 1
                }
            } else {
                for point in points {
                    // Deterministic jitter from the seed, so the same study draws the same picture.
                    let jitter = (Double(UInt64(bitPattern: point.seed &* 2_654_435_761) % 1000) / 1000 - 0.5)
                        * Swift.min(columnWidth * 0.6, 40)
                    let label = "seed \(point.seed)\(point.runID.map { ", run \($0)" } ?? ""): \(SVG.label(point.value))"
                    svg += "<circle class=\"run\" cx=\"\(SVG.number(center + jitter))\" cy=\"\(SVG.number(y(point.value)))\" r=\"3.5\"><title>\(SVG.escape(label))</title></circle>"
                    marks += 1
                }
            }
            if groups.count > 1 {
                svg += SVG.text(center, height - 8, group, anchor: "middle")
            }
        }
        svg += "</g>"
        if let mean = input.mean, mean.isFinite {
            let x = plotRight - 6
            if let ci = input.ci95, ci.lowerBound.isFinite, ci.upperBound.isFinite {
                svg += "<line class=\"ci\" x1=\"\(SVG.number(x))\" x2=\"\(SVG.number(x))\" y1=\"\(SVG.number(y(ci.lowerBound)))\" y2=\"\(SVG.number(y(ci.upperBound)))\"/>"
            }
            svg += "<line class=\"mean\" x1=\"\(SVG.number(left))\" x2=\"\(SVG.number(plotRight))\" y1=\"\(SVG.number(y(mean)))\" y2=\"\(SVG.number(y(mean)))\"><title>mean \(SVG.escape(SVG.label(mean)))</title></line>"
            svg += SVG.text(plotRight + 4, y(mean) + 4, "mean", className: "lbl mean-lbl")
        }
        if finite.isEmpty {
            svg += SVG.text((left + plotRight) / 2, height / 2, "no runs yet", anchor: "middle", className: "lbl empty")
        }
        svg += "</svg>"

        var rows: [[String]]
        if aggregated {
            rows = []
            for group in groups {
                let values = (byGroup[group] ?? []).map(\.value)
                rows.append([group, "\(values.count) runs", "min \(SVG.label(values.min()))", "max \(SVG.label(values.max()))"])
            }
            return Plot(svg: svg, table: PlotTable(headers: ["column", "runs", "lowest", "highest"], rows: rows), markCount: marks)
        }
        rows = finite.map { [$0.group, "\($0.seed)", $0.runID.map(String.init) ?? "", SVG.label($0.value)] }
        return Plot(svg: svg, table: PlotTable(headers: ["column", "seed", "run", input.metric], rows: rows), markCount: marks)
    }
}
