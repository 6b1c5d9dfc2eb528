import Foundation
import GroveGit

/// One repository's merge queue: its tasks one at a time, each rebased in memory onto the
/// current base tip, optionally checked, landed by compare-and-swap, then cleaned up. Every
/// step is journaled before it acts (`MergeRecord.step`), and a queue starts by reconciling
/// what a merge that died left in the journal with the real refs.
///
/// One task's way is in `RepositoryQueue+Landing.swift`, the check in `+Check`, what a merge
/// that died left in `+Recovery`, and the words in `MergeMessages.swift`.
///
/// libgit2 work runs through `Blocking.run`, each call opening its own `Repository`: handles
/// never cross threads or an `await`.
final class RepositoryQueue: Sendable {
    let repo: String
    let run: RunRecord
    /// This repository's queued tasks, in the order they are to land.
    let tasks: [TaskRecord]
    /// With `--push`: each base and its remote.
    let pushes: [(base: String, remote: String)]
    let options: MergeOptions
    let store: StateStore
    let home: GroveHome
    let observer: any MergeObserver
    let control: RunControl
    /// Where landed tasks' worktrees go to be deleted in the background; nil: deleted in place.
    let trash: WorktreeTrash?
    /// How checks are started, and how a dead merge's check is ended.
    let launcher: any TaskLauncher

    init(
        repo: String, run: RunRecord, tasks: [TaskRecord], pushes: [(base: String, remote: String)] = [],
        options: MergeOptions, store: StateStore, home: GroveHome, observer: any MergeObserver, control: RunControl,
        trash: WorktreeTrash? = nil, launcher: any TaskLauncher = LocalGroupLauncher()
    ) {
        self.launcher = launcher
        self.repo = repo
        self.run = run
        self.tasks = tasks
        self.pushes = pushes
        self.options = options
        self.store = store
        self.home = home
        self.observer = observer
        self.control = control
        self.trash = trash
    }

    /// Runs the queue to its end (or its stop) and reports every task of it.
    func execute() async -> RepositoryMergeReport {
        var report = RepositoryMergeReport(repo: repo, source: tasks.first?.source)
        // Tasks of the run an earlier merge landed count as landed dependencies, in any queue.
        let landedEarlier = ((try? store.merges(run: run.number)) ?? [:]).values
            .filter { $0.step == .cleaned && $0.result == .landed }.map(\.task)
        var dependencies = DependencyResults(landed: landedEarlier)
        func add(_ outcome: TaskMergeOutcome, blockedBy blockage: DependencyResults.Blockage? = nil) {
            report.tasks.append(outcome)
            dependencies.record(outcome.task, outcome.result, blockedBy: blockage)
            observer.handle(.taskFinished(outcome, run: run.number, repo: repo))
        }
        var recovered: [String: TaskMergeOutcome] = [:]
        do {
            recovered = try await reconcile()
        } catch {
            report.stopped = MergeMessages.reconcileFailed(error)
        }
        var ordered = tasks
        if options.order == .planned && report.stopped == nil {
            do {
                let (repo, tasks, committer) = (self.repo, self.tasks, options.committer)
                let plan = try await Blocking.run {
                    try MergePlanner.plan(
                        repo: repo, tasks: tasks, order: .planned, committer: committer, simulate: false)
                }
                let byName = Dictionary(tasks.map { ($0.name, $0) }) { first, _ in first }
                ordered = plan.tasks.compactMap { byName[$0.task] }
            } catch {
                report.stopped = MergeMessages.planFailed(error)
            }
        }
        for task in ordered {
            // Landed (by recovery, or by an earlier merge) is reported as landed even after a stop.
            if let outcome = recovered[task.name] {
                add(outcome)
                continue
            }
            do {
                if let earlier = try store.merge(run: run.number, task: task.name), earlier.step == .cleaned,
                    earlier.result == .landed
                {
                    add(Self.outcome(of: earlier, earlier: true))
                    continue
                }
                if report.stopped != nil || control.isStopping {
                    add(outcome(task, .notReached))
                    continue
                }
                // A dependent whose dependency did not land is not tried: its branch is left as
                // it is, and the next `grove merge` tries it again.
                if let blockage = dependencies.blockage(of: task) {
                    add(
                        try park(newRecord(task, step: .parked), .blocked, reason: blockage.reason), blockedBy: blockage
                    )
                    continue
                }
                let outcome = try await process(task)
                add(outcome)
                if outcome.result == .conflict && options.onConflict == .stop {
                    report.stopped = MergeMessages.stoppedAtConflict(task.name)
                }
            } catch let stop as QueueStop {
                add(outcome(task, .notReached, reason: stop.message))
                report.stopped = stop.message
            } catch {
                let reason = MergeMessages.unexpected(error, repo: repo)
                add(outcome(task, .error, reason: reason))
                // An unexpected failure may have left the task half-way: stop here, so the next
                // `grove merge` reconciles it before anything else moves.
                if report.stopped == nil { report.stopped = MergeMessages.stoppedAfterError(task.name, reason: reason) }
            }
        }
        if let stopped = report.stopped {
            observer.handle(.queueStopped(run: run.number, repo: repo, reason: stopped))
        }
        // What landed is pushed even when the queue stopped later; not after Ctrl-C.
        if !control.isStopping {
            for push in pushes { report.pushes.append(await self.push(push.base, to: push.remote)) }
        }
        return report
    }

