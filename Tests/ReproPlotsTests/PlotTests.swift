import Foundation
import Testing

@testable import ReproPlots

/// Counts non-overlapping occurrences of `needle`.
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

@Suite("SVG plots")
struct PlotTests {
    @Test("escaping covers markup, quotes and control characters")
    func escaping() {
        #expect(SVG.escape(#"<script>alert("x")</script> & 'y'"#)
            == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(SVG.escape("a\u{1}b") == "a b")
    }

    @Test("numbers never print NaN or infinity")
    func numbers() {
        #expect(SVG.number(1.005) == "1" || SVG.number(1.005) == "1.01")
        #expect(SVG.number(-2.5) == "-2.5")
        #expect(SVG.number(0.07) == "0.07")
        #expect(SVG.number(.nan) == "0")
        #expect(SVG.number(.infinity) == "0")
        #expect(SVG.label(0.95123456) == "0.9512")
        #expect(SVG.label(nil) == "–")
    }

    @Test("a scale maps its domain onto its range and survives degenerate domains")
    func scale() {
        let scale = LinearScale(domain: 0...10, rangeStart: 100, rangeEnd: 0)
        #expect(scale(0) == 100)
        #expect(scale(5) == 50)
        #expect(scale(10) == 0)
        #expect(scale(20) == 0)
        let single = LinearScale(covering: [3], rangeStart: 0, rangeEnd: 10)
        #expect(single(3) == 5)
        let empty = LinearScale(covering: [], rangeStart: 0, rangeEnd: 10)
        #expect(empty(0.5) == 5)
        #expect(scale.ticks() == [0, 2, 4, 6, 8, 10])
    }

    @Test("strip plot: dots at the scaled values, claim and mean lines, hostile labels escaped")
    func stripPositions() {
        let points = [
            StripPlot.Point(group: "replica 0", seed: 0, value: 0, runID: 1),
            StripPlot.Point(group: "replica 0", seed: 1, value: 1, runID: 2),
        ]
        let plot = StripPlot.render(
            .init(id: "s1", title: "<b>digits</b>", metric: "acc\"uracy", points: points, mean: 0.5, ci95: 0.25...0.75,
                claimed: 0.5, tolerance: nil))
        #expect(occurrences(of: "<circle class=\"run\"", in: plot.svg) == 2)
        #expect(plot.markCount == 2)
        // The extent is 0…1 padded by 5 %: y(v) = 212 − (v + 0.05) / 1.1 · 200.
        #expect(plot.svg.contains("cy=\"202.91\""))  // value 0
        #expect(plot.svg.contains("cy=\"21.09\""))  // value 1
        #expect(plot.svg.contains("<line class=\"claim\" x1=\"56\" x2=\"324\" y1=\"112\" y2=\"112\""))
        #expect(plot.svg.contains("class=\"mean\""))
        #expect(!plot.svg.contains("<b>"))
        #expect(plot.svg.contains("&lt;b&gt;digits&lt;/b&gt;"))
        #expect(plot.table.rows == [["replica 0", "0", "1", "0"], ["replica 0", "1", "2", "1"]])
        #expect(plot.svg.contains("<title id=\"s1-t\">") && plot.svg.contains("<desc id=\"s1-d\">"))
    }

    @Test("strip plot of one run and of no runs")
    func stripSmall() {
        let one = StripPlot.render(
            .init(id: "one", title: "t", metric: "m", points: [.init(group: "r0", seed: 7, value: 0.9)], mean: 0.9))
        #expect(occurrences(of: "class=\"run\"", in: one.svg) == 1)
        #expect(!one.svg.contains("NaN"))
        let none = StripPlot.render(.init(id: "none", title: "t", metric: "m", points: []))
        #expect(occurrences(of: "class=\"run\"", in: none.svg) == 0)
        #expect(none.svg.contains("no runs yet"))
        #expect(!none.svg.contains("NaN") && !none.svg.contains("inf"))
    }

    @Test("strip plot of 10 000 runs is aggregated into a bounded number of bins")
    func stripMany() {
        let points = (0..<10_000).map { StripPlot.Point(group: "replica \($0 % 2)", seed: Int64($0 / 2), value: Double($0 % 97) / 97) }
        let plot = StripPlot.render(.init(id: "big", title: "t", metric: "m", points: points, mean: 0.5, ci95: 0.49...0.51))
        #expect(occurrences(of: "class=\"run\"", in: plot.svg) == 0)
        #expect(plot.markCount <= 2 * StripPlot.bins)
        #expect(plot.markCount > 0)
        #expect(plot.svg.utf8.count < 40_000)
        #expect(plot.svg.contains("data-runs=\"10000\""))
        // Bins add up to every run.
        let counts = plot.svg.components(separatedBy: "data-count=\"").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(counts.reduce(0, +) == 10_000)
        #expect(!plot.svg.contains("NaN"))
    }

