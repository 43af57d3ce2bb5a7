/// A role an account holds. Every route of the coordinator names the roles it admits.
public enum Role: String, Codable, Sendable, CaseIterable, Hashable {
    /// Operates the coordinator: creates accounts and keys, sees everything.
    case admin
    /// Submits studies, watches them, reads their reports, cancels their own studies.
    case researcher
    /// Runs workers: may register `repro-worker` processes, which then get their own tokens.
    case volunteer
    /// A registered worker process: leases tasks, heartbeats, submits results for its own leases.
    case worker
    /// Reads scores, reports and aggregates; never writes.
    case funder
    /// Reviews studies and community feedback.
    case moderator
    /// Posts community feedback on preprints.
    case community
}
