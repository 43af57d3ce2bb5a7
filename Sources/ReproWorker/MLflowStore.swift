import Foundation
import ReproCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads the MLflow file store an unmodified training script wrote (issue 14): the worker points
/// `MLFLOW_TRACKING_URI` at `$REPRO_OUTPUT_DIR/mlruns`, and after the job takes the one run's
/// metrics, params and tags from the file-store layout
///
///     mlruns/<experiment id>/<run id>/metrics/<name>   lines "timestamp value step"
///     mlruns/<experiment id>/<run id>/params/<name>    the value
///     mlruns/<experiment id>/<run id>/tags/<name>      the value
///
/// A metric's value is the one at its highest step, the last logged at that step.
///
/// The job owns every byte of the store and may have planted links to the worker's files (its token)
/// or huge files: nothing is followed (each directory and file is opened relative to its parent with
/// `O_NOFOLLOW`, so a link anywhere on the way is refused, not read), only regular files are read,
/// and directory sizes, file sizes and the bytes read in all are bounded. Every problem is a
/// ``MetricsError`` naming the file, so the run fails loudly like a bad `metrics.json`.
public struct MLflowStore: Sendable {
    /// The store's folder name in the output directory.
    public static let folderName = "mlruns"
    /// The tag the worker sets (see ``environment(outputDirectory:study:task:dataset:seed:)``) and
    /// reads back to find the job's own run.
    public static let taskTag = "reprogrid.task_id"

    /// Entries read from one directory at most.
    public var maximumEntries = 1000
    /// Bytes of one metric file at most (100 000 logged values are about 4 MB).
    public var maximumMetricFileBytes = 8 * 1024 * 1024
    /// Bytes of one param or tag value at most (MLflow itself caps params at 6 000 characters).
    public var maximumValueBytes = 64 * 1024
    /// Bytes read from the whole store at most.
    public var maximumTotalBytes = 64 * 1024 * 1024
    /// Params kept at most.
    public var maximumParams = 200

    /// One MLflow run as read from the store.
    public struct Run: Sendable, Equatable {
        /// `mlruns/<experiment>/<run>`, for messages.
        public var path: String
        public var metrics: [String: Double]
        public var params: [String: String]
        public var tags: [String: String]
    }

    /// Creates a reader with the default bounds.
    public init() {}

    /// The environment that points MLflow at the store: a file store in the job's output folder (the
    /// only place the sandbox lets it write), an experiment named after the study, and the run's tags.
    public static func environment(outputDirectory: URL, study: UUID, task: Int64, dataset: String, seed: Int64)
        -> [String: String]
    {
        let tags: [String: String] = [
            taskTag: String(task), "reprogrid.study_id": study.uuidString.lowercased(), "reprogrid.dataset": dataset,
            "reprogrid.seed": String(seed),
        ]
        let json = (try? JSONSerialization.data(withJSONObject: tags, options: [.sortedKeys])).map {
            String(decoding: $0, as: UTF8.self)
        }
        var environment = [
            "MLFLOW_TRACKING_URI": "file://" + outputDirectory.appendingPathComponent(folderName).path,
            "MLFLOW_EXPERIMENT_NAME": "reprogrid-\(study.uuidString.lowercased())",
            // MLflow 3.x refuses the file store ("maintenance mode") unless asked for it; it still
            // writes the layout read here, and a database backend would need a server or SQLite
            // file whose schema changes between versions.
            "MLFLOW_ALLOW_FILE_STORE": "true",
        ]
        // MLflow's SystemEnvironmentContext adds this JSON object's entries as tags to every run it
        // starts (mlflow >= 2.x); older versions ignore it, and then the one run in the store is taken.
        environment["MLFLOW_RUN_CONTEXT"] = json
        return environment
    }

