/// Expected best of k runs drawn without replacement from the observed runs (Tang et al. 2020):
/// E[max of k] = Σᵢ v₍ᵢ₎ · C(i−1, k−1) / C(n, k) over the values sorted ascending.
///
/// Used to flag claims that sit at or beyond what picking the best of 5 seeds would give.
public enum ExpectedMaximum {
    /// E[max of k of the values]; nil when k < 1, k > n, or a value is not finite.
    public static func withoutReplacement(_ values: [Double], k: Int) -> Double? {
        guard values.allSatisfy(\.isFinite) else { return nil }
        return ofSorted(values.sorted(), k: k)
    }

    /// E[min of k of the values], the expected best of k for a lower-is-better metric; nil as above.
    public static func minimumWithoutReplacement(_ values: [Double], k: Int) -> Double? {
        guard values.allSatisfy(\.isFinite) else { return nil }
        return minimumOfSorted(values.sorted(), k: k)
    }

    /// E[min of k] for values already sorted ascending: −E[max of k] of the negated values.
    static func minimumOfSorted(_ sorted: [Double], k: Int) -> Double? {
        ofSorted(sorted.reversed().map { -$0 }, k: k).map { -$0 }
    }

    /// E[max of k] for values already sorted ascending.
    static func ofSorted(_ sorted: [Double], k: Int) -> Double? {
        let n = sorted.count
        guard k >= 1, k <= n else { return nil }
        // C(i−1, k−1) / C(n, k) = (k/n) · Π_{j=1}^{k−1} (i − j)/(n − j): a product of ratios ≤ 1, no overflow.
        var expected = 0.0
        for rank in k...n {
            var weight = Double(k) / Double(n)
            for j in stride(from: 1, to: k, by: 1) {
                weight *= Double(rank - j) / Double(n - j)
            }
            expected += weight * sorted[rank - 1]
        }
        // Weights sum to 1, so only values near ±1e308 can overflow the sum: undefined, not ±∞.
        return expected.isFinite ? expected : nil
    }
}
