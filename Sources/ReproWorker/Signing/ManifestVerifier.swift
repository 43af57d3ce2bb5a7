import Crypto
import Foundation
import ReproCore

/// Decides, before anything is downloaded or run, whether a lease may run on this machine (decision
/// 0006): its manifest must carry a valid signature by a key the worker pinned, the study id must
/// match, and the lease's code, limits and command must be exactly what the manifest says. A pure
/// function of (lease, pinned keys), so every refusal reason is a unit test.
enum ManifestVerifier {
    /// What the check found.
    enum Verdict: Equatable {
        /// Run it; `keyID` signed the manifest.
        case verified(keyID: String)
        /// Run nothing; the reason goes into the task's failed result and the log.
        case refused(String)
    }

    static func verify(_ lease: TaskLease, pinned: [String: Curve25519.Signing.PublicKey]) -> Verdict {
        guard let manifest = lease.manifest else {
            return .refused("the task carries no signed job manifest (its study was never approved and signed)")
        }
        guard let signature = lease.signature else { return .refused("the job manifest is not signed") }
        guard manifest.version == JobManifest.currentVersion else {
            return .refused(
                "the job manifest has version \(manifest.version); this worker knows \(JobManifest.currentVersion)")
        }
        guard pinned[signature.keyID] != nil else {
            let known = pinned.keys.sorted().joined(separator: ", ")
            return .refused(
                "the manifest is signed by key \(signature.keyID), which this worker has not pinned (pinned: \(known))")
        }
        guard signature.verifies(manifest, with: pinned) else {
            return .refused(
                "the manifest's signature does not verify with key \(signature.keyID): the manifest or the signature was altered"
            )
        }
        guard manifest.studyID == lease.studyID.uuidString.lowercased() else {
            return .refused(
                "the manifest belongs to study \(manifest.studyID), not to the leased study \(lease.studyID)")
        }
        guard lease.job == manifest.job else {
            return .refused("the lease's code, requirements or resources differ from the signed manifest")
        }
        guard
            let expected = manifest.arguments(
                seed: lease.seed, dataset: lease.dataset, configuration: lease.configuration)
        else {
            return .refused("the task's dataset or configuration is not in the signed manifest")
        }
        guard expected == lease.arguments else {
            return .refused("the task's command differs from the signed manifest's command")
        }
        return .verified(keyID: signature.keyID)
    }
}
