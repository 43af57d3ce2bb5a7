/// Size limits applied while reading a spec, so one submission cannot flood the coordinator.
public struct SpecLimits: Sendable, Hashable, Codable {
    /// Largest accepted spec file, in bytes.
    public var maxSpecBytes: Int
    /// Most tasks one study may expand into (datasets × seeds × configurations × replicas).
    public var maxTasks: Int

    /// Creates limits.
    public init(maxSpecBytes: Int = 1 << 20, maxTasks: Int = 10_000) {
        self.maxSpecBytes = maxSpecBytes
        self.maxTasks = maxTasks
    }

    /// 1 MiB of spec and 10 000 tasks.
    public static let `default` = SpecLimits()
}
