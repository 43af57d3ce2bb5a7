import ReproCore

// Placeholder until the coordinator branch adds `JobSpec.network`; removed at that merge.
extension JobSpec {
    var network: Bool { false }
}
