/// Where a spec is being read, which decides what `code.bundle` may hold.
public enum SpecContext: String, Sendable, Hashable, Codable {
    /// On the researcher's machine (`repro submit`): `code.bundle` may still be a local directory,
    /// which the CLI uploads and replaces with its `sha256:` reference.
    case client
    /// On the coordinator: `code.bundle` must already be the `sha256:<64 hex>` of an uploaded bundle.
    case server
}