    @Test("non-finite values are left out and said so")
    func stripNonFinite() {
        let plot = StripPlot.render(
            .init(id: "nf", title: "t", metric: "loss", points: [.init(group: "r", seed: 0, value: .nan), .init(group: "r", seed: 1, value: 2), .init(group: "r", seed: 2, value: .infinity)]))
        #expect(occurrences(of: "class=\"run\"", in: plot.svg) == 1)
        #expect(plot.svg.contains("2 non-finite values not drawn"))
        #expect(!plot.svg.contains("NaN"))
    }

    @Test("claim plot: one row per claim, a dot per run, claimed line at the claimed value")
    func claimPlot() {
        let rows = [
            ClaimPlot.Row(label: "accuracy on digits", claimed: 0.9, tolerance: 0.1, mean: 0.9, ci95: 0.85...0.95, runs: [0.8, 0.9, 1.0], verdict: "reproduced"),
            ClaimPlot.Row(label: "<img src=x onerror=alert(1)>", claimed: 1, tolerance: nil, mean: nil, ci95: nil, runs: [], verdict: "insufficient runs"),
        ]
        let plot = ClaimPlot.render(id: "c", title: "claims", rows: rows)
        #expect(occurrences(of: "<g class=\"claim-row\"", in: plot.svg) == 2)
        #expect(occurrences(of: "class=\"run\"", in: plot.svg) == 3)
        #expect(!plot.svg.contains("<img"))
        // Row 0: extent 0.8…1.0 padded to 0.79…1.01 over 8…450; 0.9 sits in the middle.
        #expect(plot.svg.contains("<line class=\"claim\" x1=\"229\" x2=\"229\""))
        #expect(plot.table.rows.count == 2)
        #expect(!plot.svg.contains("NaN"))
        let empty = ClaimPlot.render(id: "e", title: "claims", rows: [])
        #expect(empty.svg.contains("no claims"))
    }

    @Test("claim plot with 10 000 runs stays bounded")
    func claimMany() {
        let runs = (0..<10_000).map { 0.9 + Double($0 % 100) / 10_000 }
        let plot = ClaimPlot.render(id: "c", title: "claims", rows: [.init(label: "a", claimed: 0.9, tolerance: 0.01, mean: 0.905, ci95: 0.904...0.906, runs: runs, verdict: "reproduced")])
        #expect(plot.markCount <= ClaimPlot.bins)
        #expect(occurrences(of: "class=\"run\"", in: plot.svg) == 0)
    }

    @Test("histogram counts every value once, clamps outliers into the end bins")
    func histogram() {
        let plot = Histogram.render(id: "h", title: "scores", values: [0, 5, 50, 99, 100, 150, .nan], domain: 0...100, bins: 10)
        let counts = plot.table.rows.map { Int($0[1])! }
        #expect(counts == [2, 0, 0, 0, 0, 1, 0, 0, 0, 3])
        #expect(plot.markCount == 3)
        let empty = Histogram.render(id: "h2", title: "scores", values: [], domain: 0...100)
        #expect(empty.markCount == 0 && empty.svg.contains("no values"))
        #expect(!empty.svg.contains("NaN"))
    }

    @Test("line chart breaks at missing values and thins long series to min/max per bucket")
    func lineChart() {
        let points = [
            LineChart.Point(time: 0, value: 10, label: "a"), LineChart.Point(time: 1, value: nil, label: "b"),
            LineChart.Point(time: 2, value: 30, label: "c"),
        ]
        let plot = LineChart.render(id: "l", title: "history", points: points, domain: 0...100)
        let path = plot.svg.components(separatedBy: "class=\"series\" d=\"").dropFirst().first?.prefix { $0 != "\"" } ?? ""
        #expect(occurrences(of: "M", in: String(path)) == 2)
        let many = (0..<10_000).map { LineChart.Point(time: Double($0), value: Double($0 % 100), label: "") }
        let thinned = LineChart.render(id: "l2", title: "history", points: many, domain: 0...100)
        #expect(thinned.markCount <= LineChart.maxPoints)
        #expect(thinned.svg.contains("L"))
        #expect(!thinned.svg.contains("NaN"))
    }

    @Test("share bar splits in proportion and ignores negative or NaN parts")
    func shareBar() {
        let plot = ShareBar.render(id: "v", title: "variance", parts: [.init(label: "seed", value: 3), .init(label: "repeat", value: 1), .init(label: "hardware", value: .nan)])
        #expect(plot.svg.contains("width=\"315\""))
        #expect(plot.svg.contains("width=\"105\""))
        #expect(plot.table.rows[0][2] == "75 %")
        let none = ShareBar.render(id: "v2", title: "variance", parts: [.init(label: "seed", value: 0)])
        #expect(none.markCount == 0)
    }

    @Test("badge says the score and claims, or not yet scored")
    func badge() {
        let badge = Badge.score(43.4, reproduced: 3, decided: 4)
        #expect(badge.contains("43 · 3/4 claims"))
        #expect(badge.contains("#c62828"))
        #expect(Badge.score(nil, reproduced: 0, decided: 0).contains("not yet scored"))
        #expect(Badge.render(label: "<x>", message: "m", color: "red\" onload=\"x").contains("#9f9f9f"))
    }
}
