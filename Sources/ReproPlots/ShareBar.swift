/// One horizontal bar split into shares (where the variance comes from: seed, repeat, hardware).
public enum ShareBar {
    /// One part of the bar.
    public struct Part: Sendable, Equatable {
        public var label: String
        public var value: Double

        public init(label: String, value: Double) {
            self.label = label
            self.value = value
        }
    }

    /// Renders the parts in proportion to their (non-negative, finite) values.
    public static func render(id: String, title: String, parts: [Part]) -> Plot {
        let width = 420.0
        let height = 52.0
        let usable = parts.map { Part(label: $0.label, value: $0.value.isFinite ? Swift.max($0.value, 0) : 0) }
        let total = usable.reduce(0) { $0 + $1.value }
        let shares = usable.map { total > 0 ? $0.value / total : 0 }
        let desc = total > 0
            ? usable.enumerated().map { "\($1.label) \(SVG.label(shares[$0] * 100)) %" }.joined(separator: ", ") + "."
            : "No variance to split."
        var svg = SVG.open(id: id, width: width, height: height, title: title, desc: desc, className: "share")
        var x = 0.0
        var marks = 0
        for (index, part) in usable.enumerated() where shares[index] > 0 {
            let w = shares[index] * width
            svg += "<rect class=\"part part-\(index)\" x=\"\(SVG.number(x))\" y=\"0\" width=\"\(SVG.number(w))\" height=\"28\"><title>\(SVG.escape(part.label)): \(SVG.escape(SVG.label(shares[index] * 100))) %</title></rect>"
            if w > 60 { svg += SVG.text(x + 4, 44, "\(part.label) \(SVG.label(shares[index] * 100)) %") }
            x += w
            marks += 1
        }
        if total == 0 { svg += SVG.text(width / 2, 20, "no variance to split", anchor: "middle", className: "lbl empty") }
        svg += "</svg>"
        let rows = usable.enumerated().map { [$1.label, SVG.label($1.value), total > 0 ? SVG.label(shares[$0] * 100) + " %" : "–"] }
        return Plot(svg: svg, table: PlotTable(headers: ["source", "variance", "share"], rows: rows), markCount: marks)
    }
}
