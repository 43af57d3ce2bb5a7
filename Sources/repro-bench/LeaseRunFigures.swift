/// The figures of one HTTP run, printed as the lines BENCHMARKS.md quotes.
struct LeaseRunFigures: Sendable {
    let workers: Int
    let tasks: Int
    let batch: Int
    let elapsed: Duration
    /// `xact_commit` delta of the benchmark database over the run.
    let commits: Int64
    let lease: LatencyDistribution
    let result: LatencyDistribution
    let emptyLeases: Int

    /// Several rounds as one run: tasks, time and commits add up, latencies form one distribution.
    static func merging(_ rounds: [LeaseRunFigures]) -> LeaseRunFigures {
        LeaseRunFigures(
            workers: rounds[0].workers, tasks: rounds.map(\.tasks).reduce(0, +), batch: rounds[0].batch,
            elapsed: rounds.map(\.elapsed).reduce(.zero, +), commits: rounds.map(\.commits).reduce(0, +),
            lease: LatencyDistribution(merging: rounds.map(\.lease)),
            result: LatencyDistribution(merging: rounds.map(\.result)),
            emptyLeases: rounds.map(\.emptyLeases).reduce(0, +))
    }

    var tasksPerSecond: Double { Double(tasks) / elapsed.seconds }
    var commitsPerTask: Double { Double(commits) / Double(tasks) }

    func print() {
        Swift.print("tasks/s:            \(Format.fixed(tasksPerSecond, 0)) (\(tasks) tasks in \(Format.fixed(elapsed.seconds, 2)) s)")
        Swift.print("lease latency:      \(lease.summary)")
        Swift.print("result latency:     \(result.summary)")
        Swift.print("empty lease polls:  \(emptyLeases)")
        Swift.print("commits/task:       \(Format.fixed(commitsPerTask, 3)) (\(commits) commits)")
    }

    func printComparison(with pgbench: PgbenchBaseline.Figures, batch: Int) {
        Swift.print(
            "pgbench lease:      \(Format.fixed(pgbench.transactionsPerSecond, 0)) statements/s, "
                + "\(Format.fixed(pgbench.tasksPerSecond, 0)) tasks/s (-c \(pgbench.clients), \(pgbench.seconds) s, "
                + "batch \(batch), avg latency \(pgbench.averageLatencyMilliseconds.map { Format.fixed($0, 2) } ?? "?") ms)")
        Swift.print(
            "ours / pgbench:     \(Format.fixed(tasksPerSecond / pgbench.tasksPerSecond, 3)) of its tasks/s, "
                + "\(Format.fixed(tasksPerSecond / pgbench.transactionsPerSecond, 3)) of its statements/s")
    }
}
