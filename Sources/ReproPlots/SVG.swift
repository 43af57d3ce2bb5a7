/// Helpers for writing SVG text: escaping and number formatting that never prints NaN.
public enum SVG {
    /// Escapes text for use in element content and in double- or single-quoted attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0.
                if character.value < 0x20 && character != "\t" && character != "\n" && character != "\r" {
                    out += " "
                } else {
                    out.unicodeScalars.append(character)
                }
            }
        }
        return out
    }

    /// A coordinate with at most two decimals. A non-finite input (which the layout code never
    /// produces on purpose) is written as 0 so that the document stays valid.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let scaled = (value * 100).rounded()
        let integer = Int(scaled)
        let sign = integer < 0 ? "-" : ""
        let magnitude = integer.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        if fraction == 0 { return "\(sign)\(whole)" }
        if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A value for people (tables, labels): up to four significant decimals, no exponent for common sizes.
    public static func label(_ value: Double?) -> String {
        guard let value else { return "–" }
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        let magnitude = Swift.abs(value)
        let decimals: Int
        switch magnitude {
        case 0: return "0"
        case ..<0.001: return exponent(value)
        case ..<1: decimals = 4
        case ..<100: decimals = 3
        case ..<1e7: decimals = 1
        default: return exponent(value)
        }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        var text = number(value, decimals: decimals, scale: scale)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    private static func number(_ value: Double, decimals: Int, scale: Double) -> String {
        let scaled = (Swift.abs(value) * scale).rounded()
        let integer = UInt64(scaled)
        let whole = integer / UInt64(scale)
        var fraction = String(integer % UInt64(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return (value < 0 ? "-" : "") + "\(whole)." + fraction
    }

    private static func exponent(_ value: Double) -> String {
        var exponent = 0
        var mantissa = Swift.abs(value)
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        return (value < 0 ? "-" : "") + number(mantissa, decimals: 3, scale: 1000) + "e\(exponent)"
    }

    /// The opening tag of an accessible plot: role img, labelled by its title and described by its desc.
    static func open(id: String, width: Double, height: Double, title: String, desc: String, className: String) -> String {
        let safeID = escape(id)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="plot \(className)" viewBox="0 0 \(number(width)) \(number(height))" \
            width="\(number(width))" height="\(number(height))" role="img" aria-labelledby="\(safeID)-t \(safeID)-d">\
            <title id="\(safeID)-t">\(escape(title))</title><desc id="\(safeID)-d">\(escape(desc))</desc>
            """
    }

    /// A text element.
    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", className: String = "lbl")
        -> String
    {
        "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" class=\"\(className)\">\(escape(content))</text>"
    }
}
