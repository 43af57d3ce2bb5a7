/// A line chart of a value over time (the score history). Above ``maxPoints`` points the series is
/// thinned to the lowest and highest value of each of ``maxPoints``/2 time buckets, which keeps every
/// peak and dip while bounding the path's length.
public enum LineChart {
    /// One point: seconds since 1970 and the value (nil: no value then, the line breaks).
    public struct Point: Sendable, Equatable {
        public var time: Double
        public var value: Double?
        public var label: String

        public init(time: Double, value: Double?, label: String) {
            self.time = time
            self.value = value
            self.label = label
        }
    }

    public static let maxPoints = 400

    /// Renders the series over a fixed value domain (e.g. 0…100).
    public static func render(id: String, title: String, points: [Point], domain: ClosedRange<Double>) -> Plot {
        let width = 420.0
        let height = 180.0
        let left = 40.0
        let right = width - 10
        let top = 10.0
        let bottom = height - 24
        let sorted = points.filter { $0.time.isFinite }.sorted { $0.time < $1.time }
        let thinned = thin(sorted)
        let x = LinearScale(covering: thinned.map(\.time), rangeStart: left, rangeEnd: right, padding: 0.02)
        let y = LinearScale(domain: domain, rangeStart: bottom, rangeEnd: top)
        let values = sorted.compactMap(\.value).filter(\.isFinite)
        var desc = "\(sorted.count) point\(sorted.count == 1 ? "" : "s")"
        if let first = values.first, let last = values.last { desc += ", from \(SVG.label(first)) to \(SVG.label(last))" }
        if thinned.count < sorted.count { desc += "; drawn as the lowest and highest value of \(maxPoints / 2) time buckets" }
        desc += "."
        var svg = SVG.open(id: id, width: width, height: height, title: title, desc: desc, className: "line")
        svg += Axis.vertical(y, x: left, x2: right)
        var path = ""
        var move = true
        var marks = 0
        for point in thinned {
            guard let value = point.value, value.isFinite else {
                move = true
                continue
            }
            path += "\(move ? "M" : "L")\(SVG.number(x(point.time))) \(SVG.number(y(value)))"
            move = false
            marks += 1
        }
        if !path.isEmpty { svg += "<path class=\"series\" d=\"\(path)\"/>" }
        if thinned.count <= 60 {
            for point in thinned {
                guard let value = point.value, value.isFinite else { continue }
                svg += "<circle class=\"point\" cx=\"\(SVG.number(x(point.time)))\" cy=\"\(SVG.number(y(value)))\" r=\"3\"><title>\(SVG.escape(point.label)): \(SVG.escape(SVG.label(value)))</title></circle>"
            }
        }
        if values.isEmpty { svg += SVG.text((left + right) / 2, height / 2, "no values yet", anchor: "middle", className: "lbl empty") }
        svg += "</svg>"
        let rows = sorted.map { [$0.label, SVG.label($0.value)] }
        return Plot(svg: svg, table: PlotTable(headers: ["when", "value"], rows: rows), markCount: marks)
    }

    /// Min and max per time bucket above ``maxPoints`` points, in time order.
    static func thin(_ sorted: [Point]) -> [Point] {
        guard sorted.count > maxPoints, let first = sorted.first?.time, let last = sorted.last?.time, last > first else {
            return Array(sorted.prefix(maxPoints))
        }
        let buckets = maxPoints / 2
        let span = (last - first) / Double(buckets)
        var low = [Point?](repeating: nil, count: buckets)
        var high = [Point?](repeating: nil, count: buckets)
        for point in sorted {
            guard let value = point.value, value.isFinite else { continue }
            let index = Swift.min(Int((point.time - first) / span), buckets - 1)
            if low[index].flatMap(\.value).map({ value < $0 }) ?? true { low[index] = point }
            if high[index].flatMap(\.value).map({ value > $0 }) ?? true { high[index] = point }
        }
        var out: [Point] = []
        for index in 0..<buckets {
            guard let a = low[index], let b = high[index] else { continue }
            if a == b { out.append(a) } else { out += a.time <= b.time ? [a, b] : [b, a] }
        }
        return out
    }
}
