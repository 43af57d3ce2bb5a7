import Foundation
import ReproCore
import Testing

@testable import ReproWorker

@Suite("ContentCache")
struct ContentCacheTests {
    let content = Data("print('hello')\n".utf8)
    var hash: String { BundleArchive.sha256Hex(content) }

    @Test("stored content is found under its hash")
    func storeAndFind() throws {
        let root = try TemporaryDirectory()
        let cache = try ContentCache(directory: root.url.appending(path: "cache"))
        #expect(!cache.contains(hash))
        let path = try cache.store(data: content, expectedSHA256: hash)
        #expect(path == (try cache.path(for: hash)))
        #expect(path.lastPathComponent == hash)
        #expect(cache.contains(hash))
        #expect(cache.contains(hash.uppercased()))
        #expect(try Data(contentsOf: path) == content)
        #expect(try cache.verifiedData(for: hash) == content)
    }

    @Test("content whose hash differs is refused and not stored")
    func mismatchRejected() throws {
        let root = try TemporaryDirectory()
        let cache = try ContentCache(directory: root.url)
        let wrong = BundleArchive.sha256Hex(Data("something else".utf8))
        let error = #expect(throws: ContentCacheError.self) { try cache.store(data: content, expectedSHA256: wrong) }
        #expect(error?.code == .hashMismatch)
        #expect(error?.message == "content of 15 bytes has SHA-256 \(hash), expected \(wrong); it was not stored")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.url.path).isEmpty)
    }

    @Test(
        "hashes that are not 64 hex digits are refused before touching the disk",
        arguments: [
            "", "abc", "../../etc/passwd", String(repeating: "g", count: 64), String(repeating: "a", count: 65),
        ]
    )
    func invalidHash(hash: String) throws {
        let root = try TemporaryDirectory()
        let cache = try ContentCache(directory: root.url)
        #expect(throws: ContentCacheError.self) { try cache.path(for: hash) }
        #expect(!cache.contains(hash))
        let error = #expect(throws: ContentCacheError.self) { try cache.store(data: content, expectedSHA256: hash) }
        #expect(error?.code == .invalidHash)
    }

    @Test("the sha256 of known content")
    func knownHash() {
        #expect(BundleArchive.sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            BundleArchive.sha256Hex(Data("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
    }

    @Test("concurrent writers of the same content all succeed and leave one whole file")
    func concurrentStores() async throws {
        let root = try TemporaryDirectory()
        let cache = try ContentCache(directory: root.url)
        let big = Data(repeating: 0xAB, count: 2_000_000)
        let hash = BundleArchive.sha256Hex(big)
        try await withThrowingTaskGroup(of: URL.self) { group in
            for _ in 0..<8 {
                group.addTask { try await offPool { try cache.store(data: big, expectedSHA256: hash) } }
            }
            for try await path in group {
                #expect(path.lastPathComponent == hash)
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.url.path) == [hash])
        #expect(try cache.verifiedData(for: hash) == big)
    }

    @Test("no temporary file is left behind, and stale ones from a crash are swept on open")
    func atomicWrites() throws {
        let root = try TemporaryDirectory()
        let cache = try ContentCache(directory: root.url)
        try cache.store(data: content, expectedSHA256: hash)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.url.path) == [hash])

        // A crashed writer's partial file never has the final name...
        let stale = root.url.appending(path: ".tmp-\(hash)-crashed")
        let fresh = root.url.appending(path: ".tmp-\(hash)-inflight")
        try Data("partial".utf8).write(to: stale)
        try Data("partial".utf8).write(to: fresh)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -2 * ContentCache.staleTemporaryAge)],
            ofItemAtPath: stale.path
        )
        // ...and is swept once it is old enough to not be in flight.
        _ = try ContentCache(directory: root.url)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: root.url.path))
        #expect(names == [hash, fresh.lastPathComponent])
    }

    @Test("a stored file that was corrupted is reported absent and removed")
    func corruptedFile() throws {
        let root = try TemporaryDirectory()
        let cache = try ContentCache(directory: root.url)
        let path = try cache.store(data: content, expectedSHA256: hash)
        try Data("tampered".utf8).write(to: path)
        #expect(try cache.verifiedData(for: hash) == nil)
        #expect(!cache.contains(hash))
    }
}
