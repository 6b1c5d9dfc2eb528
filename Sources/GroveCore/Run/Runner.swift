import Foundation
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
    private let storeFailure = Mutex<(any Error)?>(nil)
    /// The control of the run being executed, so a state-database failure can stop it.
    private let activeControl = Mutex<RunControl?>(nil)

    init(plan: Plan, store: StateStore, home: GroveHome, record: RunRecord) {
        self.plan = plan
        self.store = store
        self.home = home
        self.record = record
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
                        TaskRecord(
                            run: run.number, name: task.name, position: position, repo: task.repository,
                            base: task.base, branch: task.branch, worktree: task.worktree, command: task.argv,
                            instructions: task.instructions.isEmpty ? nil : task.instructions,
                            log: home.log(run: run.number, task: task.name), baseCommit: task.baseCommit?.hex,
                            source: task.source?.display, queuedAt: run.startedAt)
                    }
                }
                try FileManager.default.createDirectory(
                    atPath: home.logDirectory(run: number), withIntermediateDirectories: true)
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
        var started = RunEvent(.runStarted, run: plan.run, time: record.startedAt)
        started.tasks = plan.tasks.map(\.name)
        started.jobs = plan.jobs
        observer.handle(started)
        activeControl.withLock { $0 = control }
        let run = plan.run
        control.listen { stop, killing in
            var event = RunEvent(.runStopping, run: run)
            event.reason = Self.stopping(stop, killing: killing)
            observer.handle(event)
        }

        // URL repositories are cloned or fetched alongside: a task waits for its own only.
        let sources = SourceSync(plan: plan, cache: RepositoryCache(home: home))
        let syncing = Task {
            await sources.run(jobs: plan.cloneJobs, run: plan.run, control: control, observer: observer)
        }
        let slots = SlotPool(count: plan.jobs)
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            var next = 0
            while next < plan.tasks.count, !control.isStopping {
                if running == plan.jobs {
                    await group.next()
                    running -= 1
                    continue
                }
                let task = plan.tasks[next]
                next += 1
                running += 1
                let slot = slots.take()
                // Recorded here, not in the child, so tasks enter `preparing` strictly in plan order.
                save { try store.updateTask(run: plan.run, name: task.name) { $0.prepare() } }
                observer.handle(RunEvent(.taskPreparing, run: plan.run, task: task.name))
                group.addTask {
                    if let ready = await self.fetchSource(of: task, from: sources, control: control, observer: observer)
                    {
                        await self.perform(ready, slot: slot, control: control, observer: observer)
                    }
                    slots.give(back: slot)
                }
            }
            await group.waitForAll()
            for task in plan.tasks[next...] {
                finish(task, .cancelled, reason: Self.notStarted(control.stop), observer: observer)
            }
        }
        await syncing.value

        let runState: RunState =
            switch control.stop {
            case .interrupted, .stateFailure: .interrupted
            case .failFast, nil: .finished
            }
        save { _ = try store.setRunState(plan.run, runState) }
        if let failure = storeFailure.withLock({ $0 }) { throw failure }
        let report = try store.statusReport(run: plan.run)
        var finished = RunEvent(.runFinished, run: plan.run)
        finished.state = runState.rawValue
        finished.wallSeconds = report.wallSeconds
        finished.taskSeconds = report.taskSeconds
        finished.speedup = report.speedup
        observer.handle(finished)
        return report
    }

    // MARK: One task

    /// For a task of a URL repository: waits until the run has cloned or fetched it, then gives
    /// the task its base (the remote's branch as fetched now) and records both. Returns nil when
    /// the task ended here (its repository could not be synced, its base does not exist, or the
    /// run is stopping). Other tasks come back unchanged.
    private func fetchSource(
        of task: PlannedTask, from sources: SourceSync, control: RunControl, observer: any RunObserver
    ) async -> PlannedTask? {
        guard let source = task.source else { return task }
        let outcome = await sources.outcome(of: source.cachePath)
        if control.isStopping {
            finish(task, .cancelled, reason: Self.notStarted(control.stop), observer: observer)
            return nil
        }
        let synced: RepositoryCache.Synced
        switch outcome {
        case .failed(let reason):
            save { try store.updateTask(run: plan.run, name: task.name) { $0.sourceSync = "failed" } }
            finish(task, .failed, reason: reason, observer: observer, control: control)
            return nil
        case .ready(let ready): synced = ready
        }
        var resolved = task
        do {
            let requested = task.base.isEmpty ? nil : task.base
            let base = try await Blocking.run {
                try RepositoryCache.resolveBase(requested, in: synced, display: source.display)
            }
            resolved.base = base.name
            resolved.baseCommit = base.commit
        } catch {
            save { try store.updateTask(run: plan.run, name: task.name) { $0.sourceSync = synced.action.rawValue } }
            finish(task, .failed, reason: source.scrub(Self.describe(error)), observer: observer, control: control)
            return nil
        }
        save {
            try store.updateTask(run: plan.run, name: task.name) { record in
                record.sourceSync = synced.action.rawValue
                record.base = resolved.base
                record.baseCommit = resolved.baseCommit?.hex
                record.command = resolved.argv
            }
        }
        return resolved
    }

    /// Prepares the worktree (the task is already `preparing`), runs `setup:` then the command, and concludes; every way out
    /// ends in `finish`, so the task always reaches a final state.
    private func perform(_ task: PlannedTask, slot: Int, control: RunControl, observer: any RunObserver) async {
        do {
            try await Blocking.run { try Workspace.prepare(task) }
        } catch {
            return finish(
                task, .failed, reason: "could not make its branch and worktree: \(Self.describe(error))",
                observer: observer, control: control)
        }

        let clock = ContinuousClock()
        let deadline = task.timeout.map { clock.now.advanced(by: $0) }
        let log = logPath(of: task.name)
        if let setup = task.setup {
            guard !control.isStopping else {
                return finish(task, .cancelled, reason: Self.notStarted(control.stop), observer: observer)
            }
            Self.appendLine("[grove] setup: \(Self.display(setup, task))", to: log)
            let outcome: ProcessOutcome
            do {
                outcome = try await runProcess(setup, of: task, slot: slot, until: deadline, control: control)
            } catch {
                return finish(
                    task, .failed, reason: "setup could not start: \(Self.describe(error))", observer: observer,
                    control: control)
            }
            guard outcome.taskState == .succeeded else {
                return finish(
                    task, outcome.taskState, exitCode: outcome.exitCode, signal: outcome.signal,
                    reason: "setup \(Self.ending(outcome, stop: control.stop))", observer: observer, control: control)
            }
            Self.appendLine("[grove] command: \(Self.display(task.command, task))", to: log)
        }
        guard !control.isStopping else {
            return finish(task, .cancelled, reason: Self.notStarted(control.stop), observer: observer)
        }

        let outcome: ProcessOutcome
        do {
            outcome = try await runProcess(task.command, of: task, slot: slot, until: deadline, control: control) {
                pid in
                self.save {
                    try self.store.updateTask(run: self.plan.run, name: task.name) {
                        $0.start(slot: slot, pid: pid, pgid: pid)
                    }
                }
                var event = RunEvent(.taskStarted, run: self.plan.run, task: task.name)
                event.slot = slot
                event.pid = pid
                event.log = log
                observer.handle(event)
            }
        } catch {
            return finish(
                task, .failed, reason: "the command could not start: \(Self.describe(error))", observer: observer,
                control: control)
        }

        var state = outcome.taskState
        var reason: String? =
            switch state {
            case .timedOut: "ran past its timeout of \(Self.seconds(task.timeout))"
            case .cancelled: Self.stopped(control.stop)
            default: nil
            }
        let conclusion: Workspace.Conclusion?
        do {
            let commit = state == .succeeded
            let run = plan.run
            conclusion = try await Blocking.run { try Workspace.conclude(task, run: run, commitLeftovers: commit) }
            if state == .succeeded, let failure = conclusion?.failure {
                state = .failed
                reason = failure
            }
        } catch {
            conclusion = nil
            if state == .succeeded {
                state = .failed
                reason = "could not commit what it left: \(Self.describe(error))"
            }
        }
        finish(
            task, state, exitCode: outcome.exitCode, signal: outcome.signal, reason: reason,
            conclusion: conclusion, observer: observer, control: control)
    }

    /// Runs one process of a task (setup or command) in its worktree, as its own group, with
    /// the task's environment and what is left of its time.
    private func runProcess(
        _ command: TaskCommand, of task: PlannedTask, slot: Int, until deadline: ContinuousClock.Instant?,
        control: RunControl, onStart: @escaping @Sendable (pid_t) -> Void = { _ in }
    ) async throws -> ProcessOutcome {
        let processCommand: ProcessSpec.Command =
            switch command {
            case .shell(let script): .shell(script)
            case .arguments: .argv(command.argv(task.commandValues))
            }
        let spec = ProcessSpec(
            command: processCommand, workingDirectory: task.worktree,
            environment: TaskEnvironment.variables(for: task, run: plan.run, slot: slot),
            unsetEnvironment: TaskEnvironment.removed, logFile: logPath(of: task.name),
            timeout: deadline.map { max(.milliseconds(1), $0 - ContinuousClock().now) })
        let handle = control.handle(for: task.name)
        defer { control.release(task.name) }
        return try await TaskProcess.run(spec, handle: handle, onStart: onStart)
    }

    /// Stores a task's final state (with what its branch holds, when known) and reports it;
    /// with `--fail-fast`, a failure stops the other tasks.
    private func finish(
        _ task: PlannedTask, _ state: TaskState, exitCode: Int32? = nil, signal: Int32? = nil, reason: String?,
        conclusion: Workspace.Conclusion? = nil, observer: any RunObserver, control: RunControl? = nil
    ) {
        var stored: TaskRecord?
        save {
            stored = try store.updateTask(run: plan.run, name: task.name) { record in
                record.finish(state, exitCode: exitCode, signal: signal, reason: reason)
                if let conclusion {
                    record.headCommit = conclusion.head?.hex
                    record.commits = conclusion.commits
                    record.changedFiles = conclusion.changedFiles
                }
            }
        }
        var event = RunEvent(.taskFinished, run: plan.run, task: task.name)
        event.state = state.rawValue
        event.exitCode = exitCode
        event.signal = signal
        event.seconds = stored?.seconds.map { ($0 * 1000).rounded() / 1000 }
        event.commits = conclusion?.commits
        event.changedFiles = conclusion?.changedFiles
        event.reason = reason
        observer.handle(event)
        if plan.failFast, state == .failed || state == .timedOut, let control {
            control.failFast(after: task.name)
        }
    }

    /// Runs a state-database write; the first failure stops the run (a run whose state cannot
    /// be recorded must not go on unseen) and is thrown by `execute` at the end.
    private func save(_ write: () throws -> Void) {
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

    // MARK: Words

    private static func stopping(_ stop: RunControl.Stop, killing: Bool) -> String {
        if killing { return "interrupted again: killing the running tasks now" }
        switch stop {
        case .interrupted:
            return
                "interrupted: ending the running tasks (SIGTERM, then SIGKILL after 5 s); interrupt again to kill them now"
        case .failFast(let task):
            return "--fail-fast: \(task) failed; ending the other tasks"
        case .stateFailure:
            return "the state database could not be written; ending the running tasks"
        }
    }

    private static func notStarted(_ stop: RunControl.Stop?) -> String {
        "not started: " + cause(stop)
    }

    private static func stopped(_ stop: RunControl.Stop?) -> String {
        "stopped: " + cause(stop)
    }

    private static func cause(_ stop: RunControl.Stop?) -> String {
        switch stop {
        case .failFast(let task): "--fail-fast after \(task) failed"
        case .stateFailure: "the state database could not be written"
        case .interrupted, nil: "grove was interrupted"
        }
    }

    /// "exited 3", "was killed by signal 9", "ran past the task's timeout", "was stopped: …".
    private static func ending(_ outcome: ProcessOutcome, stop: RunControl.Stop?) -> String {
        switch (outcome.stopReason, outcome.termination) {
        case (.timedOut, _): "ran past the task's timeout"
        case (.cancelled, _): "was " + stopped(stop)
        case (nil, .exited(let code)): "exited \(code)"
        case (nil, .signaled(let signal)): "was killed by signal \(signal)"
        }
    }

    private static func seconds(_ duration: Duration?) -> String {
        guard let duration else { return "none" }
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%g s", value)
    }

    private static func display(_ command: TaskCommand, _ task: PlannedTask) -> String {
        switch command {
        case .shell(let script): script
        case .arguments: command.argv(task.commandValues).joined(separator: " ")
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
    }

    /// Writes one line of grove's own into a task's log (appending, like the task's output).
    private static func appendLine(_ line: String, to path: String) {
        guard let handle = FileHandle(forWritingAtPath: path) ?? createAndOpen(path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }

    private static func createAndOpen(_ path: String) -> FileHandle? {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)
    }
}

extension ProcessOutcome {
    /// The signal that ended the main process, if one did.
    var signal: Int32? {
        if case .signaled(let signal) = termination { return signal }
        return nil
    }
}

/// `GROVE_SLOT` values: the lowest free number in `0..<count`, so slots stay small and reusable (ports).
final class SlotPool: Sendable {
    private let free: Mutex<Set<Int>>

    init(count: Int) {
        free = Mutex(Set(0..<max(1, count)))
    }

    /// The lowest free slot. The scheduler never runs more than `count` tasks, so one is always free.
    func take() -> Int {
        free.withLock { free in
            let slot = free.min() ?? 0
            free.remove(slot)
            return slot
        }
    }

    func give(back slot: Int) {
        _ = free.withLock { $0.insert(slot) }
    }
}
