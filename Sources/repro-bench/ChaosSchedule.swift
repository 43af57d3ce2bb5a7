/// The faults of a chaos run and when each strikes: interleaved by kind, evenly spread over the
/// study's progress, so every kind hits the start, the middle and the end of the run.
struct ChaosSchedule: Sendable {
    enum Fault: Sendable {
        case workers, coordinator, postgres

        var name: String {
            switch self {
            case .workers: "kill -9 of 2 workers"
            case .coordinator: "kill -9 of a coordinator"
            case .postgres: "pg_ctl restart -m immediate"
            }
        }
    }

    let faults: [Fault]

    init(workerKills: Int, coordinatorKills: Int, postgresRestarts: Int) {
        var faults: [Fault] = []
        for round in 0..<max(workerKills, coordinatorKills, postgresRestarts) {
            if round < workerKills { faults.append(.workers) }
            if round < postgresRestarts { faults.append(.postgres) }
            if round < coordinatorKills { faults.append(.coordinator) }
        }
        self.faults = faults
    }

    /// Succeeded tasks after which fault `index` strikes: fault k of n at (k+1)/(n+1) of the run.
    func threshold(of index: Int, tasks: Int) -> Int {
        tasks * (index + 1) / (faults.count + 1)
    }
}
