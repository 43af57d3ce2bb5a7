import Foundation
import ReproCore

/// The review document as text for a terminal.
enum ReviewRenderer {
    static func render(_ document: ReviewDocument) -> String {
        let manifest = document.manifest
        var lines: [String] = []
        lines.append("Study \(document.studyID.uuidString.lowercased()) — \(document.title) (\(document.preprintID))")
        lines.append(
            "state: \(document.state.rawValue); \(document.taskCount) tasks\(document.maxTaskCount.map { " (adaptive seeds: up to \($0) tasks if claims stay undecided)" } ?? ""); binding \(document.bindingSHA256.prefix(16))"
        )
        let submitter = document.submitter
        let history = submitter.studies.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
            separator: ", ")
        lines.append(
            "submitter: \(submitter.name) (\(submitter.accountID.uuidString.lowercased())), \(submitter.trusted ? "trusted" : "not trusted"), "
                + "account since \(submitter.createdAt.formatted(.iso8601)); studies: \(history)")
        if let git = document.git {
            lines.append("code: git \(git.gitURL ?? "?") at commit \(git.gitCommit ?? "?")")
        } else {
            lines.append("code: bundle sha256 \(manifest.code.bundleSHA256 ?? "?")")
        }
        if let problem = document.bundleProblem { lines.append("BUNDLE PROBLEM: \(problem)") }
        for file in document.files ?? [] {
            if let target = file.target {
                lines.append("  \(file.path) -> \(target) (symbolic link)")
            } else {
                lines.append("  \(file.path)  \(file.size) bytes  sha256 \(file.sha256 ?? "")")
            }
        }
        lines.append("requirements: \(manifest.requirements ?? "none")")
        lines.append("command template: \(manifest.command.joined(separator: " "))")
        lines.append("first task's command: \(document.exampleCommand.joined(separator: " "))")
        let memory = manifest.memoryBytes > 0 ? "\(manifest.memoryBytes / (1 << 20)) MiB" : "any"
        lines.append(
            "resources: \(manifest.cpus) CPU, \(memory) memory, \(manifest.gpus) GPU; timeout \(manifest.timeoutSeconds) s; "
                + "network: \(manifest.network ? "REQUESTED" : "no")")
        lines.append("datasets: \(manifest.datasets.joined(separator: ", "))")
        for text in document.texts {
            lines.append("")
            lines.append("──── \(text.path) ────")
            lines.append(text.text)
        }
        return lines.joined(separator: "\n")
    }
}
