/// Sample quantiles by selection (quickselect) instead of sorting.
enum Quantile {
    /// The type-7 ("linear", NumPy's default) p-quantile of the values in `buffer`, which is reordered.
    ///
    /// Positions before `start` must already hold values no larger than any value from `start` on (as left by a
    /// previous call, whose `rank` is passed as `start`), which lets two quantiles share one partitioning.
    /// - Returns: the quantile and the rank ⌊(B − 1)p⌋ of its lower order statistic.
    static func linear(
        _ buffer: UnsafeMutableBufferPointer<Double>,
        probability: Double,
        from start: Int = 0
    ) -> (value: Double, rank: Int) {
        let last = buffer.count - 1
        let position = Double(last) * Swift.min(Swift.max(probability, 0), 1)
        let rank = Swift.min(Swift.max(Int(position.rounded(.down)), start), last)
        select(rank, in: buffer, from: start)
        let lowerValue = buffer[rank]
        let fraction = position - Double(rank)
        guard fraction > 0, rank < last else { return (lowerValue, rank) }
        var upperValue = buffer[rank + 1]
        for index in stride(from: rank + 2, through: last, by: 1) where buffer[index] < upperValue {
            upperValue = buffer[index]
        }
        return (lowerValue + fraction * (upperValue - lowerValue), rank)
    }

    /// Moves the k-th smallest value of buffer[start...] to position k, smaller-or-equal values before it and
    /// larger-or-equal after (quickselect, median-of-three pivot, three-way partition so ties cannot make it
    /// quadratic).
    static func select(_ k: Int, in buffer: UnsafeMutableBufferPointer<Double>, from start: Int = 0) {
        var low = start
        var high = buffer.count - 1
        while low < high {
            let middle = low + (high - low) / 2
            let pivot = medianOfThree(buffer[low], buffer[middle], buffer[high])
            // Dutch national flag: [low, lt) < pivot, [lt, scan) == pivot, (gt, high] > pivot.
            var lessEnd = low
            var scan = low
            var greaterStart = high
            while scan <= greaterStart {
                let value = buffer[scan]
                if value < pivot {
                    buffer.swapAt(lessEnd, scan)
                    lessEnd += 1
                    scan += 1
                } else if value > pivot {
                    buffer.swapAt(scan, greaterStart)
                    greaterStart -= 1
                } else {
                    scan += 1
                }
            }
            if k < lessEnd {
                high = lessEnd - 1
            } else if k > greaterStart {
                low = greaterStart + 1
            } else {
                return
            }
        }
    }

    private static func medianOfThree(_ a: Double, _ b: Double, _ c: Double) -> Double {
        Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))
    }
}
