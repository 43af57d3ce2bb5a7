import Foundation
import ReproCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Collects the metrics one job reports.
///
/// A job reports metrics in either or both of two ways:
/// - a file `metrics.json` in `$REPRO_OUTPUT_DIR`: one flat JSON object of
///   names to numbers, `{"accuracy": 0.97, "loss": 0.1}`;
/// - output lines `REPRO_METRIC name=value`, e.g. `REPRO_METRIC accuracy=0.97`.
///
/// For a name reported more than once, the last line wins, and the file wins
/// over every line: the file is written once at the end, deliberately, while
/// lines may be interim values printed during training.
///
/// Names match `[A-Za-z_][A-Za-z0-9_.-]{0,63}`; values must be finite
/// numbers; a run reports at most ``maximumMetricCount`` distinct names.
/// Anything else is a ``MetricsError`` naming the file or line, because a
/// run whose numbers cannot be trusted must fail loudly rather than enter
/// the statistics as a silent gap or a NaN (or be refused by the coordinator).
///
/// Feed output lines with ``consume(line:)`` as the job prints them (they are
/// numbered from 1 in the order fed), then call ``metrics(outputDirectory:)``.
public struct MetricsParser: Sendable {
    /// The name of the metrics file in the job's output directory.
    public static let fileName = "metrics.json"
    /// Larger metrics files are refused: a flat object of numbers is small.
    public static let maximumFileSize = 1024 * 1024
    /// The prefix of a metric line.
    public static let linePrefix = "REPRO_METRIC"
    /// More distinct metrics are refused: the coordinator accepts at most this many per run.
    public static let maximumMetricCount = 100

    private var lineMetrics: [String: Double] = [:]
    private var lineNumber = 0
    private var firstLineError: MetricsError?

    /// Creates a parser that has seen no output yet.
    public init() {}

    /// Reads one line of the job's output; lines without the `REPRO_METRIC`
    /// prefix are counted and otherwise ignored.
    public mutating func consume(line: String) {
        lineNumber += 1
        guard line.hasPrefix(Self.linePrefix) else { return }
        let rest = line.dropFirst(Self.linePrefix.count)
        // "REPRO_METRICS ..." or "REPRO_METRIC_X" is someone else's line.
        guard let separator = rest.first, separator == " " || separator == "\t" else { return }
        do {
            let (name, value) = try Self.parseAssignment(
                rest.trimmingCharacters(in: .whitespaces),
                lineNumber: lineNumber
            )
            lineMetrics[name] = value
        } catch {
            if firstLineError == nil { firstLineError = error }
        }
    }

    /// The job's metrics: the lines seen so far, overridden by
    /// `metrics.json` in `outputDirectory` if that file exists.
    ///
    /// - Throws: ``MetricsError`` for an invalid file or line, when there is no metric at all, or
    ///   when there are more than ``maximumMetricCount``.
    public func metrics(outputDirectory: URL?) throws(MetricsError) -> [String: Double] {
        var fileMetrics: [String: Double] = [:]
        var hasFile = false
        if let outputDirectory {
            let url = outputDirectory.appending(path: Self.fileName)
            var info = stat()
            if lstat(url.path, &info) == 0 {
                hasFile = true
                fileMetrics = try Self.parseFile(at: url)
            }
        }
        if let firstLineError { throw firstLineError }
        let merged = lineMetrics.merging(fileMetrics) { _, fromFile in fromFile }
        guard !merged.isEmpty else {
            let file = hasFile ? "\(Self.fileName) is an empty object" : "the job wrote no \(Self.fileName) to $REPRO_OUTPUT_DIR"
            let lines = hasFile ? "the output had no \(Self.linePrefix) line" : "printed no \(Self.linePrefix) line"
            throw MetricsError(.noMetrics, "no metrics: \(file) and \(lines)")
        }
        guard merged.count <= Self.maximumMetricCount else {
            throw MetricsError(
                .tooManyMetrics,
                "too many metrics: the job reported \(merged.count) distinct names, "
                    + "more than the \(Self.maximumMetricCount) a run may report"
            )
        }
        return merged
    }

