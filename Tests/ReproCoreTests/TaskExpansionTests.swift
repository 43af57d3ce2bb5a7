import Foundation
import ReproCore
import Testing

@Suite("Task expansion")
struct TaskExpansionTests {
    @Test func countIsDatasetsTimesSeedsTimesConfigurationsTimesReplicas() {
        var spec = SpecFixtures.fullSpec
        spec.matrix.replicas = 2
        let tasks = spec.expand()
        #expect(tasks.count == 3 * 5 * 2 * 2)
        #expect(tasks.count == spec.matrix.taskCount)
        #expect(Set(tasks).count == tasks.count)
    }

    @Test func orderIsDatasetConfigurationSeedReplica() {
        var spec = SpecFixtures.fullSpec
        spec.matrix.replicas = 2
        let keys = spec.expand().map { "\($0.dataset)/\($0.configuration ?? "-")/\($0.seed)/\($0.replica)" }
        #expect(
            Array(keys.prefix(5)) == [
                "digits/large/0/0", "digits/large/0/1", "digits/large/1/0", "digits/large/1/1", "digits/large/2/0",
            ])
        #expect(keys[10] == "digits/small/0/0")
        #expect(keys[20] == "wine/large/0/0")
        #expect(keys.last == "breast_cancer/small/4/1")
        #expect(spec.expand() == spec.expand())
    }

    @Test func replicasShareTheirSeedGroup() {
        var spec = SpecFixtures.fullSpec
        spec.matrix.replicas = 3
        let tasks = spec.expand()
        #expect(tasks.map(\.seedGroup) == (0..<30).flatMap { [$0, $0, $0] })
        #expect(tasks.map(\.replica) == Array(repeating: [0, 1, 2], count: 30).flatMap { $0 })
    }

    @Test func argumentsHaveEveryPlaceholderSubstituted() throws {
        let first = try #require(SpecFixtures.fullSpec.expand().first)
        #expect(first.arguments == ["python3", "train.py", "--seed", "0", "--dataset", "digits", "--hidden=128"])
        for task in SpecFixtures.fullSpec.expand() {
            #expect(!task.arguments.joined().contains("{"))
        }
    }

    @Test func withoutConfigurationsTasksHaveNone() throws {
        let spec = try StudySpec.parse(Data(SpecFixtures.minimalYAML.utf8))
        let tasks = spec.expand()
        #expect(tasks.count == 1)
        #expect(tasks[0].configuration == nil)
        #expect(tasks[0].arguments == ["python3", "train.py", "--seed=7", "--dataset=digits"])
    }

    @Test func substituteReplacesInsideArgumentsAndLeavesOtherBracesAlone() {
        let configuration = ConfigurationSpec(name: "small", parameters: ["lr": "0.1"])
        let arguments = StudySpec.substitute(
            command: ["run", "--seed={seed}", "{dataset}-{config}", "--lr", "{lr}", "{\"a\": 1}", "{unknown}", "{}"],
            seed: 42, dataset: "wine", configuration: configuration)
        #expect(arguments == ["run", "--seed=42", "wine-small", "--lr", "0.1", "{\"a\": 1}", "{unknown}", "{}"])
        let plain = StudySpec.substitute(
            command: ["{seed}{dataset}{config}"], seed: 1, dataset: "d", configuration: nil)
        #expect(plain == ["1d{config}"])
    }
}
