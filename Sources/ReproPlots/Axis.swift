/// Axes and grid lines shared by the plots.
enum Axis {
    /// Horizontal grid lines with labels at the ticks of a vertical scale.
    static func vertical(_ scale: LinearScale, x: Double, x2: Double) -> String {
        var svg = "<g class=\"axis\">"
        for tick in scale.ticks() {
            let y = scale(tick)
            svg += "<line class=\"grid\" x1=\"\(SVG.number(x))\" x2=\"\(SVG.number(x2))\" y1=\"\(SVG.number(y))\" y2=\"\(SVG.number(y))\"/>"
            svg += SVG.text(x - 4, y + 4, SVG.label(tick), anchor: "end")
        }
        svg += "</g>"
        return svg
    }

    /// Tick labels under a horizontal scale.
    static func horizontal(_ scale: LinearScale, y: Double, label: (Double) -> String = { SVG.label($0) }) -> String {
        var svg = "<g class=\"axis\">"
        for tick in scale.ticks(4) {
            svg += SVG.text(scale(tick), y, label(tick), anchor: "middle")
        }
        svg += "</g>"
        return svg
    }
}
