import Foundation
import GroveBasics
import GroveGit
import Synchronization

/// Carries out one planned run: at most `jobs` tasks at once, started in plan order, each
/// `queued → preparing → running → succeeded | failed | timed_out | cancelled`, every step
/// stored before it is reported, so `grove status` in another process sees what happens.
public final class Runner: Sendable {
    public let plan: Plan
    public let store: StateStore
    public let home: GroveHome
    /// The stored run (its number is `plan.run`).
    public let record: RunRecord
    /// The first state-database failure: it stops the run, and `execute` throws it at the end.
    let storeFailure = Mutex<(any Error)?>(nil)
    /// The control of the run being executed, so a state-database failure can stop it.
    let activeControl = Mutex<RunControl?>(nil)
    /// Final states and tips of the run's tasks, for `depends_on` and `--first`.
    let board: TaskBoard
    /// `grove retry`: the attempts each task made before this execution (empty for a new run).
    let earlier: [String: Int]
    /// How the tasks' processes are started: the runner only says what to run.
    let launcher: any TaskLauncher

    init(
        plan: Plan, store: StateStore, home: GroveHome, record: RunRecord, settled: [TaskRecord] = [],
        earlier: [String: Int] = [:], launcher: any TaskLauncher = LocalGroupLauncher()
    ) {
        self.earlier = earlier
        self.launcher = launcher
        self.plan = plan
        self.store = store
        self.home = home
        self.record = record
        board = TaskBoard(scheduled: plan.tasks, settled: settled)
    }

    /// Plans a run from `flags` and stores it with its tasks `queued`. Bad input throws
    /// `PlanError` before anything is created (not even the grove home).
    public static func start(
        flags: RunFlags, home: GroveHome, currentDirectory: String = FileManager.default.currentDirectoryPath,
        arguments: [String] = [], processorCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> Runner {
        // The number names branches and worktrees, so planning needs it before the run is stored;
        // if another grove takes it in between, plan again with the next one.
        var attempts = 0
        while true {
            let number = try StateStore.nextRunNumber(home: home)
            let plan = try PlanBuilder(
                run: number, home: home, currentDirectory: currentDirectory, processorCount: processorCount
            ).build(flags)
            let store = try StateStore(home: home)
            do {
                let record = try store.createRun(
                    expecting: number, jobs: plan.jobs, taskFile: plan.taskFile,
                    timeoutSeconds: commonTimeout(plan).map { Double($0.components.seconds) },
                    failFast: plan.failFast, arguments: arguments
                ) { run in
                    plan.tasks.enumerated().map { position, task in
                        var record = TaskRecord(
                            run: run.number, name: task.name, position: position, repo: task.repository,
                            base: task.base, branch: task.branch, worktree: task.worktree, command: task.argv,
                            instructions: task.instructions.isEmpty ? nil : task.instructions,
                            log: home.log(run: run.number, task: task.name), baseCommit: task.baseCommit?.hex,
                            source: task.source?.display, queuedAt: run.startedAt)
                        record.dependsOn = task.dependsOn
                        record.retries = task.retries
                        record.spec = TaskSpec(
                            command: task.command, setup: task.setup, environment: task.environment, copy: task.copy,
                            timeoutSeconds: task.timeout.map { Double($0.components.seconds) })
                        return record
                    }
                }
                try GroveHome.createPrivateDirectory(atPath: home.logDirectory(run: number))
                return Runner(plan: plan, store: store, home: home, record: record)
            } catch StateError.runNumberTaken(_) where attempts < 10 {
                attempts += 1
            }
        }
    }

    /// The timeout every task shares, if they share one (for the run's record).
    private static func commonTimeout(_ plan: Plan) -> Duration? {
        let timeouts = Set(plan.tasks.map(\.timeout))
        return timeouts.count == 1 ? timeouts.first ?? nil : nil
    }

    /// The log file of a task of this run.
    public func logPath(of task: String) -> String {
        home.log(run: plan.run, task: task)
    }

    /// Runs every task and returns the final status. A stop through `control` ends running
    /// tasks as groups and starts no new one; the run is then `interrupted` (Ctrl-C) or
    /// `finished` (`--fail-fast`). Throws only when the state database failed (the run is then
    /// stopped as on Ctrl-C first, so no task process outlives the call).
    public func execute(observer: any RunObserver, control: RunControl) async throws -> StatusReport {
        observer.handle(
            .runStarted(run: plan.run, tasks: plan.tasks.map(\.name), jobs: plan.jobs, time: record.startedAt))
        activeControl.withLock { $0 = control }
        let run = plan.run
        control.listen { stop, killing in
            observer.handle(.runStopping(run: run, reason: RunMessages.stopping(stop, killing: killing)))
        }

        // URL repositories are cloned or fetched alongside: a task waits for its own only.
        let sources = SourceSync(plan: plan, cache: RepositoryCache(home: home))
        let syncing = Task {
            await sources.run(jobs: plan.cloneJobs, run: plan.run, control: control, observer: observer)
        }
        let slots = SlotPool(count: plan.jobs)
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            // In plan order; a task whose dependencies have not all succeeded waits, and the
            // first ready one starts, so independent tasks run around a pipeline.
            var pending = plan.tasks
            while !control.isStopping {
                skipBlocked(&pending, observer: observer)
                if running < plan.jobs, let index = pending.firstIndex(where: board.isReady) {
                    let task = pending.remove(at: index)
                    running += 1
                    let slot = slots.take()
                    // Recorded here, not in the child, so tasks enter `preparing` in the order they start.
                    save { try store.updateTask(run: plan.run, name: task.name) { $0.prepare() } }
                    observer.handle(.taskPreparing(run: plan.run, task: task.name))
                    group.addTask {
                        if let ready = await self.fetchSource(
                            of: task, from: sources, control: control, observer: observer)
                        {
                            await self.perform(ready, slot: slot, control: control, observer: observer)
                        }
                        slots.give(back: slot)
                    }
                    continue
                }
                guard running > 0 else { break }
                await group.next()
                running -= 1
            }
            await group.waitForAll()
            for task in pending {
                finish(task, .cancelled, reason: RunMessages.notStarted(control.stop), observer: observer)
            }
        }
        await syncing.value

        let runState: RunState =
            switch control.stop {
            case .interrupted, .stateFailure: .interrupted
            case .failFast, .firstN, nil: .finished
            }
        save { _ = try store.setRunState(plan.run, runState) }
        if let failure = storeFailure.withLock({ $0 }) { throw failure }
        let report = try store.statusReport(run: plan.run)
        observer.handle(
            .runFinished(
                run: plan.run, state: runState, wallSeconds: report.wallSeconds, taskSeconds: report.taskSeconds,
                speedup: report.speedup))
        return report
    }

