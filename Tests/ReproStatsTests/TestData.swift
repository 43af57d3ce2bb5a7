import Foundation

@testable import ReproStats

/// Deterministic pseudo-random samples for property tests (the library's own generator, Box–Muller normals).
struct TestData {
    private var generator: WyRand

    init(seed: UInt64) {
        generator = WyRand(seed: seed)
    }

    /// Uniform in (0, 1).
    mutating func uniform() -> Double {
        (Double(generator.next() >> 11) + 0.5) / 9_007_199_254_740_992
    }

    /// n normal values with the given mean and sd.
    mutating func normal(_ n: Int, mean: Double = 0, sd: Double = 1) -> [Double] {
        (0..<n).map { _ in mean + sd * (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
    }

    /// `values` rescaled to exactly the given mean and sample sd.
    static func standardized(_ values: [Double], mean: Double, sd: Double) -> [Double] {
        let m = values.reduce(0, +) / Double(values.count)
        let s = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        return values.map { mean + sd * ($0 - m) / s }
    }
}
