import ArgumentParser
import Foundation
import ReproCore
import ReproStats

/// `repro plan study.yaml --sd 0.01 | --pilot STUDY_ID`: runs each claim needs for 80 % / 90 % power before
/// any compute is spent (docs/statistics.md §2d). With `--pilot` the sd of each claim's (dataset, metric) is
/// the one a finished pilot study measured.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs per claim for 80 % and 90 % power, from an assumed sd or a pilot study's measured sd.")

    @Argument(help: "The study spec file (YAML or JSON).") var file: String
    @Option(help: "Assumed sd of one run's metric value (same for every claim).") var sd: Double?
    @Option(help: "A finished study whose measured sd per (dataset, metric) to use.") var pilot: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard (sd == nil) != (pilot == nil) else { throw ValidationError("Give exactly one of --sd and --pilot.") }
        if let sd, !(sd.isFinite && sd > 0) { throw ValidationError("--sd must be a positive number, got \(sd).") }
    }

    func run() async throws {
        let url = URL(fileURLWithPath: file)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CLIError("\(file): cannot read the file (\(error.localizedDescription))")
        }
        let spec: StudySpec
        do {
            spec = try StudySpec.parse(data, format: url.pathExtension.lowercased() == "json" ? .json : nil, context: .client)
        } catch {
            throw CLIError("\(file): the study spec is invalid:\n\(error.issues.map { "  - \($0)" }.joined(separator: "\n"))")
        }
        guard !spec.claims.isEmpty else { throw CLIError("\(file): claims: the spec states no claims, so there is nothing to plan") }
        var pilotSD: [String: Double] = [:]
        if let pilot {
            let client = try connection.client()
            let report = try await reporting { try await client.reportData(try parseStudyID(pilot)) }
            pilotSD = try Self.measuredSD(reportJSON: report)
        }
        var plans: [ClaimPlan] = []
        var missing: [String] = []
        for (index, claim) in Self.claims(of: spec).enumerated() {
            let key = "\(claim.dataset)\u{0}\(spec.claims[index].configuration ?? "")\u{0}\(claim.metric)"
            guard let value = sd ?? pilotSD[key], value > 0 else {
                missing.append("claims[\(index)] (\(claim.metric) on \(claim.dataset))")
                continue
            }
            plans.append(ClaimPlan(claim: claim, sd: value))
        }
        if !missing.isEmpty {
            throw CLIError("the pilot study has no measured sd > 0 for " + missing.joined(separator: ", "))
        }
        if json {
            let encoder = WireCoding.encoder()
            encoder.outputFormatting.insert(.prettyPrinted)
            print(String(decoding: try encoder.encode(plans), as: UTF8.self))
        } else {
            print(Self.table(plans))
        }
    }

    /// The spec's claims as ReproStats claims (bounded metrics keep their range, as the report does).
    static func claims(of spec: StudySpec) -> [Claim] {
        spec.claims.map { claim in
            let direction: Claim.Direction
            switch claim.direction {
            case .higher: direction = .higher
            case .lower: direction = .lower
            case .equal: direction = .equal
            }
            var range: Interval?
            if let declared = spec.metrics?[claim.metric], let low = declared.min, let high = declared.max, low < high {
                range = Interval(lower: low, upper: high)
            }
            return Claim(
                metric: claim.metric, dataset: claim.dataset, value: claim.value, direction: direction,
                tolerance: claim.tolerance, range: range)
        }
    }

    /// sd per "dataset␀configuration␀metric" from a report's summaries.
    static func measuredSD(reportJSON: Data) throws -> [String: Double] {
        struct Report: Decodable {
            struct Cell: Decodable {
                let dataset: String
                let configuration: String?
                let metric: String
                let summary: Summary
                struct Summary: Decodable { let sd: Double? }
            }
            let summaries: [Cell]
        }
        let report = try JSONDecoder().decode(Report.self, from: reportJSON)
        var result: [String: Double] = [:]
        for cell in report.summaries {
            if let sd = cell.summary.sd { result["\(cell.dataset)\u{0}\(cell.configuration ?? "")\u{0}\(cell.metric)"] = sd }
        }
        return result
    }

    static func table(_ plans: [ClaimPlan]) -> String {
        func runs(_ value: Int?) -> String { value.map(String.init) ?? "> \(ClaimPlan.limit)" }
        var lines = [
            "Runs needed per claim (fixed design; at least 5). \"reproduced\": if the true mean equals the claim; "
                + "\"not reproduced\": if it is off by twice the tolerance.",
            "",
            "claim                                   sd        tolerance  reproduced 80% / 90%   not reproduced 80% / 90%",
        ]
        for plan in plans {
            let name = "\(plan.claim.metric) on \(plan.claim.dataset) \(plan.claim.direction.rawValue) \(plan.claim.value)"
            lines.append(
                name.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + String(format: "%-10.4g%-11.4g", plan.sd, plan.tolerance)
                    + "\(runs(plan.reproducedRuns80)) / \(runs(plan.reproducedRuns90))".padding(toLength: 23, withPad: " ", startingAt: 0)
                    + "\(runs(plan.notReproducedRuns80)) / \(runs(plan.notReproducedRuns90))")
        }
        return lines.joined(separator: "\n")
    }
}
