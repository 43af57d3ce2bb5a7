/// Mean and sample standard deviation of finite values, computed in two passes with a correction term so that
/// 100 000 values agree with `numpy.mean` / `numpy.std(ddof=1)` to about 1e-13 relative.
///
/// Values whose magnitude could overflow a sum (beyond ``scalingThreshold``) are divided by a power of two
/// first and the results multiplied back, so a mean of values near ±1e308 is still computed; a statistic
/// whose true value does not fit a Double (an sd of 1e308 and −1e308) is nil, never ±∞ or NaN.
struct SampleMoments: Sendable {
    /// Above this magnitude sums and squares could overflow; below it the exact unscaled path is kept, so
    /// results on ordinary data are bit for bit what they were.
    static let scalingThreshold = 1e150

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
        let largest = values.reduce(0.0) { Swift.max($0, abs($1)) }
        guard largest > Self.scalingThreshold, largest.isFinite else {
            self = values.withUnsafeBufferPointer { SampleMoments($0) }
            return
        }
        // A power of two divides exactly: the scaled values keep every bit of their significands.
        let scale = Double(sign: .plus, exponent: largest.exponent, significand: 1)
        let scaled = values.map { $0 / scale }
        let moments = scaled.withUnsafeBufferPointer { SampleMoments($0) }
        self = SampleMoments(
            count: moments.count, mean: moments.mean.map { $0 * scale }, sd: moments.sd.map { $0 * scale },
            sumOfSquares: moments.sumOfSquares * scale * scale)
    }

    /// Moments scaled back; anything that does not fit a Double becomes nil (sum of squares 0).
    private init(count: Int, mean: Double?, sd: Double?, sumOfSquares: Double) {
        self.count = count
        self.mean = mean.flatMap { $0.isFinite ? $0 : nil }
        self.sd = sd.flatMap { $0.isFinite ? $0 : nil }
        self.sumOfSquares = sumOfSquares.isFinite ? sumOfSquares : 0
    }
}
