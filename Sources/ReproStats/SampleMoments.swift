/// Mean and sample standard deviation of finite values, computed in two passes with a correction term so that
/// 100 000 values agree with `numpy.mean` / `numpy.std(ddof=1)` to about 1e-13 relative.
struct SampleMoments: Sendable {
    /// Number of values.
    let count: Int
    /// Arithmetic mean; nil when count = 0.
    let mean: Double?
    /// Standard deviation with ddof = 1; nil when count < 2.
    let sd: Double?
    /// Σ(x − mean)², the sum of squared deviations (0 when count < 2).
    let sumOfSquares: Double

    init(_ values: UnsafeBufferPointer<Double>) {
        count = values.count
        guard count > 0 else {
            (mean, sd, sumOfSquares) = (nil, nil, 0)
            return
        }
        var sum = 0.0
        var smallest = values[0]
        var largest = values[0]
        for value in values {
            sum += value
            smallest = Swift.min(smallest, value)
            largest = Swift.max(largest, value)
        }
        if smallest == largest {
            // All equal: report the value itself and sd = 0 exactly, not a rounding residue.
            (mean, sumOfSquares) = (smallest, 0)
            sd = count >= 2 ? 0 : nil
            return
        }
        var center = sum / Double(count)
        // Second pass: Σ(x − center) corrects the rounding of the first sum; Σ(x − center)² gives the variance.
        var deviationSum = 0.0
        var squares = 0.0
        for value in values {
            let deviation = value - center
            deviationSum += deviation
            squares += deviation * deviation
        }
        squares -= deviationSum * deviationSum / Double(count)
        center += deviationSum / Double(count)
        // Values near ±1e308 overflow; undefined is reported as nil rather than ±∞ or NaN.
        mean = center.isFinite ? center : nil
        sumOfSquares = squares.isFinite ? Swift.max(0, squares) : 0
        sd = count >= 2 && squares.isFinite && center.isFinite ? (sumOfSquares / Double(count - 1)).squareRoot() : nil
    }

    init(_ values: [Double]) {
        self = values.withUnsafeBufferPointer { SampleMoments($0) }
    }
}
