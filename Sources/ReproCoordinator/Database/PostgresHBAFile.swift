import Foundation

/// The `pg_hba.conf` of the embedded server, as text: which connections it admits and how.
///
/// Earlier versions let initdb write `trust` for every local and loopback connection, which made any
/// process on the machine (a training job included) superuser without a password. The coordinator
/// now writes this file at every start, so a cluster is never served with anything else.
enum PostgresHBAFile {
    /// The file's name in the data directory.
    static let fileName = "pg_hba.conf"

    /// Every connection authenticates with SCRAM-SHA-256, over the Unix socket and over TCP alike; no
    /// line says `trust`. The loopback lines only matter with `--embedded-postgres-port`: without it
    /// the server listens on no TCP address at all.
    static func managed(passwordFile: URL) -> String {
        """
        # Written by repro-coordinator at every start of its embedded PostgreSQL; edits are replaced.
        # Every connection needs the password in \(passwordFile.path) (SCRAM-SHA-256).
        # TYPE  DATABASE  USER  ADDRESS       METHOD
        local   all       all                 scram-sha-256
        host    all       all   127.0.0.1/32  scram-sha-256
        host    all       all   ::1/128       scram-sha-256

        """
    }

    /// While the coordinator sets the password of a cluster that has none (new, or made by an earlier
    /// version): connections over the Unix socket only, without a password. The socket's directory is
    /// 0700, so only the server's user and root can reach it, and both can read the data files
    /// anyway; TCP matches no line and is refused. Replaced by ``managed(passwordFile:)`` moments later.
    static let passwordSetup = """
        # Temporary: repro-coordinator is setting the password; this file is replaced within seconds.
        # TYPE  DATABASE  USER  METHOD
        local   all       all   trust

        """
}
