import Foundation
import GRDB

/// What the merge queue made of one task (DESIGN.md, "Merge queue"). Raw values are what
/// `grove merge --json`, `grove status` and the state database use.
public enum MergeResult: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// Rebased onto base and landed there.
    case landed
    /// Its commits do not apply on the current base; branch and worktree are untouched.
    case conflict
    /// `--check` failed on the rebased candidate; the branch was put back where it was.
    case checkFailed = "check_failed"
    /// It has no commit that base lacks.
    case nothingToLand = "nothing_to_land"
    /// It could not be tried (its branch is gone, its worktree cannot take the check…); the
    /// reason says what to do.
    case error
    /// A dependency (`depends_on`) did not land, so it was not tried: its branch and worktree
    /// are untouched, and the next `grove merge` tries it again once the dependency lands.
    case blocked
    /// The queue stopped before it (`--on-conflict stop`, a checkout of base with local
    /// changes, Ctrl-C); it is tried again by the next `grove merge`.
    case notReached = "not_reached"

    /// True when nothing is wrong with the task's outcome (exit status 0).
    public var isSuccess: Bool { self == .landed || self == .nothingToLand }
}

/// The last step the journal recorded for a task: written before the step acts, so a merge
/// that died mid-way can tell what may have happened.
public enum MergeStep: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// A candidate (the rebased tip) exists; nothing has moved yet (with `--check` the task's
    /// worktree may be on its way to the candidate).
    case prepared
    /// The check passed (or the tree passed before); nothing has landed yet.
    case checked
    /// Base is about to move to the candidate.
    case landing
    /// Base is at the candidate; the task's worktree and branch are about to be cleaned up.
    case landed
    /// The task's worktree was found clean and is being removed.
    case cleaning
    /// Landed and cleaned up (or kept with `--keep`): final.
    case cleaned
    /// A final result other than landed (conflict, check_failed, nothing_to_land, error, blocked).
    case parked

    /// True while the task is in the middle of the queue: a merge that finds such a row was killed.
    public var isInFlight: Bool {
        switch self {
        case .prepared, .checked, .landing, .landed, .cleaning: return true
        case .cleaned, .parked: return false
        }
    }
}

/// One task's row of the merge journal: where it stands and, once final, its result.
public struct MergeRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public let run: Int
    public let task: String
    public var repo: String
    public var base: String
    public var branch: String
    public var step: MergeStep
    /// Nil while in flight.
    public var result: MergeResult?
    /// The base tip the candidate was built on: base's expected old id when landing.
    public var oldBase: String?
    /// The task branch's tip before the queue touched it.
    public var oldTip: String?
    /// The rebased tip: base's (and the branch's) new id.
    public var candidate: String?
    /// Task commits the candidate adds to base.
    public var commits: Int?
    public var conflicts: [String]
    /// Why the task did not land, or a note on a landed one (e.g. a worktree kept).
    public var reason: String?
    public var checkLog: String?
    /// The check's verdict came from the cache: the same tree passed or failed before.
    public var checkCached: Bool
    /// What the launcher started for the check while it runs, so a later merge can end it if
    /// grove died.
    public var checkClaim: ProcessClaim?
    /// The `grove merge` process that wrote the row.
    public var pid: Int32
    public var updatedAt: Date

    public static let databaseTableName = "merge"

    public init(
        run: Int, task: String, repo: String, base: String, branch: String, step: MergeStep,
        pid: Int32 = getpid(), updatedAt: Date = Date()
    ) {
        self.run = run
        self.task = task
        self.repo = repo
        self.base = base
        self.branch = branch
        self.step = step
        self.conflicts = []
        self.checkCached = false
        self.pid = pid
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case run, task, repo, base, branch, step, result, candidate, commits, conflicts, reason, pid
        case oldBase = "old_base"
        case oldTip = "old_tip"
        case checkLog = "check_log"
        case checkCached = "check_cached"
        case checkClaim = "check_claim"
        case updatedAt = "updated_at"
    }

    /// Typed columns for queries.
    public enum Columns {
        public static let run = Column(CodingKeys.run)
        public static let repo = Column(CodingKeys.repo)
        public static let step = Column(CodingKeys.step)
    }
}

/// A `--check` verdict remembered by (tree, command).
public struct CheckVerdict: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var tree: String
    public var command: String
    public var passed: Bool
    public var exitCode: Int32?
    /// The log of the check that gave the verdict.
    public var log: String?
    public var checkedAt: Date

    public static let databaseTableName = "check_cache"

    public init(tree: String, command: String, passed: Bool, exitCode: Int32?, log: String?, checkedAt: Date = Date()) {
        self.tree = tree
        self.command = command
        self.passed = passed
        self.exitCode = exitCode
        self.log = log
        self.checkedAt = checkedAt
    }

    enum CodingKeys: String, CodingKey {
        case tree, command, passed, log
        case exitCode = "exit_code"
        case checkedAt = "checked_at"
    }
}

extension StateStore {
    /// Writes (inserting or replacing) a task's journal row, stamping the time.
    public func saveMerge(_ record: MergeRecord) throws {
        var record = record
        record.updatedAt = Date()
        try pool.write { db in try record.save(db) }
    }

    /// Forgets a task's journal row (its merge is to be tried afresh).
    public func deleteMerge(run: Int, task: String) throws {
        _ = try pool.write { db in try MergeRecord.deleteOne(db, key: ["run": run, "task": task]) }
    }

    /// One task's journal row, nil when it never went through a merge queue.
    public func merge(run: Int, task: String) throws -> MergeRecord? {
        try pool.read { db in try MergeRecord.fetchOne(db, key: ["run": run, "task": task]) }
    }

    /// The journal rows of a run, by task name.
    public func merges(run: Int) throws -> [String: MergeRecord] {
        let rows = try pool.read { db in try MergeRecord.filter(MergeRecord.Columns.run == run).fetchAll(db) }
        return Dictionary(rows.map { ($0.task, $0) }) { first, _ in first }
    }

    /// Rows of any run left in the middle of a queue in `repo`: a merge there died.
    public func inFlightMerges(repo: String) throws -> [MergeRecord] {
        let steps = MergeStep.allCases.filter(\.isInFlight)
        return try pool.read { db in
            try MergeRecord.filter(MergeRecord.Columns.repo == repo && steps.contains(MergeRecord.Columns.step))
                .order(MergeRecord.Columns.run).fetchAll(db)
        }
    }

    /// Records what the launcher started for a task's running check.
    public func setCheckClaim(_ claim: ProcessClaim, run: Int, task: String) throws {
        let json = String(decoding: try JSONEncoder().encode(claim), as: UTF8.self)
        try pool.write { db in
            try db.execute(
                sql: "UPDATE merge SET check_claim = ? WHERE run = ? AND task = ?", arguments: [json, run, task])
        }
    }

    /// The remembered verdict of `command` on `tree`, if it ran there before.
    public func checkVerdict(tree: String, command: String) throws -> CheckVerdict? {
        try pool.read { db in try CheckVerdict.fetchOne(db, key: ["tree": tree, "command": command]) }
    }

    /// Remembers a check's verdict.
    public func saveCheckVerdict(_ verdict: CheckVerdict) throws {
        try pool.write { db in try verdict.save(db) }
    }
}
