import Foundation

/// What quarantining or releasing workers does to runs, tasks and studies, decided in memory from the locked
/// rows; ``QuarantineRepository`` only reads, hands over, and writes the plan in a fixed number of statements.
///
/// Quarantine: every accepted run of the workers is excluded (kept, `accepted = false`, marked `quarantine`);
/// its task goes back to the queue for another worker, unless its study was cancelled; tasks the workers hold
/// (leased, or queued with their latest lease) lose the lease, so nothing they send later is accepted.
/// Release: each excluded run whose task has no accepted run meanwhile is accepted again and closes its task;
/// one whose task another worker already redid stays out, marked `superseded` (the redo is as good and is
/// already counted).
struct QuarantinePlan: Equatable {
    /// A task row as locked by the transaction.
    struct TaskRow: Sendable {
        var id: Int64
        var state: String
        var study: UUID
        var studyState: String
        /// Whether the task has an accepted run now (release only).
        var hasAcceptedRun: Bool = false
    }

    /// An accepted (quarantine) or excluded (release) run of the workers concerned.
    struct RunRow: Sendable {
        var id: Int64
        var task: Int64
    }

    private(set) var runsExcluded: [Int64] = []
    private(set) var runsRestored: [Int64] = []
    private(set) var runsSuperseded: [Int64] = []
    /// Tasks back to the queue, their lease cleared.
    private(set) var tasksRequeued: [Int64] = []
    /// Tasks closed by a restored run.
    private(set) var tasksSucceeded: [Int64] = []
    /// Open tasks to add back to each study (tasks that had succeeded and are queued again).
    private(set) var reopenedByStudy: [UUID: Int] = [:]
    /// Open tasks each study loses (queued or leased tasks closed by a restored run).
    private(set) var closedByStudy: [UUID: Int] = [:]

    /// Quarantine: `accepted` are the accepted runs of the workers, `held` the ids of tasks they hold a
    /// lease on (leased, or queued with their latest lease), `tasks` the locked rows of both.
    static func quarantine(tasks: [TaskRow], accepted: [RunRow], held: Set<Int64>) -> QuarantinePlan {
        var plan = QuarantinePlan()
        let byID = Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var requeue = Set<Int64>()
        for run in accepted.sorted(by: { $0.id < $1.id }) {
            plan.runsExcluded.append(run.id)
            guard let task = byID[run.task], task.studyState != "cancelled", task.state == "succeeded" else { continue }
            if requeue.insert(task.id).inserted { plan.reopenedByStudy[task.study, default: 0] += 1 }
        }
        for id in held {
            guard let task = byID[id], task.state == "leased" || task.state == "queued" else { continue }
            requeue.insert(id)
        }
        plan.tasksRequeued = requeue.sorted()
        return plan
    }

    /// Release: `excluded` are the runs of the released workers still marked `quarantine`, `tasks` their
    /// locked task rows.
    static func release(tasks: [TaskRow], excluded: [RunRow]) -> QuarantinePlan {
        var plan = QuarantinePlan()
        var byID = Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // The latest run of a task first: if a task has two excluded runs, the newer one comes back.
        for run in excluded.sorted(by: { $0.id > $1.id }) {
            guard var task = byID[run.task], !task.hasAcceptedRun else {
                plan.runsSuperseded.append(run.id)
                continue
            }
            plan.runsRestored.append(run.id)
            switch task.state {
            case "queued", "leased":
                plan.tasksSucceeded.append(task.id)
                if task.studyState == "running" { plan.closedByStudy[task.study, default: 0] += 1 }
            case "failed":
                plan.tasksSucceeded.append(task.id)
            default:
                break  // succeeded (a cancelled study's task, never requeued) or cancelled: state stays
            }
            task.hasAcceptedRun = true
            task.state = task.state == "cancelled" ? "cancelled" : "succeeded"
            byID[run.task] = task
        }
        plan.runsRestored.sort()
        plan.runsSuperseded.sort()
        plan.tasksSucceeded.sort()
        return plan
    }
}