    /// The job's MLflow run, or nil when it logged none (no store, or no run with a metric or param).
    ///
    /// When runs carry the ``taskTag`` tag, only the one tagged with `task` counts; a job that logged
    /// more than one run is an error (which one holds the result is a guess).
    public func read(outputDirectory: URL, task: Int64) throws(MetricsError) -> Run? {
        var budget = maximumTotalBytes
        let output = open(outputDirectory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard output >= 0 else { return nil }
        defer { close(output) }
        var info = stat()
        guard fstatat(output, Self.folderName, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        let store = try openDirectory(Self.folderName, in: output, path: Self.folderName)
        defer { close(store) }
        var runs: [Run] = []
        for experiment in try entries(of: store, path: Self.folderName) where experiment.isDirectory {
            // `.trash` holds deleted experiments and runs; `models` is the model registry.
            if experiment.name.hasPrefix(".") || experiment.name == "models" { continue }
            let experimentPath = "\(Self.folderName)/\(experiment.name)"
            let experimentFD = try openDirectory(experiment.name, in: store, path: experimentPath)
            defer { close(experimentFD) }
            for candidate in try entries(of: experimentFD, path: experimentPath) where candidate.isDirectory {
                let runPath = "\(experimentPath)/\(candidate.name)"
                let runFD = try openDirectory(candidate.name, in: experimentFD, path: runPath)
                defer { close(runFD) }
                let children = try entries(of: runFD, path: runPath)
                // An experiment's own `tags` folder holds files only; a run has metrics/params/tags folders.
                let folders = Set(children.filter(\.isDirectory).map(\.name))
                guard folders.contains("metrics") || folders.contains("params") else { continue }
                let run = try readRun(runFD, folders: folders, path: runPath, budget: &budget)
                if !run.metrics.isEmpty || !run.params.isEmpty { runs.append(run) }
            }
        }
        let tagged = runs.filter { $0.tags[Self.taskTag] != nil }
        let mine = tagged.isEmpty ? runs : tagged.filter { $0.tags[Self.taskTag] == String(task) }
        guard mine.count <= 1 else {
            throw MetricsError(
                .malformedFile,
                "the job logged \(mine.count) MLflow runs (\(mine.map(\.path).sorted().joined(separator: ", "))); "
                    + "ReproGrid reads one run per task")
        }
        return mine.first
    }

    private func readRun(_ run: Int32, folders: Set<String>, path: String, budget: inout Int) throws(MetricsError) -> Run {
        var metrics: [String: Double] = [:]
        var params: [String: String] = [:]
        var tags: [String: String] = [:]
        if folders.contains("metrics") {
            let folder = try openDirectory("metrics", in: run, path: "\(path)/metrics")
            defer { close(folder) }
            for entry in try entries(of: folder, path: "\(path)/metrics") {
                let file = "\(path)/metrics/\(entry.name)"
                // MLflow stores a name with "/" as nested folders; such names are not metric names here.
                guard !entry.isDirectory, MetricName.isValid(entry.name) else {
                    throw MetricsError(
                        .invalidName,
                        "\(file): \(entry.name.debugDescription) is not a valid metric name (\(MetricsParser.nameRule))")
                }
                let data = try readFile(entry.name, in: folder, path: file, limit: maximumMetricFileBytes, budget: &budget)
                if let value = try Self.lastValueAtHighestStep(data, path: file) { metrics[entry.name] = value }
            }
            guard metrics.count <= MetricsParser.maximumMetricCount else {
                throw MetricsError(
                    .tooManyMetrics,
                    "\(path): \(metrics.count) MLflow metrics, more than the \(MetricsParser.maximumMetricCount) a run may report")
            }
        }
        for (kind, limit) in [("params", maximumParams), ("tags", maximumEntries)] where folders.contains(kind) {
            let folder = try openDirectory(kind, in: run, path: "\(path)/\(kind)")
            defer { close(folder) }
            var values: [String: String] = [:]
            for entry in try entries(of: folder, path: "\(path)/\(kind)") where !entry.isDirectory {
                let file = "\(path)/\(kind)/\(entry.name)"
                let data = try readFile(entry.name, in: folder, path: file, limit: maximumValueBytes, budget: &budget)
                guard let text = String(data: data, encoding: .utf8) else {
                    throw MetricsError(.malformedFile, "\(file): not UTF-8 text")
                }
                values[entry.name] = text
            }
            guard values.count <= limit else {
                throw MetricsError(.malformedFile, "\(path)/\(kind): \(values.count) entries, more than the \(limit) allowed")
            }
            if kind == "params" { params = values } else { tags = values }
        }
        return Run(path: path, metrics: metrics, params: params, tags: tags)
    }

    /// The value at the highest step of a metric file, the last logged at that step; nil for an empty file.
    static func lastValueAtHighestStep(_ data: Data, path: String) throws(MetricsError) -> Double? {
        var best: (step: Int64, value: Double)?
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard !line.isEmpty else { continue }
            let fields = String(decoding: line, as: UTF8.self).split(separator: " ")
            // "timestamp value step"; stores written by MLflow before 1.0 have no step (step 0).
            guard fields.count == 2 || fields.count == 3, Int64(fields[0]) != nil else {
                throw MetricsError(.malformedFile, "\(path) line \(lineNumber): not \"timestamp value step\"")
            }
            let step = fields.count == 3 ? Int64(fields[2]) : 0
            guard let step else {
                throw MetricsError(.malformedFile, "\(path) line \(lineNumber): the step is not an integer")
            }
            let value: Double
            switch NumberText.parse(fields[1]) {
            case .finite(let number): value = number
            case .nonFinite:
                throw MetricsError(.invalidValue, "\(path) line \(lineNumber): the value is not a finite number")
            case .notANumber:
                throw MetricsError(.malformedFile, "\(path) line \(lineNumber): the value is not a number")
            }
            if best == nil || step >= best!.step { best = (step, value) }
        }
        return best?.value
    }

    // MARK: Reading without following links

    struct Entry {
        var name: String
        var isDirectory: Bool
    }

    private func openDirectory(_ name: String, in parent: Int32, path: String) throws(MetricsError) -> Int32 {
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            // With O_DIRECTORY a link fails as "not a directory"; say what it really is.
            var info = stat()
            if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFLNK {
                throw MetricsError(.unreadableFile, "\(path): cannot be read: it is a symbolic link")
            }
            throw MetricsError(.unreadableFile, "\(path): cannot be read: \(Self.reason(code))")
        }
        return fd
    }

