import Foundation
import ReproClient
import ReproCore

/// `repro submit`: validates the spec locally (naming the file), packs and uploads a local code
/// bundle, then submits the spec with the bundle's content address.
struct StudySubmitter {
    let client: CoordinatorClient

    func submit(specFile: URL, allowDuplicate: Bool = false) async throws -> StudyCreated {
        let data: Data
        do {
            data = try Data(contentsOf: specFile)
        } catch {
            throw CLIError("\(specFile.path): cannot read the file (\(error.localizedDescription))")
        }
        var spec: StudySpec
        do {
            spec = try StudySpec.parse(data, format: specFile.pathExtension.lowercased() == "json" ? .json : nil, context: .client)
        } catch {
            throw CLIError("\(specFile.path): the study spec is invalid:\n\(error.issues.map { "  - \($0)" }.joined(separator: "\n"))")
        }
        if case .bundle(let reference) = spec.code, !reference.hasPrefix("sha256:") {
            let directory = URL(fileURLWithPath: reference, relativeTo: specFile.deletingLastPathComponent()).standardizedFileURL
            if case .python(let requirements) = spec.environment {
                let path = directory.appendingPathComponent(requirements).path
                guard FileManager.default.fileExists(atPath: path) else {
                    throw CLIError("\(specFile.path): environment.python.requirements: \(path) does not exist in the code bundle")
                }
            }
            let archive: Data
            do {
                archive = try BundleArchive.pack(directory: directory)
            } catch {
                throw CLIError("\(specFile.path): code.bundle: \(error)")
            }
            FileHandle.standardError.write(Data("Uploading code bundle \(directory.path) (\(archive.count) bytes)…\n".utf8))
            let uploaded = try await client.uploadBundle(archive)
            spec = spec.withBundle("sha256:\(uploaded.sha256)")
        }
        return try await client.submitStudy(specJSON: spec.canonicalJSON(), allowDuplicate: allowDuplicate)
    }
}

/// A CLI failure with a message for people.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
