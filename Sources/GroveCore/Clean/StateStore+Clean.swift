import Foundation
import GRDB
import GroveBasics
import GroveGit

extension StateStore {
    /// Records that nothing of run `number` is left (its worktrees and branches are gone). The
    /// first time counts: cleaning an already cleaned run again keeps the original date.
    public func markCleaned(run number: Int, at date: Date = Date()) throws {
        try pool.write { db in
            guard try RunRecord.fetchOne(db, key: number) != nil else { throw StateError.noSuchRun(number) }
            try db.execute(
                sql: "UPDATE run SET cleaned_at = ? WHERE number = ? AND cleaned_at IS NULL", arguments: [date, number])
        }
    }

    /// What grove's state knows that `grove clean --stale` needs, read in one transaction.
    func cleanKnowledge() throws -> CleanKnowledge {
        try pool.read { db in
            let runs = try RunRecord.fetchAll(db)
            let tasks = try TaskRecord.order(TaskRecord.Columns.run, TaskRecord.Columns.position).fetchAll(db)
            let verdicts = try MergeRecord.filter(Column("result") == MergeResult.nothingToLand).fetchAll(db)
            return CleanKnowledge(runs: runs, tasks: tasks, verdicts: verdicts)
        }
    }

    /// The `nothing_to_land` verdicts `grove merge` recorded for run `number`'s tasks, by task.
    func nothingToLandVerdicts(run number: Int) throws -> [String: Date] {
        try pool.read { db in
            let rows = try MergeRecord.filter(MergeRecord.Columns.run == number)
                .filter(Column("result") == MergeResult.nothingToLand).fetchAll(db)
            return Dictionary(rows.map { ($0.task, $0.updatedAt) }, uniquingKeysWith: { first, _ in first })
        }
    }
}

/// What grove's own records say about repositories: the base each task branch came from (so a
/// task on `develop` is judged against `develop`, not the default branch), the bases in use
/// (never deleted, their worktrees never removed), and the worktrees of runs still going on.
struct CleanKnowledge: Sendable {
    /// Where a task branch started.
    struct Origin: Sendable, Equatable {
        var base: String
        var baseCommit: ObjectID?
        /// The branch's tip when its task ended.
        var headCommit: ObjectID?
        /// When `grove merge` found it had nothing to land, if it did.
        var nothingToLandAt: Date?

        /// What `grove merge` said of the branch, for `CleanRepository.changesInBase`.
        var verdict: CleanRepository.Verdict? {
            guard let nothingToLandAt, let headCommit else { return nil }
            return CleanRepository.Verdict(at: nothingToLandAt, head: headCommit)
        }
    }

    /// Repository paths as tasks name them, in order of first use.
    var repositories: [String] = []
    /// By canonical repository path, then branch.
    private var origins: [String: [String: Origin]] = [:]
    /// By canonical repository path.
    private var bases: [String: Set<String>] = [:]
    /// Canonical worktree paths of tasks whose run is still going on.
    var running: Set<String> = []

    init() {}

    init(runs: [RunRecord], tasks: [TaskRecord], verdicts: [MergeRecord] = []) {
        let live = Set(runs.filter { $0.state == .running }.map(\.number))
        var seen: Set<String> = []
        var nothingToLand: [String: Date] = [:]
        for verdict in verdicts { nothingToLand["\(verdict.run)/\(verdict.task)"] = verdict.updatedAt }
        for task in tasks {
            if seen.insert(task.repo).inserted { repositories.append(task.repo) }
            let key = canonicalPath(task.repo)
            origins[key, default: [:]][task.branch] = Origin(
                base: task.base, baseCommit: task.baseCommit.flatMap { ObjectID(hex: $0) },
                headCommit: task.headCommit.flatMap { ObjectID(hex: $0) },
                nothingToLandAt: nothingToLand["\(task.run)/\(task.name)"])
            bases[key, default: []].insert(task.base)
            if live.contains(task.run) { running.insert(canonicalPath(task.worktree)) }
        }
    }

    /// The task branches of a repository known under any of `paths` (its working directory, its
    /// common directory), by branch.
    func origins(for paths: [String]) -> [String: Origin] {
        paths.reduce(into: [:]) { result, path in
            result.merge(origins[canonicalPath(path)] ?? [:]) { first, _ in first }
        }
    }

    /// The bases tasks used in a repository known under any of `paths`.
    func bases(for paths: [String]) -> Set<String> {
        paths.reduce(into: []) { $0.formUnion(bases[canonicalPath($1)] ?? []) }
    }
}
