/// Spot checks of a study (`verification: {replicate_fraction: 0.1}`): that share of its seed groups gets one
/// extra replica, leased only to a worker of another volunteer account than the group's other replicas, so
/// results of single-replica studies are checked against each other too.
public struct VerificationSpec: Sendable, Hashable, Codable {
    /// Share of seed groups (0 < f ≤ 1) that get the extra replica; at least one group when f > 0.
    public var replicateFraction: Double

    enum CodingKeys: String, CodingKey {
        case replicateFraction = "replicate_fraction"
    }

    /// Creates the verification settings.
    public init(replicateFraction: Double) {
        self.replicateFraction = replicateFraction
    }

    /// How many of `groups` seed groups are spot-checked: ⌈f · groups⌉, so a small study still gets one.
    public func checkedGroups(of groups: Int) -> Int {
        guard groups > 0, replicateFraction > 0 else { return 0 }
        return Swift.min(groups, Int((replicateFraction * Double(groups)).rounded(.up)))
    }
}
