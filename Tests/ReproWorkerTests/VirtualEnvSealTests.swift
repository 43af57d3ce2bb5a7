import Foundation
import Testing

@testable import ReproWorker

@Suite("VirtualEnvSeal")
struct VirtualEnvSealTests {
    func tree() throws -> (TemporaryDirectory, URL) {
        let directory = try TemporaryDirectory()
        let root = directory.url.appending(path: "venv")
        try FileManager.default.createDirectory(at: root.appending(path: "lib/site-packages"), withIntermediateDirectories: true)
        try Data("print('hi')\n".utf8).write(to: root.appending(path: "lib/site-packages/mod.py"))
        try FileManager.default.createSymbolicLink(atPath: root.appending(path: "python").path, withDestinationPath: "/usr/bin/python3")
        return (directory, root)
    }

    @Test("a sealed tree is read-only and intact until something in it changes")
    func sealAndTamper() throws {
        let (directory, root) = try tree()
        _ = directory
        #expect(!VirtualEnvSeal.isIntact(root), "no record yet")
        try VirtualEnvSeal.seal(root)
        #expect(VirtualEnvSeal.isIntact(root))
        let mode = try FileManager.default.attributesOfItem(atPath: root.appending(path: "lib/site-packages").path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o222 } == 0, "no write bits left")

        // What a hostile job did in the past: a .pth file that runs in every later interpreter.
        let packages = root.appending(path: "lib/site-packages")
        chmod(packages.path, 0o755)
        try Data("import os\n".utf8).write(to: packages.appending(path: "evil.pth"))
        #expect(!VirtualEnvSeal.isIntact(root))
    }

    @Test("rewriting a file with the same size and times is still noticed (the change time moves)")
    func sameSizeEdit() throws {
        let (directory, root) = try tree()
        _ = directory
        try VirtualEnvSeal.seal(root)
        let file = root.appending(path: "lib/site-packages/mod.py")
        let before = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        chmod(file.path, 0o644)
        try Data("print('no')\n".utf8).write(to: file)
        if let before { try FileManager.default.setAttributes([.modificationDate: before], ofItemAtPath: file.path) }
        chmod(file.path, 0o444)
        #expect(!VirtualEnvSeal.isIntact(root))
    }

    @Test("a sealed tree can be removed, record and all")
    func remove() throws {
        let (directory, root) = try tree()
        _ = directory
        try VirtualEnvSeal.seal(root)
        try VirtualEnvSeal.remove(root)
        #expect(!FileManager.default.fileExists(atPath: root.path))
        #expect(!FileManager.default.fileExists(atPath: VirtualEnvSeal.recordFile(for: root).path))
    }
}
