import Foundation

/// The generator of the calibration simulations: SplitMix64 (Steele, Lea & Flood 2014), one add and three
/// multiply-xorshift steps per output. Each scenario gets its own seed, so a scenario's figures do not depend
/// on which thread ran it or in what order: the whole run is deterministic for a given `--seed`.
struct SimulationRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1): 53 random bits, never exactly 0 (logarithms of it stay finite).
    mutating func uniform() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal, Marsaglia's polar method (one of the pair is discarded to keep the state simple).
    mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0, s < 1 { return u * (-2 * log(s) / s).squareRoot() }
        }
    }

    /// Gamma(shape, 1), Marsaglia & Tsang (2000); shapes below 1 use Gamma(shape + 1) · U^(1/shape).
    mutating func gamma(shape: Double) -> Double {
        if shape < 1 {
            return gamma(shape: shape + 1) * pow(uniform(), 1 / shape)
        }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Beta(a, b) as X/(X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
    mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a)
        let y = gamma(shape: b)
        return x / (x + y)
    }

    /// Student t with 3 degrees of freedom: Z / √(χ²₃ / 3), χ²₃ = 2·Gamma(3/2).
    mutating func studentT3() -> Double {
        normal() / (2 * gamma(shape: 1.5) / 3).squareRoot()
    }
}
