import Foundation
import ReproCore

/// What is inside a code bundle, for a moderator: every file with its size and sha256, and the full text
/// of the small text files. The bundle is unpacked with the same checks a worker applies
/// (``BundleArchive/unpack(_:into:unpackedSizeLimit:)``) into a temporary folder that is removed after.
struct BundleInventory {
    var files: [BundleFile]
    var texts: [BundleText]

    /// Most bytes of text shown for one bundle, all files together.
    static let totalTextLimit = 1024 * 1024

    /// Lists `bundle`; throws when it is not a valid bundle (the moderator is told why).
    static func read(_ bundle: Data) throws -> BundleInventory {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "reprogrid-review-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try BundleArchive.unpack(bundle, into: root)
        var files: [BundleFile] = []
        var texts: [BundleText] = []
        var textBytes = 0
        let keys: [URLResourceKey] = [.isRegularFileKey, .isSymbolicLinkKey, .fileSizeKey]
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: keys) else {
            return BundleInventory(files: [], texts: [])
        }
        let prefix = root.resolvingSymlinksInPath().path + "/"
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: Set(keys))
            let path = String(url.resolvingSymlinksInPath().path.dropFirst(prefix.count))
            let relative = url.path.hasPrefix(root.path + "/") ? String(url.path.dropFirst(root.path.count + 1)) : path
            if values.isSymbolicLink == true {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: url.path)) ?? "?"
                files.append(BundleFile(path: relative, size: 0, sha256: nil, target: target))
            } else if values.isRegularFile == true {
                let data = try Data(contentsOf: url)
                files.append(BundleFile(path: relative, size: Int64(data.count), sha256: BundleArchive.sha256Hex(data)))
                if data.count <= ReviewDocument.textLimit, textBytes + data.count <= totalTextLimit, !data.contains(0),
                    let text = String(data: data, encoding: .utf8)
                {
                    texts.append(BundleText(path: relative, text: text))
                    textBytes += data.count
                }
            }
        }
        files.sort { $0.path < $1.path }
        texts.sort { $0.path < $1.path }
        return BundleInventory(files: files, texts: texts)
    }
}
