import Foundation
import Testing

@testable import ReproStats

/// Values near ±1e308 (finite, so stored and accepted when no range is declared) must never make a summary
/// or claim check unencodable: a statistic that overflows is nil and named in `unavailable`.
@Suite("Extreme values")
struct ExtremeValueTests {
    static let extremes = [1e308, -1e308, 1.7e308, -1.7e308, 1e308]

    static func encode(_ value: some Encodable) throws -> Data { try JSONEncoder().encode(value) }

    @Test("a summary of ±1e308 values encodes; mean and sd are computed by scaling, what overflows has a reason")
    func summaryOfExtremes() throws {
        let summary = Summary(values: Self.extremes)
        _ = try Self.encode(summary)
        #expect(summary.n == 5)
        // (1e308 − 1e308 + 1.7e308 − 1.7e308 + 1e308) / 5 = 2e307: finite, though the plain sum overflows.
        let mean = try #require(summary.mean)
        #expect(abs(mean - 2e307) / 2e307 < 1e-12)
        // Σ(x − mean)² / 4 = 2.145e616: sd = 1.4646e308, finite (numpy.std(ddof=1) overflows to inf here).
        let sd = try #require(summary.sd)
        #expect(abs(sd - 2.145.squareRoot() * 1e308) / sd < 1e-12)
        // max − min = 3.4e308 and mean ± t·se do not fit a Double.
        #expect(summary.range == nil && summary.unavailable?["range"] == Summary.overflowReason)
        #expect(summary.ci95Mean == nil && summary.unavailable?["ci95_mean"] != nil)
        #expect(summary.min == -1.7e308 && summary.max == 1.7e308)
        #expect(Summary(values: [1.7e308, -1.7e308]).sd == nil)
        #expect(Summary(values: [1.7e308, -1.7e308]).unavailable?["sd"] != nil)
    }

    @Test("the bootstrap of large values scales instead of overflowing")
    func bootstrapOfLargeValues() throws {
        let values = (0..<12).map { 1e307 * (1 + Double($0) / 100) }
        let summary = Summary(values: values, bootstrap: BootstrapOptions(resamples: 999))
        _ = try Self.encode(summary)
        let bootstrap = try #require(summary.ci95Bootstrap)
        let mean = try #require(summary.mean)
        #expect(bootstrap.lower < mean && mean < bootstrap.upper)
        #expect(summary.sd != nil && summary.unavailable == nil)
    }

    @Test("ordinary values are computed as before (the scaled path only starts beyond 1e150)")
    func ordinaryValuesUnchanged() {
        let x = [0.912, 0.905, 0.917, 0.909, 0.921, 0.903, 0.915, 0.911]
        let summary = Summary(values: x, bootstrap: nil)
        #expect(abs(summary.mean! - 0.911625) < 1e-15)
        #expect(abs(summary.sd! - 0.0060222801) < 1e-9)
        #expect(summary.unavailable == nil)
        // Scaling by a power of two is exact: 1e200-scaled data give the same relative answer.
        let scaled = Summary(values: x.map { $0 * 1e200 }, bootstrap: nil)
        #expect(abs(scaled.mean! / 1e200 - 0.911625) < 1e-14)
        #expect(abs(scaled.sd! / 1e200 - 0.0060222801) < 1e-9)
    }

    @Test("a claim check over ±1e308 values encodes and decides nothing it cannot compute")
    func claimCheckOfExtremes() throws {
        let claim = Claim(metric: "accuracy", dataset: "digits", value: 0.95, direction: .higher, tolerance: 0.01)
        let check = ClaimCheck.evaluate(values: Self.extremes, claim: claim)
        _ = try Self.encode(check)
        #expect(check.n == 5)
        #expect(check.ci95Mean == nil)
        let huge = ClaimCheck.evaluate(values: [1e308, 1e308, 1e308, 1e308, 9e307], claim: claim)
        _ = try Self.encode(huge)
        #expect(huge.verdict != .insufficientRuns)
    }

    @Test("expected maxima that overflow are nil, not infinite")
    func expectedMaximumOverflow() {
        #expect(ExpectedMaximum.withoutReplacement([1.7e308, 1.7e308, 1.7e308], k: 1) != nil)
        #expect(ExpectedMaximum.withoutReplacement([1e10, 2e10, 3e10], k: 3) == 3e10)
    }
}
