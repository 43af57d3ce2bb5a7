/// The F distribution with (d₁, d₂) degrees of freedom (`scipy.stats.f`), for ANOVA p-values.
public struct FDistribution: Sendable, Hashable {
    /// Numerator degrees of freedom d₁ (between groups).
    public let numeratorDegreesOfFreedom: Double
    /// Denominator degrees of freedom d₂ (within groups).
    public let denominatorDegreesOfFreedom: Double

    /// An F distribution with d₁ = `numerator` and d₂ = `denominator` degrees of freedom, both > 0.
    public init(numerator: Double, denominator: Double) {
        numeratorDegreesOfFreedom = numerator
        denominatorDegreesOfFreedom = denominator
    }

    /// An F distribution with integer degrees of freedom.
    public init(numerator: Int, denominator: Int) {
        self.init(numerator: Double(numerator), denominator: Double(denominator))
    }

    /// P(F ≤ f).
    public func cdf(_ f: Double) -> Double {
        guard f > 0 else { return f.isNaN ? .nan : 0 }
        return parts(f).complement
    }

    /// P(F > f), the ANOVA p-value of an observed F (`scipy.stats.f.sf`), accurate in the upper tail.
    public func sf(_ f: Double) -> Double {
        guard f > 0 else { return f.isNaN ? .nan : 1 }
        return parts(f).value
    }

    /// sf = I_x(d₂/2, d₁/2) with x = d₂ / (d₂ + d₁ f); cdf is its complement.
    private func parts(_ f: Double) -> (value: Double, complement: Double) {
        let d1 = numeratorDegreesOfFreedom
        let d2 = denominatorDegreesOfFreedom
        if f.isInfinite { return (0, 1) }
        let ratio = d1 * f / d2
        return IncompleteBeta.evaluate(x: 1 / (1 + ratio), y: ratio / (1 + ratio), a: 0.5 * d2, b: 0.5 * d1)
    }
}
