import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ReproCoordinator

// repro-bench-queries: loads 100 000 preprints and 1 000 000 feedback items into a fresh database on
// the cluster named by REPRO_PG_URL, serves the coordinator on a local port and measures
// `GET /v1/scores` (a filter, a page of 100) and `feedback/summary` of a preprint with 10 000 items
// over HTTP. Run by scripts/bench-queries.sh, which starts and stops a throwaway cluster.

let environment = ProcessInfo.processInfo.environment
func setting(_ name: String, _ fallback: Int) -> Int { environment[name].flatMap(Int.init) ?? fallback }
let preprints = setting("BENCH_PREPRINTS", 100_000)
let feedbackItems = setting("BENCH_FEEDBACK", 1_000_000)
let hotItems = setting("BENCH_HOT_ITEMS", 10_000)
let iterations = setting("BENCH_ITERATIONS", 500)
let port = setting("BENCH_PORT", 18_099)
guard let maintenanceText = environment["REPRO_PG_URL"] else {
    FileHandle.standardError.write(Data("REPRO_PG_URL is not set; run scripts/bench-queries.sh\n".utf8))
    exit(2)
}

var logger = Logger(label: "repro.bench.queries")
logger.logLevel = .warning
let maintenance = try DatabaseURL(maintenanceText)
let databaseName = "bench_queries_\(UInt32.random(in: 0 ... .max))"
var quiet = logger
// The admin client is used right after its run() task starts; PostgresNIO warns about that, harmlessly.
quiet.logLevel = .error
let admin = PostgresClient(configuration: try maintenance.configuration(), backgroundLogger: quiet)
let adminTask = Task { await admin.run() }
try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(databaseName)"), logger: quiet)
var url = maintenance
url.database = databaseName

let adminKey = "rg_bench_admin_key_0123456789abcdefghijklmnopqrstu"
let migrations = try MigrationsLocator.locate(nil)
let configuration = CoordinatorConfiguration(
    host: "127.0.0.1", port: port, database: .url(url.urlString), migrationsDirectory: migrations.path,
    adminKey: adminKey, maxConnections: 20)
let (app, services) = try await buildApplication(configuration: configuration, logger: logger)
let server = Task { try await app.runService() }

// The server applies the migrations before it listens; wait for it.
let http = HTTPClient.shared
func get(_ path: String) async throws -> (Int, ByteBuffer) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)" + path)
    request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
    let response = try await http.execute(request, timeout: .seconds(30))
    return (Int(response.status.code), try await response.body.collect(upTo: 64 << 20))
}
var ready = false
for _ in 0..<300 where !ready {
    ready = (try? await get("/readyz"))?.0 == 200
    if !ready { try await Task.sleep(for: .milliseconds(200)) }
}
guard ready else { fatalError("the coordinator did not become ready") }

print("loading \(preprints) preprints and \(feedbackItems) feedback items (\(hotItems) on \(BenchDataset.hotPreprint))")
try await BenchDataset(
    preprints: preprints, feedback: feedbackItems, hotItems: hotItems, client: services.client, logger: logger
).load()

@discardableResult
func measure(_ name: String, _ paths: [String], iterations: Int = iterations) async throws -> Latency {
    guard !paths.isEmpty else {
        print("\(name): skipped (no such pages at this size)")
        return Latency(name: name)
    }
    for path in paths.prefix(20) {
        let (status, body) = try await get(path)
        guard status == 200 else { fatalError("\(path) answered \(status): \(String(buffer: body))") }
    }
    var latency = Latency(name: name)
    let clock = ContinuousClock()
    for index in 0..<iterations {
        let path = paths[index % paths.count]
        let start = clock.now
        let (status, _) = try await get(path)
        latency.samples.append(clock.now - start)
        guard status == 200 else { fatalError("\(path) answered \(status)") }
    }
    print(latency.line)
    return latency
}

// Each request names one of 50 funders (about 2 000 preprints each), pages of 100.
let funderPaths = (0..<50).map { "/v1/scores?funder=Funder%20\($0)&limit=100" }
let fieldPaths = (0..<50).map { "/v1/scores?field=cs.CV&min_score=\($0)&sort=runs&limit=100" }
let institutionPaths = (0..<50).map { "/v1/scores?institution=Institution%20\($0 * 7)&sort=date&order=asc&limit=100" }
// Second pages: the cursor of each first page.
var secondPages: [String] = []
for path in funderPaths.prefix(20) {
    let (_, body) = try await get(path)
    let page = try JSONDecoder().decode([String: JSONCursor].self, from: Data(body.readableBytesView))
    if let cursor = page["next_cursor"]?.value { secondPages.append(path + "&cursor=" + cursor) }
}
let summaryPath = "/v1/preprints/\(BenchDataset.hotPreprint)/feedback/summary"

try await measure("GET /v1/scores?funder=…&limit=100 (score desc)", funderPaths)
try await measure("GET /v1/scores?field=cs.CV&min_score=…&sort=runs&limit=100", fieldPaths)
try await measure("GET /v1/scores?institution=…&sort=date&order=asc&limit=100", institutionPaths)
try await measure("GET /v1/scores?funder=…&limit=100&cursor=… (page 2)", secondPages)
try await measure("GET feedback/summary (\(hotItems) items)", [summaryPath])
try await measure("GET /v1/preprints/{id} (score + summary, \(hotItems) items)", ["/v1/preprints/\(BenchDataset.hotPreprint)"])

// The dashboard (issue 13): the funders' table as an HTML page (same filters, plus the histogram of
// the whole filtered set), a study page with 10 000 runs, and the public badge.
try await measure("GET /preprints?funder=…&limit=100 (HTML page + histogram)", (0..<50).map { "/preprints?funder=Funder%20\($0)&limit=100" })
let studyRuns = setting("BENCH_STUDY_RUNS", 10_000)
let study = try await DashboardBenchStudy.create(runs: studyRuns, services: services, logger: logger)
try await measure("GET /studies/{id} (\(studyRuns) runs, HTML page)", ["/studies/\(study)"], iterations: setting("BENCH_STUDY_ITERATIONS", 100))
try await measure(
    "GET /v1/preprints/{id}/badge.svg",
    (0..<50).map { "/v1/preprints/arXiv:2401.\(String(format: "%05d", $0 * 1_999 % preprints))/badge.svg" })

server.cancel()
_ = await server.result
try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)"), logger: logger)
adminTask.cancel()

/// `next_cursor` is a string or null; everything else in the page is ignored.
struct JSONCursor: Decodable {
    var value: String?
    init(from decoder: any Decoder) throws {
        value = try? decoder.singleValueContainer().decode(String.self)
    }
}
