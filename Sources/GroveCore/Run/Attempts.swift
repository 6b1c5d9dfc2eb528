import Foundation
import GroveGit

/// Trying a task again (`--retries`, `grove retry`) without losing anything: what the earlier
/// attempt left — its commits and its uncommitted changes — is saved to
/// `refs/grove/attempts/<run>/<task>/<n>`, its log moves to `<task>.<n>.log`, and only then is the
/// worktree put back on the task branch at the task's start commit.
enum Attempts {
    /// The ref that keeps attempt `number` of a task.
    static func reference(run: Int, task: String, number: Int) -> String {
        "refs/grove/attempts/\(run)/\(task)/\(number)"
    }

    /// What an attempt left, once saved.
    struct Saved: Sendable, Equatable {
        /// nil when the attempt left nothing beyond the start commit.
        var reference: String?
        var commit: ObjectID?
    }

    /// Saves what attempt `number` left: a snapshot commit of the worktree (on top of wherever
    /// its HEAD is, without moving any branch), or the task branch's tip when the worktree is gone.
    static func save(_ task: PlannedTask, run: Int, number: Int) throws -> Saved {
        let repository = try Repository.open(at: task.repository)
        var tip: ObjectID?
        if FileManager.default.fileExists(atPath: task.worktree),
            let worktree = try? Repository.openWorkingTree(at: task.worktree)
        {
            tip =
                try worktree.commitAll(
                    message: "grove: what attempt \(number) of \(task.name) (run \(run)) left uncommitted\n",
                    updatingHead: false) ?? worktree.headCommit()
        } else {
            tip = try repository.branch(named: task.branch)?.target
        }
        guard let tip, tip != task.baseCommit else { return Saved(reference: nil, commit: tip) }
        let name = reference(run: run, task: task.name, number: number)
        let existing = try repository.reference(named: name)?.target
        try repository.updateReference(
            named: name, to: tip, expecting: existing, message: "grove: attempt \(number) of \(task.name)")
        return Saved(reference: name, commit: tip)
    }

    /// How an attempt ended, as its record keeps it.
    struct Ending: Sendable {
        var state: TaskState
        var exitCode: Int32?
        var signal: Int32?
        var reason: String?
        var startedAt: Date?
        var finishedAt: Date?
        var seconds: Double?
    }

    /// Keeps attempt `number` of a task before it is tried again: saves what it left (`save`) and
    /// returns the record to store, naming the log where `archiveLog` moves it — which the caller
    /// does once the attempt is sure to be followed by another. The one way both an in-run retry
    /// and `grove retry` keep an attempt.
    static func keep(_ task: PlannedTask, run: Int, number: Int, log: String, ending: Ending) throws -> AttemptRecord {
        let saved = try save(task, run: run, number: number)
        return AttemptRecord(
            run: run, task: task.name, number: number, state: ending.state, exitCode: ending.exitCode,
            signal: ending.signal, reason: ending.reason, startedAt: ending.startedAt, finishedAt: ending.finishedAt,
            seconds: ending.seconds, log: archivedLog(log, number: number), savedRef: saved.reference,
            savedCommit: saved.commit?.hex)
    }

    /// Where attempt `number`'s log goes: `<task>.<number>.log`.
    static func archivedLog(_ log: String, number: Int) -> String {
        (log as NSString).deletingPathExtension + ".\(number).log"
    }

    /// Puts the task's worktree back on its branch at its start commit, with its `copy:` files
    /// copied in again, for the next attempt.
    static func reset(_ task: PlannedTask) throws {
        guard let start = task.baseCommit else { throw WorkspaceError.noBaseCommit }
        guard FileManager.default.fileExists(atPath: task.worktree) else {
            throw AttemptError.worktreeGone(task.worktree)
        }
        try Repository.openWorkingTree(at: task.worktree).resetWorktree(toBranch: task.branch, at: start)
        try Workspace.copyFiles(task, from: Repository.open(at: task.repository))
    }

    /// Moves the task's log aside as attempt `number`'s; returns its new path.
    static func archiveLog(_ log: String, number: Int) -> String {
        let archived = archivedLog(log, number: number)
        try? FileManager.default.removeItem(atPath: archived)
        if (try? FileManager.default.moveItem(atPath: log, toPath: archived)) == nil {
            GroveHome.createPrivateFile(atPath: archived)
        }
        return archived
    }
}

enum AttemptError: Error, LocalizedError, Equatable {
    case worktreeGone(String)

    var errorDescription: String? {
        switch self {
        case .worktreeGone(let path): return "its worktree \(path) is gone, so it cannot be tried again there"
        }
    }
}