    /// Metrics from complete output and an optional output directory; see the type's rules.
    public static func metrics(
        outputLines: some Sequence<String>,
        outputDirectory: URL?
    ) throws(MetricsError) -> [String: Double] {
        var parser = MetricsParser()
        for line in outputLines {
            parser.consume(line: line)
        }
        return try parser.metrics(outputDirectory: outputDirectory)
    }

    /// The metrics in a `metrics.json` file.
    public static func parseFile(at url: URL) throws(MetricsError) -> [String: Double] {
        // The job owns the file and may have made it a link to a file of the worker's (its token):
        // never follow one, and read only a regular file.
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw MetricsError(.unreadableFile, "\(fileName): cannot be read: \(reason)")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw MetricsError(.unreadableFile, "\(fileName): cannot be read: it is not a regular file")
        }
        guard info.st_size <= maximumFileSize else {
            throw MetricsError(
                .unreadableFile,
                "\(fileName): \(info.st_size) bytes, more than the \(maximumFileSize) allowed"
            )
        }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw MetricsError(.unreadableFile, "\(fileName): cannot be read: \(error.localizedDescription)")
        }
        return try parseFile(data)
    }

    /// The metrics in the content of a `metrics.json` file.
    public static func parseFile(_ data: Data) throws(MetricsError) -> [String: Double] {
        var parser = FlatJSONObjectParser(bytes: Array(data), fileName: fileName)
        return try parser.parse()
    }

    /// Whether `name` is a valid metric name: the shared rule of ``MetricName`` (the spec's claims and
    /// the coordinator check the same one).
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        MetricName.isValid(name)
    }

    static let nameRule = "letters, digits, _ . -, starting with a letter or _, at most 64 characters"

    /// Parses `name=value` from a `REPRO_METRIC` line.
    private static func parseAssignment(_ text: String, lineNumber: Int) throws(MetricsError) -> (String, Double) {
        let place = "stdout line \(lineNumber): \(linePrefix) \(text.debugDescription)"
        guard let equals = text.firstIndex(of: "=") else {
            throw MetricsError(.malformedLine, "\(place) is not name=number")
        }
        let name = text[..<equals].trimmingCharacters(in: .whitespaces)
        let valueText = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard isValidName(name) else {
            throw MetricsError(
                .invalidName,
                "\(place): \(name.debugDescription) is not a valid metric name (\(nameRule))"
            )
        }
        switch NumberText.parse(valueText) {
        case .finite(let value):
            return (name, value)
        case .nonFinite:
            throw MetricsError(.invalidValue, "\(place): value of \(name.debugDescription) is not a finite number")
        case .notANumber:
            throw MetricsError(.malformedLine, "\(place) is not name=number")
        }
    }
}

/// The reading of a number's text.
enum NumberText: Equatable {
    case finite(Double)
    case nonFinite
    case notANumber

    private static let nonFiniteSpellings: Set<String> = [
        "nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
    ]

    /// Reads a decimal number as Python, JSON or C would print it. Spellings
    /// of NaN and infinity (Python prints `nan` and `inf`; its `json` module
    /// writes `NaN` and `Infinity`) are recognised so the error can say so.
    static func parse(_ text: some StringProtocol) -> NumberText {
        if nonFiniteSpellings.contains(text.lowercased()) { return .nonFinite }
        guard isDecimal(text), let value = Double(String(text)) else { return .notANumber }
        // 1e999 parses as infinity.
        return value.isFinite ? .finite(value) : .nonFinite
    }

    /// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`, which
    /// excludes the hexadecimal and other forms `Double.init` also accepts.
    private static func isDecimal(_ text: some StringProtocol) -> Bool {
        var bytes = Substring(text).utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        var mantissaDigits = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            mantissaDigits += digits()
        }
        guard mantissaDigits > 0 else { return false }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}
