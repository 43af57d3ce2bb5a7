import Foundation
import ReproCore
import Testing

@testable import ReproWorker

#if canImport(Glibc)
    import Glibc
#endif

@Suite("BundleArchive")
struct BundleArchiveTests {
    /// Writes a small study tree, with caches and git metadata that must not be packed.
    private func makeTree(at root: URL, mode: mode_t, date: Date) throws {
        let fileManager = FileManager.default
        let files: [(String, String)] = [
            ("train.py", "print('train')\n"),
            ("requirements.txt", "numpy==2.4.6\n"),
            ("lib/model.py", "HIDDEN = 32\n"),
            ("lib/__pycache__/model.cpython-311.pyc", "bytecode"),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("run.sh", "#!/bin/sh\nexec python3 train.py\n"),
        ]
        for (path, text) in files {
            let url = root.appending(path: path)
            try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            chmod(url.path, path == "run.sh" ? mode | 0o100 : mode)
        }
        let enumerator = fileManager.enumerator(atPath: root.path)
        while let relative = enumerator?.nextObject() as? String {
            try fileManager.setAttributes([.modificationDate: date], ofItemAtPath: root.appending(path: relative).path)
        }
    }

    @Test("the same tree packs to the same bytes whatever its times, permissions and location")
    func deterministic() async throws {
        let first = try TemporaryDirectory()
        let second = try TemporaryDirectory()
        try makeTree(at: first.url, mode: 0o644, date: Date(timeIntervalSince1970: 1_000_000))
        try makeTree(at: second.url, mode: 0o600, date: Date())
        let a = try await offPool { try BundleArchive.pack(directory: first.url) }
        let b = try await offPool { try BundleArchive.pack(directory: second.url) }
        #expect(a == b)
        #expect(BundleArchive.sha256Hex(a) == BundleArchive.sha256Hex(b))
        #expect(a.starts(with: [0x1f, 0x8b]))

        try Data("print('changed')\n".utf8).write(to: second.url.appending(path: "train.py"))
        #expect(try await offPool { try BundleArchive.pack(directory: second.url) } != a)
    }

