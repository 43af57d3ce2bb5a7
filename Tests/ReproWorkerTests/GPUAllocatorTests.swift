import Testing

@testable import ReproWorker

@Suite("GPUAllocator")
struct GPUAllocatorTests {
    @Test("jobs get distinct GPUs, and a job that does not fit waits for a release")
    func exclusive() async throws {
        let allocator = GPUAllocator(count: 3, sharing: false)
        let first = try await allocator.acquire(2)
        let second = try await allocator.acquire(1)
        #expect(Set(first).isDisjoint(with: second))
        #expect(Set(first + second) == [0, 1, 2])

        let waiting = Task { try await allocator.acquire(1) }
        try await Task.sleep(for: .milliseconds(50))
        await allocator.release(second)
        #expect(try await waiting.value == second)
    }

    @Test("with sharing, the least used GPUs are handed out again")
    func sharing() async throws {
        let allocator = GPUAllocator(count: 2, sharing: true)
        let a = try await allocator.acquire(1)
        let b = try await allocator.acquire(1)
        let c = try await allocator.acquire(2)
        #expect(a != b)
        #expect(c == [0, 1])
    }

    @Test("a task needing more GPUs than the worker has fails at once, and CPU tasks need none")
    func tooMany() async throws {
        let allocator = GPUAllocator(count: 1, sharing: false)
        await #expect(throws: WorkerError.self) { try await allocator.acquire(2) }
        #expect(try await allocator.acquire(0) == [])
    }
}
