/// A histogram of values over a fixed domain (e.g. scores 0–100): one bar per bin, so the element
/// count is the bin count whatever the number of values.
public enum Histogram {
    /// Renders `values` in `bins` equal bins over `domain`; values outside it go to the end bins.
    public static func render(
        id: String, title: String, values: [Double], domain: ClosedRange<Double>, bins: Int = 20, unit: String = ""
    ) -> Plot {
        let bins = Swift.max(bins, 1)
        let scale = LinearScale(domain: domain, rangeStart: 0, rangeEnd: 1)
        let (counts, _, _) = bin(values, bins: bins, lower: scale.domainLower, upper: scale.domainUpper)
        return render(id: id, title: title, counts: counts, domain: domain, unit: unit)
    }

    /// Renders counts already binned (equal bins over `domain`), e.g. by a database aggregate.
    public static func render(id: String, title: String, counts: [Int], domain: ClosedRange<Double>, unit: String = "")
        -> Plot
    {
        let width = 420.0
        let height = 180.0
        let left = 40.0
        let bottom = 24.0
        let top = 10.0
        let counts = counts.isEmpty ? [0] : counts.map { Swift.max($0, 0) }
        let bins = counts.count
        let x = LinearScale(domain: domain, rangeStart: left, rangeEnd: width - 10)
        let lower = x.domainLower
        let binWidth = (x.domainUpper - x.domainLower) / Double(bins)
        let most = counts.max() ?? 0
        let y = LinearScale(domain: 0...Double(Swift.max(most, 1)), rangeStart: height - bottom, rangeEnd: top)
        let total = counts.reduce(0, +)
        var desc = "Distribution of \(total) value\(total == 1 ? "" : "s") in \(bins) bins from \(SVG.label(x.domainLower)) to \(SVG.label(x.domainUpper))\(unit)."
        if total == 0 { desc += " No values." }
        var svg = SVG.open(id: id, width: width, height: height, title: title, desc: desc, className: "histogram")
        svg += Axis.vertical(y, x: left, x2: width - 10)
        var marks = 0
        var rows: [[String]] = []
        for (index, count) in counts.enumerated() {
            let from = lower + Double(index) * binWidth
            rows.append(["\(SVG.label(from))–\(SVG.label(from + binWidth))", "\(count)"])
            guard count > 0 else { continue }
            let x0 = x(from)
            let x1 = x(from + binWidth)
            svg += "<rect class=\"bar\" data-count=\"\(count)\" x=\"\(SVG.number(x0 + 0.5))\" y=\"\(SVG.number(y(Double(count))))\" width=\"\(SVG.number(Swift.max(x1 - x0 - 1, 0.5)))\" height=\"\(SVG.number(y(0) - y(Double(count))))\"><title>\(count) in \(SVG.escape(SVG.label(from)))–\(SVG.escape(SVG.label(from + binWidth)))</title></rect>"
            marks += 1
        }
        svg += Axis.horizontal(x, y: height - 6)
        if total == 0 { svg += SVG.text(width / 2, height / 2, "no values", anchor: "middle", className: "lbl empty") }
        svg += "</svg>"
        return Plot(svg: svg, table: PlotTable(headers: ["range", "count"], rows: rows), markCount: marks)
    }

    /// Counts finite values in `bins` equal bins over a scale's domain.
    static func bin(_ values: [Double], bins: Int, domain: LinearScale) -> (counts: [Int], lower: Double, width: Double) {
        bin(values, bins: bins, lower: domain.domainLower, upper: domain.domainUpper)
    }

    /// Counts finite values in `bins` equal bins over lower…upper; values outside go to the end bins.
    static func bin(_ values: [Double], bins: Int, lower: Double, upper: Double) -> (counts: [Int], lower: Double, width: Double) {
        let width = (upper - lower) / Double(bins)
        var counts = [Int](repeating: 0, count: bins)
        for value in values where value.isFinite {
            let index = Int(((value - lower) / width).rounded(.down))
            counts[Swift.min(Swift.max(index, 0), bins - 1)] += 1
        }
        return (counts, lower, width)
    }
}
