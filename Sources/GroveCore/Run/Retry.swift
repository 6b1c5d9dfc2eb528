import Foundation
import GroveGit

/// Bad input for `grove retry` (an unknown run or task, a task that succeeded, a run still going
/// on): reported before anything changes; the CLI exits 2.
public struct RetryInputError: Error, Sendable, Equatable, LocalizedError {
    public let message: String

    public var errorDescription: String? { message }
}

extension Runner {
    /// Prepares `grove retry`: the chosen tasks of run `number` (the latest when nil) — by
    /// default every one that did not succeed — go back to `queued` in the same run, each
    /// keeping what its last attempt left in `refs/grove/attempts/<run>/<task>/<n>` and its log
    /// as `<task>.<n>.log`. Returns nil when there is nothing to retry (every task succeeded).
    public static func retry(
        run number: Int?, tasks names: [String], home: GroveHome, jobs: Int? = nil
    ) throws -> Runner? {
        guard let store = try StateStore.existing(home: home) else {
            throw RetryInputError(message: "no runs yet in \(home.path); start one with `grove run`")
        }
        _ = try? store.markInterrupted()
        let (run, records) = try store.runWithTasks(number: number)
        if run.state == .running {
            throw RetryInputError(
                message: "run \(run.number) is still going on (grove pid \(run.pid)); wait for it to end, then retry")
        }
        let chosen = try choose(names, from: records, run: run.number)
        guard !chosen.isEmpty else { return nil }

        // What each task's last attempt left is saved before anything is reset.
        var tasks: [PlannedTask] = []
        for record in chosen {
            guard let spec = record.spec else {
                throw RetryInputError(
                    message: "task \(record.name) of run \(run.number) was run by an older grove that did not"
                        + " record how to run it again; start a new run instead")
            }
            let task = PlannedTask(
                name: record.name, repository: record.repo, source: nil, base: record.base,
                baseCommit: record.baseCommit.flatMap(ObjectID.init(hex:)), branch: record.branch,
                worktree: record.worktree, command: spec.command, setup: spec.setup, copy: spec.copy,
                environment: spec.environment, timeout: spec.timeoutSeconds.map { .seconds($0) },
                instructions: record.instructions ?? "", dependsOn: record.dependsOn, retries: record.retries)
            // The run's grove is gone: lock files it (or a task's git it ended) held are stale.
            if let repository = try? Repository.open(at: task.repository) {
                Workspace.removeStaleLocks(of: task, in: repository)
            }
            if record.attempts > 0 {
                let ending = Attempts.Ending(
                    state: record.state, exitCode: record.exitCode, signal: record.signal, reason: record.reason,
                    startedAt: record.startedAt, finishedAt: record.finishedAt, seconds: record.seconds)
                let kept = try Attempts.keep(
                    task, run: run.number, number: record.attempts, log: record.log, ending: ending)
                _ = Attempts.archiveLog(record.log, number: record.attempts)
                try store.saveAttempt(kept)
            }
            tasks.append(task)
        }
        let reopened = try store.reopenRun(run.number, resetting: chosen.map(\.name))
        let plan = Plan(
            run: run.number, jobs: jobs ?? run.jobs, failFast: run.failFast, cloneJobs: 4, first: nil,
            taskFile: run.taskFile, tasks: tasks)
        let settled = records.filter { record in !chosen.contains { $0.name == record.name } }
        let earlier = Dictionary(uniqueKeysWithValues: chosen.map { ($0.name, $0.attempts) })
        return Runner(plan: plan, store: store, home: home, record: reopened, settled: settled, earlier: earlier)
    }

    /// The tasks to retry, in run order: the named ones (each must exist and not have
    /// succeeded), or every task that did not succeed.
    private static func choose(_ names: [String], from records: [TaskRecord], run: Int) throws -> [TaskRecord] {
        guard !names.isEmpty else { return records.filter { $0.state != .succeeded } }
        for name in names {
            guard let record = records.first(where: { $0.name == name }) else {
                throw RetryInputError(
                    message: "run \(run) has no task \"\(name)\""
                        + Suggestion.hint(for: name, in: records.map(\.name)))
            }
            if record.state == .succeeded {
                throw RetryInputError(message: "task \(name) of run \(run) succeeded; there is nothing to retry")
            }
        }
        return records.filter { names.contains($0.name) }
    }
}

extension Workspace {
    /// Makes a retried task's workspace ready at its start commit: its worktree reset when it is
    /// still there (what it held was saved first), else re-added — on its branch, moved back to
    /// the start — or made anew when the branch is gone too.
    ///
    /// The grove that ran the task before may have been killed while making its workspace
    /// (`ranBefore` false: no setup or command ever ran there): lock files it held are then
    /// stale, and a worktree directory git does not know as one is only its partial making;
    /// both are removed. A directory a command ran in is never deleted.
    static func prepareAgain(_ task: PlannedTask, ranBefore: Bool = true) throws {
        guard let start = task.baseCommit else { throw WorkspaceError.noBaseCommit }
        let repository = try Repository.open(at: task.repository)
        removeStaleLocks(of: task, in: repository)
        if FileManager.default.fileExists(atPath: task.worktree) {
            let halfMade = !ranBefore && (try? repository.worktree(atPath: task.worktree)) == nil
            if !halfMade {
                return try Attempts.reset(task)
            }
            try FileManager.default.removeItem(atPath: task.worktree)
        }
        guard let tip = try repository.branch(named: task.branch)?.target else {
            _ = try repository.pruneWorktrees()
            try prepare(task)
            return
        }
        // The worktree's entry may still be registered (its folder was deleted): let it go.
        _ = try repository.pruneWorktrees()
        if tip != start {
            try repository.updateReference(
                named: "refs/heads/\(task.branch)", to: start, expecting: tip,
                message: "grove: reset \(task.branch) for a retry")
        }
        try FileManager.default.createDirectory(
            atPath: (task.worktree as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try addWorktree(task, in: repository)
    }

    /// Deletes the lock files a killed grove — or a task's git command it ended — can leave on a
    /// task's own refs and worktree entry (`refs/heads/<branch>.lock`, the worktree's `index.lock`
    /// and `HEAD.lock`): git and libgit2 refuse to touch a locked file forever after. Only called
    /// for a run whose grove is gone; the rule is `StaleLocks`'s, under the repository's grove
    /// lock (while a merge holds it, the files may be its own: they are left).
    static func removeStaleLocks(of task: PlannedTask, in repository: Repository) {
        var locks = [repository.commonDirectory + "/refs/heads/\(task.branch).lock"]
        if let worktree = try? Repository.openWorkingTree(at: task.worktree) {
            locks += [worktree.gitDirectory + "/index.lock", worktree.gitDirectory + "/HEAD.lock"]
        }
        guard locks.contains(where: { FileManager.default.fileExists(atPath: $0) }),
            let held = try? RepositoryLock.acquire(
                commonDirectory: repository.commonDirectory, repository: task.repository)
        else { return }
        defer { held.release() }
        StaleLocks.remove(locks, commonDirectory: repository.commonDirectory)
    }
}