    @Test("a bundle unpacks to the same files, without caches and .git, executables kept")
    func roundTrip() async throws {
        let source = try TemporaryDirectory()
        try makeTree(at: source.url, mode: 0o644, date: Date())
        try FileManager.default.createSymbolicLink(
            atPath: source.url.appending(path: "main.py").path,
            withDestinationPath: "train.py"
        )
        let archive = try await offPool { try BundleArchive.pack(directory: source.url) }

        let target = try TemporaryDirectory()
        let destination = target.url.appending(path: "bundle")
        try await offPool { try BundleArchive.unpack(archive, into: destination) }
        let fileManager = FileManager.default
        let names = Set(fileManager.enumerator(atPath: destination.path)?.allObjects as? [String] ?? [])
        #expect(names == ["train.py", "requirements.txt", "lib", "lib/model.py", "run.sh", "main.py"])
        #expect(try String(contentsOf: destination.appending(path: "lib/model.py"), encoding: .utf8) == "HIDDEN = 32\n")
        #expect(fileManager.isExecutableFile(atPath: destination.appending(path: "run.sh").path))
        #expect(!fileManager.isExecutableFile(atPath: destination.appending(path: "train.py").path))
        #expect(
            try fileManager.destinationOfSymbolicLink(atPath: destination.appending(path: "main.py").path) == "train.py"
        )
    }

    @Test("a missing directory, or a file, cannot be packed")
    func packErrors() async throws {
        let root = try TemporaryDirectory()
        let missing = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.pack(directory: root.url.appending(path: "nope")) }
        }
        #expect(missing?.code == .directoryNotFound)
        #expect(missing?.message == "bundle directory \(root.url.path)/nope does not exist")

        let file = root.url.appending(path: "file.txt")
        try Data("x".utf8).write(to: file)
        let notDirectory = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.pack(directory: file) }
        }
        #expect(notDirectory?.code == .notADirectory)
    }

    @Test("a bundle over the size limit is refused")
    func sizeLimit() async throws {
        let root = try TemporaryDirectory()
        // Random bytes do not compress.
        let noise = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 300_000)
        try noise.write(to: root.url.appending(path: "data.bin"))
        let error = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.pack(directory: root.url, sizeLimit: 100_000) }
        }
        #expect(error?.code == .tooLarge)
        #expect(error?.message.contains("larger than 100000 bytes compressed") == true)
        #expect(try await offPool { try BundleArchive.pack(directory: root.url, sizeLimit: 400_000) }.count > 300_000)
    }

    @Test("data that is not a bundle fails with gzip's message and leaves nothing behind")
    func corruptArchive() async throws {
        let root = try TemporaryDirectory()
        let destination = root.url.appending(path: "out")
        let error = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.unpack(Data("not a tarball".utf8), into: destination) }
        }
        #expect(error?.code == .toolFailed)
        #expect(error?.message.contains("not in gzip format") == true)
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }

    @Test("unpacking needs an empty destination")
    func destinationNotEmpty() async throws {
        let source = try TemporaryDirectory()
        try Data("x".utf8).write(to: source.url.appending(path: "a.txt"))
        let archive = try await offPool { try BundleArchive.pack(directory: source.url) }
        let error = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.unpack(archive, into: source.url) }
        }
        #expect(error?.code == .destinationNotEmpty)
    }

    @Test("symlinks leading out of the bundle are refused", arguments: ["/etc/passwd", "../../outside", "missing.txt"])
    func escapingSymlink(target: String) async throws {
        let source = try TemporaryDirectory()
        try Data("x".utf8).write(to: source.url.appending(path: "a.txt"))
        try FileManager.default.createDirectory(
            at: source.url.appending(path: "sub"),
            withIntermediateDirectories: true
        )
        try FileManager.default.createSymbolicLink(
            atPath: source.url.appending(path: "sub/link").path,
            withDestinationPath: target
        )
        let archive = try await offPool { try BundleArchive.pack(directory: source.url) }

        let target = try TemporaryDirectory()
        let destination = target.url.appending(path: "out")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let error = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.unpack(archive, into: destination) }
        }
        #expect(error?.code == .unsafeEntry)
        #expect(error?.message.hasPrefix("bundle member sub/link is a symlink to") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path).isEmpty)
    }

    @Test("members named with .. are refused by tar")
    func dotDotMember() async throws {
        let root = try TemporaryDirectory()
        let archiveURL = root.url.appending(path: "evil.tgz")
        // Python's tarfile writes the member name as given.
        let script = """
            import io, sys, tarfile
            with tarfile.open(sys.argv[1], "w:gz") as archive:
                data = b"owned"
                info = tarfile.TarInfo("../escaped.txt"); info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            """
        let python = Process()
        python.executableURL = URL(filePath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, archiveURL.path]
        let status = try await offPool {
            try python.run()
            python.waitUntilExit()
            return python.terminationStatus
        }
        try #require(status == 0)

        let destination = root.url.appending(path: "a/b")
        let error = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.unpack(try Data(contentsOf: archiveURL), into: destination) }
        }
        #expect(error?.code == .toolFailed)
        #expect(error?.message.contains("..") == true)
        #expect(!FileManager.default.fileExists(atPath: root.url.appending(path: "a/escaped.txt").path))
    }

    @Test("a bundle that unpacks beyond the limit is refused before extraction")
    func unpackedSizeLimit() async throws {
        let source = try TemporaryDirectory()
        try Data(count: 4 * 1024 * 1024).write(to: source.url.appending(path: "zeros.bin"))
        let archive = try await offPool { try BundleArchive.pack(directory: source.url) }
        #expect(archive.count < 100_000)
        let target = try TemporaryDirectory()
        let destination = target.url.appending(path: "out")
        let error = await #expect(throws: BundleArchiveError.self) {
            try await offPool { try BundleArchive.unpack(archive, into: destination, unpackedSizeLimit: 1024 * 1024) }
        }
        #expect(error?.code == .tooLarge)
        #expect(error?.message == "bundle unpacks to more than 1 MiB")
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }
}

/// Runs blocking archive work off the cooperative pool, as the worker should.
func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await BlockingWork.run(body)
}
