import Testing

@testable import ReproCoordinator

@Suite("Lease policy")
struct LeasePolicyTests {
    @Test("backoff doubles per attempt, stays within ±25 % jitter and under the cap")
    func exponentialBackoffWithJitter() {
        let policy = LeasePolicy(ttlSeconds: 60, backoffBaseSeconds: 5, backoffCapSeconds: 300)
        for attempts in 1...12 {
            let nominal = min(300, 5 * Double(1 << (attempts - 1)))
            let delays = (0..<200).map { _ in policy.backoff(afterAttempts: attempts) }
            #expect(delays.allSatisfy { $0 >= nominal * 0.75 && $0 <= nominal * 1.25 }, "attempt \(attempts)")
            // Jitter really spreads retries: 200 draws are not all the same.
            #expect(Set(delays).count > 100)
        }
        #expect(policy.heartbeatIntervalSeconds == 20)
    }
}
