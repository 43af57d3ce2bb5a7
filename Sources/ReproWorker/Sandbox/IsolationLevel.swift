/// How far a job is kept from the machine that runs it.
///
/// `strict` is the default and the only level a volunteer should run strangers' code under: every
/// job gets its own namespaces and a filesystem view built from a short list of read-only system
/// paths, its code, its virtualenv and its own folder (``SandboxPolicy``). `none` runs the job as
/// a plain child process of the worker, for a researcher running their own code on their own
/// machine. The level in force goes into every run's fingerprint, so a report says how each
/// number was produced.
public enum IsolationLevel: String, Sendable, CaseIterable, Codable {
    case strict
    case none
}
