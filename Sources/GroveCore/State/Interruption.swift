import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether a process still exists, to tell a run that goes on from one whose grove died.
public enum ProcessLiveness {
    /// True when `pid` names a live process (one we may not signal counts as alive).
    /// A pid reused by an unrelated process reads as alive: the run then stays `running` until
    /// that process ends; never the other way round, so a live run is never marked interrupted.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }
}

extension StateStore {
    /// Marks as `interrupted` every `running` run whose grove process is gone (SIGKILL, crash,
    /// power loss), so `grove status` tells the truth. Returns the numbers it marked.
    ///
    /// Choices: the run's end is its last sign of life (the latest timestamp it recorded), not
    /// the moment this is noticed, so wall time and speedup stay meaningful. Its tasks that had
    /// not reached a final state become `cancelled` with a reason naming the dead pid; they keep
    /// their `pid`/`pgid`, so a later cleanup can end processes a task left behind. Worktrees and
    /// branches are not touched (a cancelled task's worktree is kept as it is).
    @discardableResult
    public func markInterrupted(
        isAlive: (Int32) -> Bool = ProcessLiveness.isAlive
    ) throws -> [Int] {
        let candidates = try pool.read { db in
            try RunRecord.filter(RunRecord.Columns.state == RunState.running).fetchAll(db)
        }
        let dead = candidates.filter { !isAlive($0.pid) }.map(\.number)
        guard !dead.isEmpty else { return [] }
        return try pool.write { db in
            var marked: [Int] = []
            for number in dead {
                // Re-read inside the write: the run may have finished since the check above.
                guard var run = try RunRecord.fetchOne(db, key: number), run.state == .running else { continue }
                var tasks = try TaskRecord.filter(TaskRecord.Columns.run == number).fetchAll(db)
                let lastSign =
                    tasks.flatMap { [$0.queuedAt, $0.startedAt, $0.finishedAt].compactMap { $0 } }.max()
                    .map { max($0, run.startedAt) } ?? run.startedAt
                for index in tasks.indices where !tasks[index].state.isFinal {
                    let before = tasks[index]
                    tasks[index].finish(
                        .cancelled, at: max(lastSign, before.startedAt ?? lastSign),
                        reason: "grove (pid \(run.pid)) ended before the task finished")
                    try tasks[index].updateChanges(db, from: before)
                }
                run.state = .interrupted
                run.finishedAt = lastSign
                run.wallSeconds = max(0, lastSign.timeIntervalSince(run.startedAt))
                try run.update(db)
                marked.append(number)
            }
            return marked
        }
    }
}