    /// Pushes one base (`refs/heads/<base>`, never forced: a remote that moved on is refused).
    private func push(_ base: String, to remote: String) async -> BasePush {
        let repo = self.repo
        var result = BasePush(base: base, remote: remote, outcome: .rejected, reason: nil)
        do {
            let reference = "refs/heads/\(base)"
            let pushed = try await Blocking.run {
                let repository = try Repository.open(at: repo)
                return try repository.push(
                    to: remote, refspecs: ["\(reference):\(reference)"],
                    credentials: .forRemote(remote, in: repository))
            }
            switch pushed.first?.outcome {
            case .pushed: result.outcome = .pushed
            case .upToDate: result.outcome = .upToDate
            case .rejected(let reason):
                let path = (try? Repository.open(at: repo).remoteURL(named: remote)) ?? nil
                result.reason = MergeMessages.pushRefused(
                    reason, base: base, remote: remote, remotePath: path, repo: repo)
            case nil: result.reason = MergeMessages.pushUnanswered(reference)
            }
        } catch {
            result.reason = MergeMessages.pushFailed(error, base: base, remote: remote, repo: repo)
        }
        observer.handle(.basePushed(result, run: run.number, repo: repo))
        return result
    }

    // MARK: Records

    func newRecord(_ task: TaskRecord, step: MergeStep) -> MergeRecord {
        MergeRecord(run: task.run, task: task.name, repo: repo, base: task.base, branch: task.branch, step: step)
    }

    /// Journals a task as parked with `result` (nothing of it moved) and returns its result line.
    func park(
        _ record: MergeRecord, _ result: MergeResult, reason: String?, conflicts: [String] = []
    ) throws -> TaskMergeOutcome {
        var record = record
        record.step = .parked
        record.result = result
        record.conflicts = conflicts
        record.reason = reason
        try store.saveMerge(record)
        return Self.outcome(of: record)
    }

    func outcome(_ task: TaskRecord, _ result: MergeResult, reason: String? = nil) -> TaskMergeOutcome {
        TaskMergeOutcome(task: task.name, base: task.base, branch: task.branch, result: result, reason: reason)
    }

    /// A journal row as a result line.
    static func outcome(of record: MergeRecord, earlier: Bool = false) -> TaskMergeOutcome {
        let landed = record.result == .landed
        return TaskMergeOutcome(
            task: record.task, base: record.base, branch: record.branch, result: record.result ?? .notReached,
            commit: landed ? record.candidate : nil, commits: landed ? record.commits : nil,
            conflicts: record.conflicts, reason: record.reason, checkLog: record.checkLog,
            checkCached: record.checkCached, earlier: earlier)
    }
}

/// The queue must stop before the current task lands; the message says why and what to do.
struct QueueStop: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Base moved between the rebase and the landing (compare-and-swap lost): prepare again.
struct BaseMoved: Error {}
