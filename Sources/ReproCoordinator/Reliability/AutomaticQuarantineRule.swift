/// The automatic quarantine rule: a worker whose replicas disagreed with their seed groups more often than
/// `maxDisagreementRate`, after at least `minChecks` checks, is quarantined (`repro-coordinator serve
/// --quarantine-min-checks N --quarantine-disagreement-rate R`).
///
/// The minimum keeps an honest worker from being quarantined for one unlucky pair (in a pair that disagrees
/// both replicas count as disagreeing); the defaults, 20 checks and 0.5, quarantine a worker only when most of
/// its checked results were wrong, where an honest one is expected to disagree in the order of 5 % of its checks
/// (2.8 σ is ISO 5725's 95 % limit for the difference of two results).
public struct AutomaticQuarantineRule: Sendable, Equatable {
    public var minChecks: Int
    public var maxDisagreementRate: Double

    /// Creates the rule.
    public init(minChecks: Int = 20, maxDisagreementRate: Double = 0.5) {
        self.minChecks = minChecks
        self.maxDisagreementRate = maxDisagreementRate
    }

    /// Whether counters this bad call for a quarantine, and the reason to record.
    public func verdict(agreeing: Int64, disagreeing: Int64) -> String? {
        let checked = agreeing + disagreeing
        guard checked >= Int64(minChecks), checked > 0 else { return nil }
        let rate = Double(disagreeing) / Double(checked)
        guard rate > maxDisagreementRate else { return nil }
        return "automatic: \(disagreeing) of \(checked) checked replicas disagreed with their seed group "
            + "(rate \(String(format: "%.2f", rate)) > \(String(format: "%.2f", maxDisagreementRate)) "
            + "after at least \(minChecks) checks)"
    }
}
