import Crypto
import Foundation

/// Code bundles: a study's code directory as a deterministic, gzipped tar,
/// addressed by its SHA-256.
///
/// The same tree always packs to the same bytes (with the same GNU tar and
/// gzip), so a bundle's hash identifies the code a result came from and lets
/// coordinators and workers cache it. What would otherwise vary is fixed:
/// member order (`--sort=name`), times (`--mtime=@0`, `gzip -n`), owners
/// (`0:0`, numeric) and permissions (normalised to 0644 or 0755). Caches
/// (`__pycache__`) and `.git` are left out.
///
/// Packing and unpacking run GNU `tar` and `gzip` through `Foundation.Process`
/// and block the calling thread: call them from a detached task or a thread
/// of their own when in async code.
public enum BundleArchive {
    /// The largest compressed bundle ``pack(directory:sizeLimit:)`` produces by default: 50 MiB.
    public static let defaultSizeLimit = 50 * 1024 * 1024
    /// The most bytes ``unpack(_:into:unpackedSizeLimit:)`` extracts by default: 1 GiB.
    public static let defaultUnpackedSizeLimit = 1024 * 1024 * 1024

    /// Packs `directory` into a deterministic `.tar.gz`.
    ///
    /// - Parameters:
    ///   - directory: the bundle's root; its contents become the archive's `./` entries.
    ///   - sizeLimit: the largest compressed size accepted, in bytes.
    /// - Throws: ``BundleArchiveError`` when the directory is missing or not a
    ///   directory, the archive exceeds `sizeLimit`, or `tar` or `gzip` fail.
    public static func pack(directory: URL, sizeLimit: Int = defaultSizeLimit) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw BundleArchiveError(.directoryNotFound, "bundle directory \(directory.path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw BundleArchiveError(.notADirectory, "bundle path \(directory.path) is not a directory")
        }

        let tar = try tool("tar")
        tar.arguments = [
            "--create", "--file=-", "--format=gnu", "--sort=name", "--mtime=@0",
            "--owner=0", "--group=0", "--numeric-owner",
            // Readable by all, writable by the owner only, executable where it was.
            "--mode=u+w,a+rX,go-w,a-st",
            "--exclude=__pycache__", "--exclude=.git",
            "--directory=\(directory.path)", ".",
        ]
        let gzip = try tool("gzip")
        gzip.arguments = ["-n", "-c"]  // -n: no name or time stamp in the header
        let between = Pipe()
        let output = Pipe()
        tar.standardOutput = between
        gzip.standardInput = between
        gzip.standardOutput = output
        let tarErrors = try ErrorCapture(for: tar)
        let gzipErrors = try ErrorCapture(for: gzip)
        defer {
            tarErrors.remove()
            gzipErrors.remove()
        }

        try run(tar, gzip)
        // Close our copies, or gzip would never see the end of tar's output.
        try? between.fileHandleForReading.close()
        try? between.fileHandleForWriting.close()
        try? output.fileHandleForWriting.close()

        var archive = Data()
        var tooLarge = false
        while let chunk = try? output.fileHandleForReading.read(upToCount: 256 * 1024), !chunk.isEmpty {
            archive.append(chunk)
            if archive.count > sizeLimit {
                tooLarge = true
                tar.terminate()
                gzip.terminate()
                break
            }
        }
        try? output.fileHandleForReading.close()
        tar.waitUntilExit()
        gzip.waitUntilExit()

