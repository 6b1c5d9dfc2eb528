import Foundation
import GroveGit

/// What `grove clean` made of a worktree (or of a branch without one), decided from git's own
/// data. The class says why; the item's actions say what is done about it.
public enum CleanClass: String, Sendable, Codable, CaseIterable {
    /// The admin entry exists, the directory is gone: the entry is pruned.
    case missing
    /// Clean, and its branch's own commits are all in its base (or the base's upstream).
    case merged
    /// Clean, no commits beyond base, untouched for longer than `--older-than`.
    case abandoned
    /// A run's task that made no commits (`grove clean RUN`).
    case empty
    /// Commits beyond base, every one of them on a remote: nothing would be lost, but it is not finished.
    case pushed
    /// Clean, no commits beyond base yet, touched recently: not stale.
    case recent
    /// Uncommitted changes (untracked files included): removed only with `--force`.
    case dirty
    /// Commits in neither base nor any remote: removed only with `--force`.
    case unmerged
    /// `git worktree lock`ed: never touched.
    case locked
    /// The current directory is inside it: never touched.
    case current
    /// It has a base branch (the default branch, or one grove's tasks start from) checked out: never touched.
    case base
    /// A task of a run that is still going on works in it: never touched.
    case running
    /// A directory where a run's worktree was, no longer registered with git: kept for the user to look at.
    case orphan
    /// A run's worktree folder a killed grove left half-made: its task never ran there, and it
    /// holds nothing but what adding the worktree writes. grove's own: removed.
    case halfMade = "half_made"
    /// A run's worktree that is clean but whose task branch is gone: removed.
    case clean
    /// Nothing of the task is left (its worktree and branch were removed before).
    case gone
    /// A run's task branch checked out somewhere else (the main checkout, another worktree):
    /// git cannot delete it there; kept.
    case checkedOut = "checked_out"
    /// Another worktree (or the main checkout) lives inside its directory: removing it would
    /// delete that one too; kept.
    case nested
    /// Its data could not be read; kept.
    case broken
}

/// One row of `grove clean`'s report: a worktree and its branch, or a branch alone.
public struct CleanItem: Sendable, Equatable, Encodable {
    /// What happens to the worktree.
    public enum WorktreeAction: String, Sendable, Codable {
        /// Its directory and admin entry are deleted (as `git worktree remove` does).
        case remove
        /// Only its admin entry is deleted: the directory is already gone (`git worktree prune`).
        case prune
        case keep
    }

    /// What happens to the branch.
    public enum BranchAction: String, Sendable, Codable {
        case delete
        case keep
    }

    /// The repository's main directory (its working directory, or its git directory when bare).
    public var repository: String
    /// The worktree's directory; nil for a branch without a worktree.
    @Nullable public var worktree: String?
    /// The branch checked out there (or the branch alone); nil when HEAD is detached.
    @Nullable public var branch: String?
    /// HEAD's commit (or the branch's tip) when it was scanned.
    @Nullable public var head: String?
    public var kind: CleanClass
    @Nullable public var worktreeAction: WorktreeAction?
    @Nullable public var branchAction: BranchAction?
    /// True once the actions were carried out; false for `--dry-run` and for what is kept.
    public var done: Bool
    /// Why the class was given (and, once acted, what happened), for people.
    @Nullable public var reason: String?
    /// The command that would remove what is kept.
    @Nullable public var fix: String?
    /// Bytes the worktree takes on disk (nil with `--no-size`, or when it has no directory).
    @Nullable public var sizeBytes: Int64?
    /// Set when an action failed; such a failure makes `grove clean` exit 1.
    @Nullable public var error: String?
    /// What is removed goes for a reason its class alone does not tell (its changes are in base
    /// under other commits, `grove merge` found nothing to land, a half-made worktree, a stale
    /// lock removed first): the report for people says why, not only `--json`.
    public var saysWhy = false

    // What removal re-checks: the admin entry to find again, HEAD and the branch tip as scanned
    // (the branch is deleted only if it still points there), and whether uncommitted changes
    // may be discarded (`--force`).
    var adminName: String?
    var scannedHead: ObjectID?
    var scannedBranch: String?
    var branchTip: ObjectID?
    var discardChanges = false
    /// The branch is one of grove's task branches: a stale lock file on its ref, left by a
    /// killed grove, may be removed (`StaleLocks`) so it can be deleted.
    var groveBranch = false
    /// Set for a half-made worktree: the commit its checkout wrote, checked again before removal.
    var halfMadeStart: ObjectID?

    init(repository: String, worktree: String?, branch: String?, kind: CleanClass) {
        self.repository = repository
        self.worktree = worktree
        self.branch = branch
        self.kind = kind
        done = false
    }

    /// Whether something of it stays: a worktree or a branch kept, or a failed action.
    public var keepsSomething: Bool {
        worktreeAction == .keep || branchAction == .keep || error != nil
    }

