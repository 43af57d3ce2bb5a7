import Foundation
import ReproCore
import Testing

/// The lease answer's wire form (decision 0014): each study's job and manifest once, a lease's command
/// rebuilt from the signed manifest, the older form still readable.
@Suite("Lease answer on the wire")
struct LeaseWireTests {
    static func leases() throws -> [TaskLease] {
        let spec = try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8), format: .yaml)
        var leases: [TaskLease] = []
        for (index, study) in [UUID(), UUID()].enumerated() {
            let manifest = JobManifest(studyID: study, spec: spec)
            let signature = ManifestSignature(signature: "c2ln", keyID: "k\(index)")
            for task in spec.expand().prefix(3) {
                leases.append(
                    TaskLease(
                        taskID: Int64(leases.count + 1), leaseID: UUID(), studyID: study, dataset: task.dataset,
                        seed: task.seed, configuration: task.configuration, replica: task.replica, attempt: 1,
                        arguments: task.arguments, job: JobSpec(spec: spec), leaseExpiresAt: Date(timeIntervalSince1970: 1_800_000_000),
                        manifest: manifest, signature: signature))
            }
        }
        return leases
    }

    @Test("the shared parts travel once per study, and decoding gives every lease back whole")
    func roundTrip() throws {
        let leases = try Self.leases()
        let data = try WireCoding.encoder().encode(LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let studies = try #require(json["studies"] as? [[String: Any]])
        #expect(studies.count == 2)
        let wire = try #require(json["leases"] as? [[String: Any]])
        #expect(wire.allSatisfy { $0["manifest"] == nil && $0["job"] == nil && $0["arguments"] == nil })
        let decoded = try WireCoding.decoder().decode(LeaseResponse.self, from: data)
        #expect(decoded.leases == leases)
        #expect(decoded.heartbeatIntervalSeconds == 20)
    }

    @Test("the older form, everything in each lease, still decodes")
    func olderForm() throws {
        struct Old: Encodable {
            var leases: [TaskLease]
            var heartbeat_interval_seconds: Double
        }
        let leases = try Self.leases()
        let data = try WireCoding.encoder().encode(Old(leases: leases, heartbeat_interval_seconds: 20))
        #expect(try WireCoding.decoder().decode(LeaseResponse.self, from: data).leases == leases)
    }

    @Test("a lease whose study has no manifest keeps its stored command")
    func withoutManifest() throws {
        var leases = try Self.leases()
        for index in leases.indices {
            leases[index].manifest = nil
            leases[index].signature = nil
            leases[index].arguments = ["legacy", "\(index)"]
        }
        let data = try WireCoding.encoder().encode(LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20))
        #expect(try WireCoding.decoder().decode(LeaseResponse.self, from: data).leases == leases)
    }

    @Test("a lease without a job, in neither form, is refused")
    func missingJob() throws {
        let lease = try Self.leases()[0]
        let data = try WireCoding.encoder().encode(LeaseResponse(leases: [lease], heartbeatIntervalSeconds: 20))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        json["studies"] = []
        let stripped = try JSONSerialization.data(withJSONObject: json)
        #expect(throws: DecodingError.self) { try WireCoding.decoder().decode(LeaseResponse.self, from: stripped) }
    }
}