        if tooLarge {
            throw BundleArchiveError(
                .tooLarge,
                "bundle of \(directory.path) is larger than \(describe(bytes: sizeLimit)) compressed; "
                    + "leave data sets and outputs out of the code directory"
            )
        }
        try check(tar, tarErrors, doing: "packing \(directory.path)")
        try check(gzip, gzipErrors, doing: "compressing \(directory.path)")
        return archive
    }

    /// Unpacks a bundle into `directory`, which must be empty or not exist yet.
    ///
    /// GNU tar already refuses members named with `..` and strips a leading
    /// `/`, and it defers symlinks pointing outside until the end so that no
    /// member is written through them. On top of that every symlink must
    /// resolve to a file inside `directory`, and only regular files,
    /// directories and symlinks may appear: a bundle is code, and a link to
    /// `/home` or a device node in it is an attack or a mistake, either way
    /// not something a worker should run. On any failure the extracted files
    /// are removed.
    ///
    /// - Throws: ``BundleArchiveError``.
    public static func unpack(
        _ data: Data,
        into directory: URL,
        unpackedSizeLimit: Int = defaultUnpackedSizeLimit
    ) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let existed = fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        if existed {
            guard isDirectory.boolValue else {
                throw BundleArchiveError(.notADirectory, "cannot unpack into \(directory.path): not a directory")
            }
            guard (try? fileManager.contentsOfDirectory(atPath: directory.path))?.isEmpty ?? false else {
                throw BundleArchiveError(.destinationNotEmpty, "cannot unpack into \(directory.path): not empty")
            }
        } else {
            do {
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw BundleArchiveError(.ioFailed, "cannot create \(directory.path): \(error.localizedDescription)")
            }
        }
        do {
            try extract(data, into: directory, unpackedSizeLimit: unpackedSizeLimit)
            try checkEntries(in: directory)
        } catch {
            if existed {
                for entry in (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? [] {
                    try? fileManager.removeItem(at: directory.appending(path: entry))
                }
            } else {
                try? fileManager.removeItem(at: directory)
            }
            throw error
        }
    }

    /// The SHA-256 of `data` as 64 lowercase hexadecimal digits.
    public static func sha256Hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: data) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    // MARK: - Extraction

    private static func extract(_ data: Data, into directory: URL, unpackedSizeLimit: Int) throws {
        let archiveFile = FileManager.default.temporaryDirectory.appending(
            path: "repro-bundle-\(UUID().uuidString).tgz"
        )
        do {
            try data.write(to: archiveFile)
        } catch {
            throw BundleArchiveError(.ioFailed, "cannot write a temporary file: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: archiveFile) }

        // First count what it decompresses to, so a small archive cannot
        // fill the volunteer's disk; then extract. Decompressing twice is
        // cheap next to a training run, and nothing here writes to a pipe
        // that a dying tool could close under us.
        let gzip = try tool("gzip")
        gzip.arguments = ["-d", "-c"]
        let archiveHandle: FileHandle
        do {
            archiveHandle = try FileHandle(forReadingFrom: archiveFile)
        } catch {
            throw BundleArchiveError(.ioFailed, "cannot read a temporary file: \(error.localizedDescription)")
        }
        defer { try? archiveHandle.close() }
        gzip.standardInput = archiveHandle
        let decompressed = Pipe()
        gzip.standardOutput = decompressed
        let gzipErrors = try ErrorCapture(for: gzip)
        defer { gzipErrors.remove() }
        try run(gzip)
        try? decompressed.fileHandleForWriting.close()
        var total = 0
        while let chunk = try? decompressed.fileHandleForReading.read(upToCount: 256 * 1024), !chunk.isEmpty {
            total += chunk.count
            if total > unpackedSizeLimit {
                gzip.terminate()
                break
            }
        }
        try? decompressed.fileHandleForReading.close()
        gzip.waitUntilExit()
        if total > unpackedSizeLimit {
            throw BundleArchiveError(.tooLarge, "bundle unpacks to more than \(describe(bytes: unpackedSizeLimit))")
        }
        try check(gzip, gzipErrors, doing: "decompressing the bundle")

        let tar = try tool("tar")
        tar.arguments = [
            "--extract", "--gzip", "--file=\(archiveFile.path)", "--directory=\(directory.path)",
            "--no-same-owner", "--no-same-permissions",
        ]
        tar.standardInput = FileHandle.nullDevice
        tar.standardOutput = FileHandle.nullDevice
        let tarErrors = try ErrorCapture(for: tar)
        defer { tarErrors.remove() }
        try run(tar)
        tar.waitUntilExit()
        try check(tar, tarErrors, doing: "unpacking the bundle")
    }

    /// Refuses entries other than files, directories and symlinks that stay inside `root`.
    private static func checkEntries(in root: URL) throws {
        guard let realRoot = realPath(root.path) else {
            throw BundleArchiveError(.ioFailed, "cannot resolve \(root.path)")
        }
        var pending = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root.path : root.path + "/" + relative
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                throw BundleArchiveError(.ioFailed, "cannot list \(directory): \(error.localizedDescription)")
            }
            for name in names {
                let member = relative.isEmpty ? name : relative + "/" + name
                let path = root.path + "/" + member
                var info = stat()
                guard lstat(path, &info) == 0 else {
                    throw BundleArchiveError(.ioFailed, "cannot inspect \(member)")
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    pending.append(member)
                case S_IFREG:
                    continue
                case S_IFLNK:
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                    guard let resolved = realPath(path),
                        resolved == realRoot || resolved.hasPrefix(realRoot + "/")
                    else {
                        throw BundleArchiveError(
                            .unsafeEntry,
                            "bundle member \(member) is a symlink to \(target), which is missing or outside the bundle"
                        )
                    }
                default:
                    throw BundleArchiveError(
                        .unsafeEntry,
                        "bundle member \(member) is not a regular file, directory or symlink"
                    )
                }
            }
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    // MARK: - Processes

    /// A process for `name` found on `PATH` (or in /usr/bin, /bin), with
    /// messages in English so they can be passed on as they are.
    private static func tool(_ name: String) throws -> Process {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = searchPath.split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        guard let directory = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/" + name) })
        else {
            throw BundleArchiveError(.toolFailed, "\(name) was not found on PATH; bundles need GNU tar and gzip")
        }
        let process = Process()
        process.executableURL = URL(filePath: directory + "/" + name)
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        process.environment = environment
        return process
    }

    private static func run(_ processes: Process...) throws {
        for process in processes {
            do {
                try process.run()
            } catch {
                for started in processes where started.isRunning { started.terminate() }
                let name = process.executableURL?.lastPathComponent ?? "a tool"
                throw BundleArchiveError(.toolFailed, "cannot start \(name): \(error.localizedDescription)")
            }
        }
    }

    private static func check(_ process: Process, _ errors: ErrorCapture, doing what: String) throws {
        guard process.terminationReason != .exit || process.terminationStatus != 0 else { return }
        let name = process.executableURL?.lastPathComponent ?? "tool"
        let how =
            process.terminationReason == .exit
            ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
        let message = errors.text
        throw BundleArchiveError(
            .toolFailed,
            "\(what) failed: \(name) ended with \(how)" + (message.isEmpty ? "" : ": \(message)")
        )
    }

    private static func describe(bytes: Int) -> String {
        bytes % (1024 * 1024) == 0 ? "\(bytes / (1024 * 1024)) MiB" : "\(bytes) bytes"
    }

    /// A tool's stderr, kept in a temporary file rather than a pipe: nobody
    /// reads a pipe while waiting for the tool, so a chatty tool would block.
    private struct ErrorCapture {
        let url: URL

        init(for process: Process) throws {
            url = FileManager.default.temporaryDirectory.appending(path: "repro-bundle-\(UUID().uuidString).err")
            guard FileManager.default.createFile(atPath: url.path, contents: nil),
                let handle = try? FileHandle(forWritingTo: url)
            else {
                throw BundleArchiveError(
                    .ioFailed,
                    "cannot create a temporary file in \(url.deletingLastPathComponent().path)"
                )
            }
            process.standardError = handle
        }

        /// The last 4 KiB of what the tool wrote, trimmed.
        var text: String {
            let data = (try? Data(contentsOf: url)) ?? Data()
            return String(decoding: data.suffix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func remove() {
            try? FileManager.default.removeItem(at: url)
        }
    }
}

/// Why a bundle could not be packed or unpacked.
public struct BundleArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The directory to pack does not exist.
        case directoryNotFound
        /// A path that must be a directory is something else.
        case notADirectory
        /// The directory to unpack into already has files in it.
        case destinationNotEmpty
        /// The compressed or unpacked bundle exceeds its limit.
        case tooLarge
        /// `tar` or `gzip` could not be found, started, or failed; the message carries their stderr.
        case toolFailed
        /// The bundle holds a symlink leading outside it, or a device, FIFO or socket.
        case unsafeEntry
        /// A temporary file or directory could not be written.
        case ioFailed
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    /// Creates an error with a message for people.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
