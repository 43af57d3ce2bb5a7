import ReproStats

extension SpecDecoder {
    /// Whether `seeds` is written in the adaptive form, a mapping with an `adaptive` key.
    static func isAdaptive(_ node: SpecNode) -> Bool {
        guard case .mapping(let entries) = node.value else { return false }
        return entries.contains { $0.key == "adaptive" }
    }

    /// `seeds: {adaptive: {min: 5, max: 60, step: 5}}`: seeds 0 to max − 1, the first `min` at submission and
    /// `step` more each time a claim on a dataset is still undecided (docs/statistics.md §2c, decision 0015).
    ///
    /// `min` ≥ 2 because the first look needs an sd; `max` has the limit of a seed range's `count`; the planned
    /// looks are bounded by ``MatrixSpec/maxLooks``.
    func decodeAdaptiveSeeds(_ node: SpecNode, at path: String) -> AdaptiveSchedule? {
        guard let outer = fields(node, at: path, allowed: ["adaptive"]),
            let inner = required(outer, "adaptive").flatMap({
                fields($0, at: outer.path("adaptive"), allowed: ["min", "max", "step"])
            })
        else { return nil }
        // The same ceiling as `{from, count}`'s count; a study's task limit is checked on the whole matrix after.
        let most = Swift.max(limits.maxTasks, 2)
        let min = required(inner, "min").flatMap { integer($0, at: inner.path("min"), in: 2...most) }
        let max = required(inner, "max").flatMap { integer($0, at: inner.path("max"), in: 2...most) }
        let step = required(inner, "step").flatMap { integer($0, at: inner.path("step"), in: 1...most) }
        guard let min, let max, let step else { return nil }
        guard min <= max else {
            report(inner.path("min"), "must not exceed max (\(max)), got \(min)", line: inner["min"]?.line)
            return nil
        }
        let schedule = AdaptiveSchedule(min: min, max: max, step: step)
        guard schedule.looks.count <= MatrixSpec.maxLooks else {
            report(
                inner.path("step"),
                "plans \(schedule.looks.count) looks (min, min + step, … up to max); at most \(MatrixSpec.maxLooks) "
                    + "are allowed: take a larger step", line: inner["step"]?.line)
            return nil
        }
        return schedule
    }
}