    /// Ends as `skipped` every pending task that can no longer start (a dependency did not
    /// succeed), repeating until none is left, so a failure skips a whole chain at once.
    private func skipBlocked(_ pending: inout [PlannedTask], observer: any RunObserver) {
        var changed = true
        while changed {
            changed = false
            for task in pending {
                guard let reason = board.blocker(of: task) else { continue }
                pending.removeAll { $0.name == task.name }
                finish(task, .skipped, reason: "not started: \(reason)", observer: observer)
                changed = true
            }
        }
    }

    /// A task with dependencies starts from their tip, or from an in-memory merge of their tips;
    /// nil and a reason when they conflict.
    static func startCommit(of task: PlannedTask, heads: [ObjectID], run: Int) throws -> (ObjectID?, String?) {
        let repository = try Repository.open(at: task.repository)
        let message = "grove: start of \(task.name) (run \(run)): merge of \(task.dependsOn.joined(separator: ", "))\n"
        switch try repository.mergeCommit(of: heads, message: message) {
        case .merged(let commit): return (commit, nil)
        case .conflicts(let paths):
            return (
                nil,
                "not started: its dependencies \(task.dependsOn.joined(separator: " and ")) conflict in"
                    + " \(summarize(paths)); make them agree or"
                    + " chain them (one depends on the other)"
            )
        }
    }

    /// Runs a state-database write; the first failure stops the run (a run whose state cannot
    /// be recorded must not go on unseen) and is thrown by `execute` at the end.
    func save(_ write: () throws -> Void) {
        do {
            try write()
        } catch {
            let first = storeFailure.withLock { failure in
                defer { if failure == nil { failure = error } }
                return failure == nil
            }
            if first { activeControl.withLock { $0 }?.stateFailed() }
        }
    }
}
