import Logging

/// Collecting a fingerprint runs pip and nvidia-smi; do it once per Python environment.
actor FingerprintCache {
    private var byPython: [String: EnvironmentFingerprint] = [:]

    func fingerprint(python: String?, logger: Logger) async -> EnvironmentFingerprint {
        let key = python ?? ""
        if let known = byPython[key] { return known }
        let collected = await EnvironmentFingerprint.collect(python: python, logger: logger)
        byPython[key] = collected
        return collected
    }
}
