import Foundation
import Testing

@testable import ReproWorker

@Suite("MetricsParser")
struct MetricsParserTests {
    private func lines(_ lines: String...) throws(MetricsError) -> [String: Double] {
        try MetricsParser.metrics(outputLines: lines, outputDirectory: nil)
    }

    private func file(_ json: String) throws(MetricsError) -> [String: Double] {
        try MetricsParser.parseFile(Data(json.utf8))
    }

    private func error(_ body: () throws -> [String: Double]) -> MetricsError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? MetricsError
        }
    }

    // MARK: lines

    @Test("REPRO_METRIC lines are read and other lines ignored")
    func readsLines() throws {
        let metrics = try lines(
            "epoch 1 loss=0.5",
            "REPRO_METRIC accuracy=0.97",
            "REPRO_METRICS accuracy=0.1",
            "REPRO_METRIC_X accuracy=0.2",
            "  REPRO_METRIC accuracy=0.3",
            "REPRO_METRIC loss=1e-05",
            "REPRO_METRIC\tf1.macro-avg = -0.5  "
        )
        #expect(metrics == ["accuracy": 0.97, "loss": 1e-05, "f1.macro-avg": -0.5])
    }

    @Test("the last line for a name wins")
    func lastLineWins() throws {
        #expect(try lines("REPRO_METRIC acc=0.1", "REPRO_METRIC acc=0.2", "REPRO_METRIC acc=0.3") == ["acc": 0.3])
    }

    @Test("a value that is not a number names the line")
    func nonNumericLine() {
        let failure = error { try lines("hello", "REPRO_METRIC acc=abc") }
        #expect(failure?.code == .malformedLine)
        #expect(failure?.message == #"stdout line 2: REPRO_METRIC "acc=abc" is not name=number"#)
    }

    @Test("a line without '=' is malformed")
    func lineWithoutEquals() {
        let failure = error { try lines("REPRO_METRIC accuracy 0.9") }
        #expect(failure?.message == #"stdout line 1: REPRO_METRIC "accuracy 0.9" is not name=number"#)
    }

    @Test(
        "hexadecimal and other non-decimal spellings are refused",
        arguments: ["0x1p3", "1_000", "", "1.2.3", "--1", "e5"]
    )
    func nonDecimal(value: String) {
        #expect(error { try lines("REPRO_METRIC acc=\(value)") }?.code == .malformedLine)
    }

    @Test("NaN and infinity are refused as not finite", arguments: ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
    func nonFiniteLine(value: String) {
        let failure = error { try lines("x", "y", "REPRO_METRIC loss=\(value)") }
        #expect(failure?.code == .invalidValue)
        #expect(
            failure?.message
                == "stdout line 3: REPRO_METRIC \("loss=\(value)".debugDescription): value of \"loss\" is not a finite number"
        )
    }

    @Test(
        "invalid names are refused",
        arguments: ["9lives", "a b", "", "acc/x", String(repeating: "a", count: 65), "é"]
    )
    func invalidNameLine(name: String) {
        let failure = error { try lines("REPRO_METRIC \(name)=1") }
        #expect(failure?.code == .invalidName || failure?.code == .malformedLine)
    }

    @Test(
        "name rule",
        arguments: [
            ("a", true), ("_", true), ("A9._-", true), (String(repeating: "x", count: 64), true),
            ("9", false), (".a", false), ("-a", false), ("", false), (String(repeating: "x", count: 65), false),
            ("a+b", false),
        ]
    )
    func nameRule(name: String, valid: Bool) {
        #expect(MetricsParser.isValidName(name) == valid)
    }

    @Test("an invalid line fails the whole run even if other metrics are fine")
    func firstLineErrorIsReported() {
        let failure = error { try lines("REPRO_METRIC a=1", "REPRO_METRIC b=x", "REPRO_METRIC c=nan") }
        #expect(failure?.message.hasPrefix("stdout line 2:") == true)
    }

    @Test("no metric at all is an error")
    func noMetrics() {
        let failure = error { try lines("training...", "done") }
        #expect(failure?.code == .noMetrics)
        #expect(
            failure?.message
                == "no metrics: the job wrote no metrics.json to $REPRO_OUTPUT_DIR and printed no REPRO_METRIC line"
        )
    }

    @Test("lines fed one by one keep their numbers")
    func incremental() {
        var parser = MetricsParser()
        for line in ["a", "b", "c", "REPRO_METRIC x=oops"] {
            parser.consume(line: line)
        }
        #expect(throws: MetricsError(.malformedLine, #"stdout line 4: REPRO_METRIC "x=oops" is not name=number"#)) {
            try parser.metrics(outputDirectory: nil)
        }
    }

    @Test("more than 100 distinct metrics are refused; 100 are fine")
    func tooManyMetrics() throws {
        let hundred = (1...100).map { "REPRO_METRIC m\($0)=1" }
        #expect(try MetricsParser.metrics(outputLines: hundred, outputDirectory: nil).count == 100)
        let failure = error {
            try MetricsParser.metrics(outputLines: hundred + ["REPRO_METRIC m101=1"], outputDirectory: nil)
        }
        #expect(failure?.code == .tooManyMetrics)
        #expect(
            failure?.message
                == "too many metrics: the job reported 101 distinct names, more than the 100 a run may report"
        )
    }

    // MARK: metrics.json

    @Test("a flat object of numbers is read")
    func readsFile() throws {
        let metrics = try file(#"  {"accuracy": 0.97, "loss": 1e-1, "n": -3, "zero": 0, "big": 1.5E+3}  "#)
        #expect(metrics == ["accuracy": 0.97, "loss": 0.1, "n": -3, "zero": 0, "big": 1500])
    }

    @Test("an empty object, a BOM, escapes and duplicate names")
    func fileEdgeCases() throws {
        #expect(try file("{}") == [:])
        #expect(try file("\u{FEFF}{\"a\":1}") == ["a": 1])
        #expect(try file(#"{"\u0061cc": 1, "acc": 2}"#) == ["acc": 2])
    }

    @Test(
        "NaN and Infinity, as Python's json writes them, are not finite",
        arguments: ["NaN", "Infinity", "-Infinity", "1e400"]
    )
    func nonFiniteFile(value: String) {
        let failure = error { try file(#"{"accuracy": 0.9, "loss": \#(value)}"#) }
        #expect(failure?.code == .invalidValue)
        #expect(failure?.message == #"metrics.json: value of "loss" is not a finite number"#)
    }

    @Test("values that are not numbers are refused", arguments: [#""0.97""#, "true", "null", "[0.9]", #"{"x": 1}"#])
    func nonNumericFile(value: String) {
        let failure = error { try file(#"{"accuracy": \#(value)}"#) }
        #expect(failure?.message == #"metrics.json: value of "accuracy" is not a number"#)
    }

    @Test("numbers JSON does not allow are refused", arguments: ["+1", "01", ".5", "1.", "0x10", "1e"])
    func nonJSONNumbers(value: String) {
        let failure = error { try file(#"{"accuracy": \#(value)}"#) }
        #expect(failure?.code == .invalidValue)
        #expect(failure?.message.hasPrefix(#"metrics.json: value of "accuracy" is not a number: "#) == true)
    }

    @Test(
        "malformed JSON says where",
        arguments: [
            ("", "metrics.json: malformed JSON at line 1, column 1: the file is empty"),
            ("{\n  \"a\" 1}", "metrics.json: malformed JSON at line 2, column 7: expected ':' after the name \"a\""),
            (
                #"{"a": 1"#,
                #"metrics.json: malformed JSON at line 1, column 8: expected '}' or ',' after the value of "a""#
            ),
            (#"{"a": 1,}"#, "metrics.json: malformed JSON at line 1, column 9: expected a quoted metric name"),
            (#"{"a": 1} x"#, "metrics.json: malformed JSON at line 1, column 10: unexpected text after the object"),
            (#"{"a"#, "metrics.json: malformed JSON at line 1, column 4: unterminated string"),
            (#"{a: 1}"#, "metrics.json: malformed JSON at line 1, column 2: expected a quoted metric name"),
            (#"{"a\q": 1}"#, #"metrics.json: malformed JSON at line 1, column 5: invalid escape in a string"#),
        ]
    )
    func malformedFile(json: String, message: String) {
        let failure = error { try file(json) }
        #expect(failure?.code == .malformedFile)
        #expect(failure?.message == message)
    }

    @Test("the top level must be an object")
    func topLevelNotObject() {
        let failure = error { try file("[0.97]") }
        #expect(
            failure?.message
                == #"metrics.json: the top level must be an object of metric names to numbers, like {"accuracy": 0.97}"#
        )
    }

    @Test("invalid names in the file are refused")
    func invalidNameFile() {
        let failure = error { try file(#"{"9acc": 1}"#) }
        #expect(failure?.code == .invalidName)
        #expect(failure?.message.hasPrefix(#"metrics.json: "9acc" is not a valid metric name"#) == true)
    }

    @Test("invalid UTF-8 is refused without crashing")
    func invalidUTF8() {
        let failure = error { try MetricsParser.parseFile(Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])) }
        #expect(failure?.code == .malformedFile)
    }

    // MARK: both sources

    @Test("metrics.json wins over lines for the same name; other line metrics are kept")
    func fileWinsOverLines() throws {
        let directory = try TemporaryDirectory()
        try Data(#"{"accuracy": 0.95}"#.utf8).write(to: directory.url.appending(path: "metrics.json"))
        let metrics = try MetricsParser.metrics(
            outputLines: ["REPRO_METRIC accuracy=0.5", "REPRO_METRIC epochs=12"],
            outputDirectory: directory.url
        )
        #expect(metrics == ["accuracy": 0.95, "epochs": 12])
    }

    @Test("a missing metrics.json falls back to lines; an empty one with no lines is an error")
    func missingOrEmptyFile() throws {
        let directory = try TemporaryDirectory()
        #expect(
            try MetricsParser.metrics(outputLines: ["REPRO_METRIC a=1"], outputDirectory: directory.url) == ["a": 1]
        )
        try Data("{}".utf8).write(to: directory.url.appending(path: "metrics.json"))
        #expect(throws: MetricsError.self) {
            try MetricsParser.metrics(outputLines: [], outputDirectory: directory.url)
        }
    }

    @Test("an oversized metrics.json is refused")
    func oversizedFile() throws {
        let directory = try TemporaryDirectory()
        try Data(repeating: 0x20, count: MetricsParser.maximumFileSize + 1).write(
            to: directory.url.appending(path: "metrics.json")
        )
        let failure = error { try MetricsParser.metrics(outputLines: [], outputDirectory: directory.url) }
        #expect(failure?.code == .unreadableFile)
    }

    @Test("the metric limit counts distinct names across metrics.json and lines")
    func tooManyMetricsAcrossSources() throws {
        let directory = try TemporaryDirectory()
        let object = "{" + (1...60).map { "\"f\($0)\": 1" }.joined(separator: ", ") + "}"
        try Data(object.utf8).write(to: directory.url.appending(path: "metrics.json"))
        // 60 names in the file, 40 others in lines, and one in both: 100 distinct.
        let printed = (1...40).map { "REPRO_METRIC l\($0)=1" } + ["REPRO_METRIC f1=2"]
        #expect(try MetricsParser.metrics(outputLines: printed, outputDirectory: directory.url).count == 100)
        let failure = error {
            try MetricsParser.metrics(outputLines: printed + ["REPRO_METRIC l41=1"], outputDirectory: directory.url)
        }
        #expect(failure?.code == .tooManyMetrics)
    }

    @Test("a malformed metrics.json is an error even when lines have metrics")
    func malformedFileBeatsLines() throws {
        let directory = try TemporaryDirectory()
        try Data("{oops".utf8).write(to: directory.url.appending(path: "metrics.json"))
        let failure = error {
            try MetricsParser.metrics(outputLines: ["REPRO_METRIC a=1"], outputDirectory: directory.url)
        }
        #expect(failure?.code == .malformedFile)
    }

    @Test("a metrics.json that is a link (to the worker's token, say) is refused, never followed")
    func linkIsNotFollowed() throws {
        let directory = try TemporaryDirectory()
        let secret = directory.url.appending(path: "worker.json")
        try Data(#"{"token_like": 1}"#.utf8).write(to: secret)
        let output = directory.url.appending(path: "output")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: output.appending(path: "metrics.json").path, withDestinationPath: secret.path)
        let failure = #expect(throws: MetricsError.self) {
            try MetricsParser.metrics(outputLines: ["REPRO_METRIC a=1"], outputDirectory: output)
        }
        #expect(failure?.code == .unreadableFile)
        #expect(failure.map { "\($0)" }?.contains("symbolic link") == true)
    }
}
