import Foundation
import GroveGit
import Subprocess
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
    /// Final states and tips of the run's tasks, for `depends_on` and `--first`.
    private let board: TaskBoard
    /// `grove retry`: the attempts each task made before this execution (empty for a new run).
    private let earlier: [String: Int]
    /// How the tasks' processes are started: the runner only says what to run.
    private let launcher: any TaskLauncher

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
                    observer.handle(RunEvent(.taskPreparing, run: plan.run, task: task.name))
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
                finish(task, .cancelled, reason: Self.notStarted(control.stop), observer: observer)
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
        var finished = RunEvent(.runFinished, run: plan.run)
        finished.state = runState.rawValue
        finished.wallSeconds = report.wallSeconds
        finished.taskSeconds = report.taskSeconds
        finished.speedup = report.speedup
        observer.handle(finished)
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
    private static func startCommit(of task: PlannedTask, heads: [ObjectID], run: Int) throws -> (ObjectID?, String?) {
        let repository = try Repository.open(at: task.repository)
        let message = "grove: start of \(task.name) (run \(run)): merge of \(task.dependsOn.joined(separator: ", "))\n"
        switch try repository.mergeCommit(of: heads, message: message) {
        case .merged(let commit): return (commit, nil)
        case .conflicts(let paths):
            return (
                nil,
                "not started: its dependencies \(task.dependsOn.joined(separator: " and ")) conflict in"
                    + " \(paths.prefix(5).joined(separator: ", "))\(paths.count > 5 ? ", …" : ""); make them agree or"
                    + " chain them (one depends on the other)"
            )
        }
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

    /// Prepares the worktree (the task is already `preparing`), then runs attempts — `setup:` and
    /// the command — until one succeeds or the task's retries are used up, and concludes; every
    /// way out ends in `finish`, so the task always reaches a final state.
    private func perform(_ task: PlannedTask, slot: Int, control: RunControl, observer: any RunObserver) async {
        var task = task
        if !task.dependsOn.isEmpty {
            let heads = board.dependencyHeads(of: task)
            let run = plan.run
            let planned = task
            do {
                let (start, problem) = try await Blocking.run {
                    try Self.startCommit(of: planned, heads: heads, run: run)
                }
                guard let start else {
                    return finish(task, .failed, reason: problem, observer: observer, control: control)
                }
                task.baseCommit = start
                save { try store.updateTask(run: plan.run, name: task.name) { $0.baseCommit = start.hex } }
            } catch {
                return finish(
                    task, .failed, reason: "could not start from its dependencies: \(Self.describe(error))",
                    observer: observer, control: control)
            }
        }
        let prepared = task
        let again = earlier[task.name]
        let snapshot: WorkingTreeSnapshot?
        do {
            snapshot = try await Blocking.run {
                if let again {
                    try Workspace.prepareAgain(prepared, ranBefore: again > 0)
                    return nil
                }
                return try Workspace.prepare(prepared)
            }
        } catch {
            return finish(
                task, .failed,
                reason: "could not make its branch and worktree: \(Self.describe(error))" + hint(for: error),
                observer: observer, control: control)
        }
        await attempt(
            task, slot: slot, control: control, observer: observer, earlier: earlier[task.name] ?? 0, snapshot: snapshot
        )
    }

    /// Runs the task's attempts in its prepared worktree; `earlier` attempts were made before
    /// (by an earlier execution: `grove retry`). `snapshot` is what its checkout wrote, if grove wrote it.
    private func attempt(
        _ task: PlannedTask, slot: Int, control: RunControl, observer: any RunObserver, earlier: Int = 0,
        snapshot: WorkingTreeSnapshot? = nil
    ) async {
        var snapshot = snapshot
        let log = logPath(of: task.name)
        var number = earlier
        while true {
            number += 1
            let attemptNumber = number
            let startedAt = Date()
            save { try store.updateTask(run: plan.run, name: task.name) { $0.attempts = attemptNumber } }
            let ending = await runAttempt(task, slot: slot, control: control, observer: observer)
            let retriesLeft = task.retries - (number - earlier - 1)
            guard ending.retryable, retriesLeft > 0, !control.isStopping else {
                return await conclude(task, ending, snapshot: snapshot, control: control, observer: observer)
            }
            // Try again: keep what this attempt left, then start over from the start commit.
            let run = plan.run
            let finishedAt = Date()
            let finished = Attempts.Ending(
                state: ending.state, exitCode: ending.exitCode, signal: ending.signal, reason: ending.reason,
                startedAt: startedAt, finishedAt: finishedAt, seconds: finishedAt.timeIntervalSince(startedAt))
            let kept: AttemptRecord
            do {
                kept = try await Blocking.run {
                    let kept = try Attempts.keep(task, run: run, number: attemptNumber, log: log, ending: finished)
                    try Attempts.reset(task)
                    return kept
                }
                snapshot = nil  // the reset rewrote the worktree
            } catch {
                var ending = ending
                ending.reason = [ending.reason, "not tried again: \(Self.describe(error))"].compactMap { $0 }.joined(
                    separator: "; ")
                return await conclude(task, ending, snapshot: snapshot, control: control, observer: observer)
            }
            let archived = Attempts.archiveLog(log, number: attemptNumber)
            save { try store.saveAttempt(kept) }
            var event = RunEvent(.taskRetrying, run: plan.run, task: task.name)
            event.state = ending.state.rawValue
            event.exitCode = ending.exitCode
            event.signal = ending.signal
            event.attempt = attemptNumber + 1
            event.reason = ending.reason
            event.log = archived
            observer.handle(event)
        }
    }

    /// How one attempt ended, before it is concluded.
    private struct AttemptEnding {
        var state: TaskState
        var exitCode: Int32?
        var signal: Int32?
        var reason: String?
        /// True when trying again might help: the command or setup failed or timed out.
        var retryable: Bool
    }

    /// Runs `setup:` (when there is one) and the command once.
    private func runAttempt(_ task: PlannedTask, slot: Int, control: RunControl, observer: any RunObserver) async
        -> AttemptEnding
    {
        let clock = ContinuousClock()
        let deadline = task.timeout.map { clock.now.advanced(by: $0) }
        let log = logPath(of: task.name)
        if let setup = task.setup {
            guard !control.isStopping else {
                return AttemptEnding(state: .cancelled, reason: Self.notStarted(control.stop), retryable: false)
            }
            Self.appendLine("[grove] setup: \(Self.display(setup, task))", to: log)
            let outcome: ProcessOutcome
            do {
                outcome = try await runProcess(
                    setup, as: .setup, of: task, slot: slot, until: deadline, control: control)
            } catch {
                return AttemptEnding(
                    state: .failed, reason: "setup could not start: \(Self.describe(error))", retryable: false)
            }
            guard outcome.taskState == .succeeded else {
                return AttemptEnding(
                    state: outcome.taskState, exitCode: outcome.exitCode, signal: outcome.signal,
                    reason: "setup \(Self.ending(outcome, stop: control.stop))",
                    retryable: outcome.taskState == .failed || outcome.taskState == .timedOut)
            }
            Self.appendLine("[grove] command: \(Self.display(task.command, task))", to: log)
        }
        guard !control.isStopping else {
            return AttemptEnding(state: .cancelled, reason: Self.notStarted(control.stop), retryable: false)
        }
        let outcome: ProcessOutcome
        do {
            outcome = try await runProcess(
                task.command, as: .command, of: task, slot: slot, until: deadline, control: control
            ) { claim in
                self.save {
                    try self.store.updateTask(run: self.plan.run, name: task.name) {
                        $0.start(slot: slot, claim: claim)
                    }
                }
                var event = RunEvent(.taskStarted, run: self.plan.run, task: task.name)
                event.slot = slot
                event.pid = claim.processID
                event.log = log
                observer.handle(event)
            }
        } catch  where (error as? SubprocessError)?.code == .executableNotFound {
            // As a shell would: exit 127, and the reason names the program.
            return AttemptEnding(
                state: .failed, exitCode: 127,
                reason: "command not found: \(task.argv.first ?? "") (exit 127); install it or give its full path",
                retryable: false)
        } catch {
            return AttemptEnding(
                state: .failed, reason: "the command could not start: \(Self.describe(error))", retryable: false)
        }
        let state = outcome.taskState
        let reason: String? =
            switch state {
            case .timedOut: "ran past its timeout of \(Self.seconds(task.timeout))"
            case .failed where outcome.exitCode == 127: "command not found (exit 127); the log has the shell's message"
            case .cancelled: Self.stopped(control.stop)
            default: nil
            }
        return AttemptEnding(
            state: state, exitCode: outcome.exitCode, signal: outcome.signal, reason: reason,
            retryable: state == .failed || state == .timedOut)
    }

    /// Inspects the worktree after the last attempt (committing a succeeded command's leftovers)
    /// and records the task's final state.
    private func conclude(
        _ task: PlannedTask, _ ending: AttemptEnding, snapshot: WorkingTreeSnapshot? = nil, control: RunControl,
        observer: any RunObserver
    ) async {
        var state = ending.state
        var reason = ending.reason
        let conclusion: Workspace.Conclusion?
        do {
            let commit = state == .succeeded
            let run = plan.run
            conclusion = try await Blocking.run {
                try Workspace.conclude(task, run: run, commitLeftovers: commit, snapshot: snapshot)
            }
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
            task, state, exitCode: ending.exitCode, signal: ending.signal, reason: reason, conclusion: conclusion,
            observer: observer, control: control)
    }

    /// Runs one process of a task (setup or command) in its worktree, through the launcher, with
    /// the task's environment and what is left of its time.
    private func runProcess(
        _ command: TaskCommand, as purpose: LaunchRequest.Purpose, of task: PlannedTask, slot: Int,
        until deadline: ContinuousClock.Instant?, control: RunControl,
        onStart: @escaping @Sendable (ProcessClaim) -> Void = { _ in }
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
        let request = LaunchRequest(spec, purpose: purpose, run: plan.run, task: task.name)
        return try await launcher.run(request, control: control, as: task.name, onStart: onStart)
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
        let succeeded = board.settle(task.name, state, head: conclusion?.head)
        if plan.failFast, state == .failed || state == .timedOut, let control {
            control.failFast(after: task.name)
        }
        if let first = plan.first, state == .succeeded, succeeded >= first, let control {
            control.firstReached(succeeded)
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
        case .firstN(let count):
            return "--first: \(count) task\(count == 1 ? "" : "s") succeeded; cancelling the others"
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
        case .firstN(let count): "first-n: \(count) task\(count == 1 ? "" : "s") already succeeded"
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

    /// What to do next when a worktree could not be made for a reason the user can fix.
    private func hint(for error: any Error) -> String {
        guard Self.describe(error).contains("No space left on device") else { return "" }
        return "; free some space under \(home.worktrees), then"
            + " `grove retry \(plan.run)`"
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
        GroveHome.createPrivateFile(atPath: path)
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