    /// The directory's entries, each classified without following it; a link, device or pipe is refused.
    private func entries(of directory: Int32, path: String) throws(MetricsError) -> [Entry] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw MetricsError(.unreadableFile, "\(path): cannot be listed: \(Self.reason(errno))")
        }
        defer { closedir(stream) }
        var result: [Entry] = []
        while let raw = readdir(stream) {
            let name = withUnsafePointer(to: &raw.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            guard result.count < maximumEntries else {
                throw MetricsError(.malformedFile, "\(path): more than \(maximumEntries) entries")
            }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw MetricsError(.unreadableFile, "\(path)/\(name): cannot be read: \(Self.reason(errno))")
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: result.append(Entry(name: name, isDirectory: true))
            case S_IFREG: result.append(Entry(name: name, isDirectory: false))
            case S_IFLNK: throw MetricsError(.unreadableFile, "\(path)/\(name): cannot be read: it is a symbolic link")
            default: throw MetricsError(.unreadableFile, "\(path)/\(name): cannot be read: not a regular file or folder")
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    private func readFile(_ name: String, in directory: Int32, path: String, limit: Int, budget: inout Int)
        throws(MetricsError) -> Data
    {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw MetricsError(.unreadableFile, "\(path): cannot be read: \(Self.reason(errno))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw MetricsError(.unreadableFile, "\(path): cannot be read: it is not a regular file")
        }
        guard info.st_size <= limit, Int(info.st_size) <= budget else {
            throw MetricsError(.unreadableFile, "\(path): \(info.st_size) bytes, more than the \(min(limit, budget)) allowed")
        }
        // Read at most one byte past the size seen: a file that grows meanwhile is caught, not read on.
        let capacity = Int(info.st_size) + 1
        var data = Data(count: capacity)
        var filled = 0
        while filled < capacity {
            let count = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, capacity - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw MetricsError(.unreadableFile, "\(path): cannot be read: \(Self.reason(errno))")
            }
            if count == 0 { break }
            filled += count
        }
        guard filled <= Int(info.st_size) else {
            throw MetricsError(.unreadableFile, "\(path): changed while it was read")
        }
        budget -= filled
        return data.prefix(filled)
    }

    private static func reason(_ code: Int32) -> String {
        code == ELOOP ? "it is a symbolic link" : String(cString: strerror(code))
    }
}

extension MLflowStore {
    /// The run's metrics: those reported through `metrics.json`/`REPRO_METRIC` lines and those logged
    /// with MLflow, together. A metric both give must agree (to 1e-9 relative: MLflow writes Python's
    /// shortest repr, a script may round in its JSON); otherwise the run fails naming both sources.
    public static func combine(reported: Result<[String: Double], MetricsError>, mlflow: Run?) throws(MetricsError)
        -> [String: Double]
    {
        let logged = mlflow?.metrics ?? [:]
        let direct: [String: Double]
        switch reported {
        case .success(let metrics): direct = metrics
        case .failure(let error) where error.code == .noMetrics && !logged.isEmpty: direct = [:]
        case .failure(let error): throw error
        }
        for name in Set(direct.keys).intersection(logged.keys).sorted() {
            let a = direct[name]!
            let b = logged[name]!
            if abs(a - b) > 1e-9 * max(abs(a), abs(b)) {
                throw MetricsError(
                    .conflictingValues,
                    "metric \(name.debugDescription) has two values: \(a) from \(MetricsParser.fileName) or a "
                        + "\(MetricsParser.linePrefix) line, and \(b) from MLflow (\(mlflow!.path)/metrics/\(name)); "
                        + "report it one way, or the same value both ways")
            }
        }
        let merged = direct.merging(logged) { fromDirect, _ in fromDirect }
        guard merged.count <= MetricsParser.maximumMetricCount else {
            throw MetricsError(
                .tooManyMetrics,
                "too many metrics: \(merged.count) distinct names with MLflow's, more than the "
                    + "\(MetricsParser.maximumMetricCount) a run may report")
        }
        return merged
    }
}
