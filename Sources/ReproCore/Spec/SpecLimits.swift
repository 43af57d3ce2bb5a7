/// Size limits applied while reading a spec, so one submission cannot flood the coordinator.
public struct SpecLimits: Sendable, Hashable, Codable {
    /// Largest accepted spec file, in bytes. The spec, its job and its manifest are stored once per study
    /// and the manifest travels once per lease answer (decision 0014), so this bounds both.
    public var maxSpecBytes: Int
    /// Most tasks one study may expand into (datasets × seeds × configurations × replicas).
    public var maxTasks: Int

    /// Creates limits.
    public init(maxSpecBytes: Int = 256 << 10, maxTasks: Int = 10_000) {
        self.maxSpecBytes = maxSpecBytes
        self.maxTasks = maxTasks
    }

    /// 256 KiB of spec and 10 000 tasks.
    public static let `default` = SpecLimits()
}
