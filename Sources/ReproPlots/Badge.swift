/// A badge in the style of CI badges: a grey label on the left, a coloured message on the right.
public enum Badge {
    /// The badge of a preprint score: green from 75, yellow from 50, red below, grey without a score.
    public static func score(_ score: Double?, reproduced: Int, decided: Int) -> String {
        guard let score, score.isFinite else { return render(label: "reproducibility", message: "not yet scored", color: "#9f9f9f") }
        let color = score >= 75 ? "#2e7d32" : score >= 50 ? "#b58900" : "#c62828"
        let rounded = Int(score.rounded())
        return render(label: "reproducibility", message: "\(rounded) · \(reproduced)/\(decided) claims", color: color)
    }

    /// Any badge; widths come from a per-character estimate of 11 px Verdana.
    public static func render(label: String, message: String, color: String) -> String {
        func width(_ text: String) -> Double { Double(text.count) * 6.5 + 12 }
        let left = width(label)
        let right = width(message)
        let total = left + right
        let safeColor = color.allSatisfy { $0.isHexDigit || $0 == "#" } ? color : "#9f9f9f"
        let title = "\(label): \(message)"
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(SVG.number(total))" height="20" role="img" aria-label="\(SVG.escape(title))">\
            <title>\(SVG.escape(title))</title>\
            <rect width="\(SVG.number(left))" height="20" rx="3" fill="#555"/>\
            <rect x="\(SVG.number(left))" width="\(SVG.number(right))" height="20" rx="3" fill="\(safeColor)"/>\
            <rect x="\(SVG.number(left))" width="4" height="20" fill="\(safeColor)"/>\
            <g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">\
            <text x="\(SVG.number(left / 2))" y="14">\(SVG.escape(label))</text>\
            <text x="\(SVG.number(left + right / 2))" y="14">\(SVG.escape(message))</text></g></svg>
            """
    }
}