    /// Marks the item kept: nothing of it is touched.
    mutating func keep(_ kind: CleanClass, reason: String, fix: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.fix = fix
        if worktree != nil { worktreeAction = .keep }
        if branchTip != nil { branchAction = .keep }
    }

    enum CodingKeys: String, CodingKey {
        case repository, worktree, branch, head, done, reason, fix, error
        case kind = "class"
        case worktreeAction = "worktree_action"
        case branchAction = "branch_action"
        case sizeBytes = "size_bytes"
    }
}

/// A repository `grove clean` could not work in, and why.
public struct CleanProblem: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Codable {
        /// It could not be opened or read: exit 1.
        case unreadable
        /// Another grove holds its lock: nothing was changed in it; exit 3.
        case locked
        /// grove's state names it but it no longer exists: nothing to clean there.
        case vanished
        /// A bare repository without linked worktrees (it may be someone's remote): never changed.
        case skipped
    }

    public var repository: String
    public var kind: Kind
    /// One line: what went wrong and what to do.
    public var message: String
}

/// Everything one `grove clean` saw and did, for the table, the totals and `--json`.
public struct CleanReport: Sendable, Encodable {
    public enum Mode: String, Sendable, Codable {
        /// `grove clean --stale`: stale worktrees across repositories.
        case stale
        /// `grove clean RUN`: one run's worktrees and branches.
        case run
    }

    public var mode: Mode
    /// The run cleaned (`grove clean RUN`); nil for `--stale`.
    public var run: Int?
    public var dryRun: Bool
    /// Sorted by repository, then worktree path, then branch.
    public var items: [CleanItem]
    public var problems: [CleanProblem]
    /// `grove clean RUN`: whether the run was marked cleaned (nothing of it is left).
    public var cleaned: Bool?
    /// False with `--no-size`: no sizes, and no total of freed bytes.
    public var sizesMeasured: Bool
    /// Ctrl-C stopped it before everything planned was done (what was not done is kept).
    public var interrupted = false

    public init(
        mode: Mode, run: Int? = nil, dryRun: Bool, sizesMeasured: Bool, items: [CleanItem],
        problems: [CleanProblem] = [], cleaned: Bool? = nil
    ) {
        self.mode = mode
        self.run = run
        self.dryRun = dryRun
        self.sizesMeasured = sizesMeasured
        self.items = items.sorted {
            ($0.repository, $0.worktree ?? "\u{10FFFF}", $0.branch ?? "")
                < ($1.repository, $1.worktree ?? "\u{10FFFF}", $1.branch ?? "")
        }
        self.problems = problems.sorted { ($0.repository, $0.message) < ($1.repository, $1.message) }
        self.cleaned = cleaned
    }

    /// What was (or, with `--dry-run`, would be) done.
    public struct Totals: Sendable, Equatable, Encodable {
        public var worktreesRemoved = 0
        public var entriesPruned = 0
        public var branchesDeleted = 0
        /// Items of which something stays.
        public var kept = 0
        /// Bytes of the removed worktrees; nil when sizes were not measured.
        @Nullable public var bytesFreed: Int64?
        /// Failed actions and unreadable repositories.
        public var errors = 0

        enum CodingKeys: String, CodingKey {
            case kept, errors
            case worktreesRemoved = "worktrees_removed"
            case entriesPruned = "entries_pruned"
            case branchesDeleted = "branches_deleted"
            case bytesFreed = "bytes_freed"
        }
    }

    public var totals: Totals {
        var totals = Totals()
        var freed: Int64 = 0
        for item in items {
            switch item.worktreeAction {
            case .remove:
                totals.worktreesRemoved += 1
                freed += item.sizeBytes ?? 0
            case .prune: totals.entriesPruned += 1
            case .keep, nil: break
            }
            if item.branchAction == .delete { totals.branchesDeleted += 1 }
            if item.keepsSomething { totals.kept += 1 }
            if item.error != nil { totals.errors += 1 }
        }
        totals.errors += problems.count { $0.kind == .unreadable }
        totals.bytesFreed = sizesMeasured ? freed : nil
        return totals
    }

    enum CodingKeys: String, CodingKey {
        case mode, run, items, problems, cleaned, totals, interrupted
        case dryRun = "dry_run"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mode, forKey: .mode)
        try container.encode(run, forKey: .run)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(cleaned, forKey: .cleaned)
        try container.encode(interrupted, forKey: .interrupted)
        try container.encode(items, forKey: .items)
        try container.encode(problems, forKey: .problems)
        try container.encode(totals, forKey: .totals)
    }

    /// The report as one line of JSON (no newline), keys sorted.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// Bad input for `grove clean` (a flag that makes no sense, a path that does not exist, a run
/// still going on): reported before anything changes; the CLI exits 2.
public struct CleanInputError: Error, Sendable, Equatable, LocalizedError {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var errorDescription: String? { message }
}
