import Foundation
import GroveBasics
import GroveGit

/// One task of a run, from its repository's sync to its final state: the worktree, the attempts
/// (setup and command, through the launcher), retries, and the conclusion.
extension Runner {

    /// For a task of a URL repository: waits until the run has cloned or fetched it, then gives
    /// the task its base (the remote's branch as fetched now) and records both. Returns nil when
    /// the task ended here (its repository could not be synced, its base does not exist, or the
    /// run is stopping). Other tasks come back unchanged.
    func fetchSource(
        of task: PlannedTask, from sources: SourceSync, control: RunControl, observer: any RunObserver
    ) async -> PlannedTask? {
        guard let source = task.source else { return task }
        let outcome = await sources.outcome(of: source.cachePath)
        if control.isStopping {
            finish(task, .cancelled, reason: RunMessages.notStarted(control.stop), observer: observer)
            return nil
        }
        let synced: RepositoryCache.Synced
        switch outcome {
        case .failed(let reason):
            save { try store.updateTask(run: plan.run, name: task.name) { $0.sourceSync = .failed } }
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
            save { try store.updateTask(run: plan.run, name: task.name) { $0.sourceSync = synced.action.outcome } }
            finish(task, .failed, reason: source.scrub(describe(error)), observer: observer, control: control)
            return nil
        }
        save {
            try store.updateTask(run: plan.run, name: task.name) { record in
                record.sourceSync = synced.action.outcome
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
    func perform(_ task: PlannedTask, slot: Int, control: RunControl, observer: any RunObserver) async {
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
                    task, .failed, reason: "could not start from its dependencies: \(describe(error))",
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
                reason: "could not make its branch and worktree: \(describe(error))" + hint(for: error),
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
                ending.reason = [ending.reason, "not tried again: \(describe(error))"].compactMap { $0 }.joined(
                    separator: "; ")
                return await conclude(task, ending, snapshot: snapshot, control: control, observer: observer)
            }
            let archived = Attempts.archiveLog(log, number: attemptNumber)
            save { try store.saveAttempt(kept) }
            observer.handle(
                .taskRetrying(
                    run: plan.run, task: task.name, state: ending.state, exitCode: ending.exitCode,
                    signal: ending.signal, reason: ending.reason, attempt: attemptNumber + 1, log: archived))
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
                return AttemptEnding(state: .cancelled, reason: RunMessages.notStarted(control.stop), retryable: false)
            }
            TaskLog.appendLine("[grove] setup: \(RunMessages.display(setup, task))", to: log)
            let outcome: ProcessOutcome
            do {
                outcome = try await runProcess(
                    setup, as: .setup, of: task, slot: slot, until: deadline, control: control)
            } catch {
                return AttemptEnding(
                    state: .failed, reason: "setup could not start: \(describe(error))", retryable: false)
            }
            guard outcome.taskState == .succeeded else {
                return AttemptEnding(
                    state: outcome.taskState, exitCode: outcome.exitCode, signal: outcome.signal,
                    reason: "setup \(RunMessages.ending(outcome, stop: control.stop))",
                    retryable: outcome.taskState == .failed || outcome.taskState == .timedOut)
            }
            TaskLog.appendLine("[grove] command: \(RunMessages.display(task.command, task))", to: log)
        }
        guard !control.isStopping else {
            return AttemptEnding(state: .cancelled, reason: RunMessages.notStarted(control.stop), retryable: false)
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
                observer.handle(
                    .taskStarted(run: self.plan.run, task: task.name, slot: slot, pid: claim.processID, log: log))
            }
        } catch LaunchError.commandNotFound(let program) {
            // As a shell would: exit 127, and the reason names the program.
            return AttemptEnding(
                state: .failed, exitCode: 127,
                reason: "command not found: \(program) (exit 127); install it or give its full path",
                retryable: false)
        } catch {
            return AttemptEnding(
                state: .failed, reason: "the command could not start: \(describe(error))", retryable: false)
        }
        let state = outcome.taskState
        let reason: String? =
            switch state {
            case .timedOut: "ran past its timeout of \(RunMessages.seconds(task.timeout))"
            case .failed where outcome.exitCode == 127: "command not found (exit 127); the log has the shell's message"
            case .cancelled: RunMessages.stopped(control.stop)
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
                reason = "could not commit what it left: \(describe(error))"
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
    func finish(
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
        observer.handle(
            .taskFinished(
                run: plan.run, task: task.name, state: state, exitCode: exitCode, signal: signal,
                seconds: stored?.seconds.map { ($0 * 1000).rounded() / 1000 }, commits: conclusion?.commits,
                changedFiles: conclusion?.changedFiles, reason: reason))
        let succeeded = board.settle(task.name, state, head: conclusion?.head)
        if plan.failFast, state == .failed || state == .timedOut, let control {
            control.failFast(after: task.name)
        }
        if let first = plan.first, state == .succeeded, succeeded >= first, let control {
            control.firstReached(succeeded)
        }
    }

    /// What to do next when a worktree could not be made for a reason the user can fix.
    private func hint(for error: any Error) -> String {
        guard describe(error).contains("No space left on device") else { return "" }
        return "; free some space under \(home.worktrees), then"
            + " `grove retry \(plan.run)`"
    }
}

extension ProcessOutcome {
    /// The signal that ended the main process, if one did.
    var signal: Int32? {
        if case .signaled(let signal) = termination { return signal }
        return nil
    }
}
