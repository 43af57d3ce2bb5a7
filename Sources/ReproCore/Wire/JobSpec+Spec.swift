extension JobSpec {
    /// The per-study part of every task's lease, taken from the spec.
    public init(spec: StudySpec) {
        var code = CodeReference()
        switch spec.code {
        case .bundle(let reference):
            code.bundleSHA256 = reference.hasPrefix("sha256:") ? String(reference.dropFirst(7)) : reference
        case .git(let url, let commit):
            code.gitURL = url
            code.gitCommit = commit
        }
        var requirements: String?
        if case .python(let path) = spec.environment { requirements = path }
        self.init(
            code: code, requirements: requirements, timeoutSeconds: spec.run.timeoutSeconds,
            memoryBytes: spec.run.resources.memoryBytes, cpus: spec.run.resources.cpus, gpus: spec.run.resources.gpus,
            network: spec.run.network, metricRanges: spec.metrics)
    }
}
