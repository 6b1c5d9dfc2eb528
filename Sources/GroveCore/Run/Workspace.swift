import Foundation
import GroveGit

/// A task's branch and worktree: made before its command runs, inspected (and its leftovers
/// committed) after. Everything here blocks on libgit2 and the file system: call it through
/// `Blocking.run`, and never share a `Repository` between calls.
enum Workspace {
    /// Makes the task's branch at the planned base commit, adds its linked worktree (the
    /// repository's own `.git` holds the entry) and copies the `copy:` files in. Returns what
    /// the checkout wrote when grove wrote it (`conclude` then sees cheaply that nothing changed).
    @discardableResult
    static func prepare(_ task: PlannedTask) throws -> WorkingTreeSnapshot? {
        let repository = try Repository.open(at: task.repository)
        guard let baseCommit = task.baseCommit else { throw WorkspaceError.noBaseCommit }
        _ = try repository.createBranch(named: task.branch, at: baseCommit)
        do {
            return try addWorktree(task, in: repository)
        } catch {
            // Nothing half-made stays: the branch goes too while it is still where grove made it.
            try? repository.deleteBranch(named: task.branch, expecting: baseCommit)
            throw error
        }
    }

    /// Adds the task's worktree on its (existing) branch, writes its files and copies `copy:` in;
    /// when any of it fails (a full disk, say), the partial worktree and its admin entry are
    /// removed before the error is thrown, so neither git nor the disk keeps half a worktree.
    /// Returns what the checkout wrote when grove wrote it and no `copy:` file changed it since.
    @discardableResult
    static func addWorktree(_ task: PlannedTask, in repository: Repository) throws -> WorkingTreeSnapshot? {
        // Files are written after the add, outside the repository-wide worktree lock, so tasks
        // of one repository check out at the same time instead of one after the other.
        let worktree = try repository.addWorktree(
            at: task.worktree, branch: task.branch, name: task.name, checkout: .none)
        do {
            let snapshot = try worktree.openRepository().checkoutHead(force: true)
            try copyFiles(task, from: repository)
            return task.copy.isEmpty ? snapshot : nil
        } catch {
            _ = try? repository.removeWorktree(worktree, force: true)
            throw error
        }
    }

    /// Copies the task's `copy:` entries from the repository's main checkout into its worktree.
    static func copyFiles(_ task: PlannedTask, from repository: Repository) throws {
        guard !task.copy.isEmpty else { return }
        guard let checkout = repository.workingDirectory else {
            throw WorkspaceError.noCheckoutToCopyFrom(repository: task.repository)
        }
        for path in task.copy {
            try copy(path, from: checkout, to: task.worktree)
        }
    }

    /// Copies one `copy:` entry (a file or a directory), replacing what the worktree has there:
    /// the main checkout's version is the one the user asked for.
    private static func copy(_ path: String, from checkout: String, to worktree: String) throws {
        let fileManager = FileManager.default
        let source = checkout + "/" + path
        let destination = worktree + "/" + path
        do {
            try fileManager.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if fileManager.fileExists(atPath: destination) { try fileManager.removeItem(atPath: destination) }
            try fileManager.copyItem(atPath: source, toPath: destination)
        } catch {
            throw WorkspaceError.copyFailed(path: path, from: checkout, reason: error.localizedDescription)
        }
    }

    /// What a task's branch holds once its command ended.
    struct Conclusion: Sendable, Equatable {
        /// The branch tip, leftovers included.
        var head: ObjectID?
        /// Commits on the branch that are not in the base commit.
        var commits: Int
        /// Paths the branch changed since it left base.
        var changedFiles: [String]
        /// Set when the task must fail although its command succeeded (it left its branch).
        var failure: String?
    }

    /// Inspects the task's worktree after its command: when `commitLeftovers` (the command
    /// succeeded) and the worktree is still on the task branch, what the command left
    /// uncommitted is committed there. A worktree off its branch is never touched. With the
    /// `snapshot` its checkout left, a worktree that is certainly unchanged skips the full status.
    static func conclude(
        _ task: PlannedTask, run: Int, commitLeftovers: Bool, snapshot: WorkingTreeSnapshot? = nil
    ) throws -> Conclusion {
        guard FileManager.default.fileExists(atPath: task.worktree) else {
            return try branchOnly(task, failure: "its worktree \(task.worktree) is gone")
        }
        guard let worktree = try? Repository.openWorkingTree(at: task.worktree) else {
            return try branchOnly(
                task, failure: "its worktree \(task.worktree) is no longer a git worktree (its .git is gone)")
        }
        let onBranch = try worktree.headBranchName()
        if onBranch != task.branch {
            let whereHeadIs =
                if let onBranch {
                    "HEAD is on \(onBranch)"
                } else if let commit = try? worktree.headCommit() {
                    "HEAD is detached at \(commit.short)"
                } else {
                    "HEAD is unborn"
                }
            return try branchOnly(
                task, failure: "it left its branch \(task.branch) (\(whereHeadIs)); its worktree is kept as it is")
        }
        if let rewritten = try rewritten(task, in: worktree) {
            return try measure(task, in: worktree, failure: rewritten)
        }
        let unchanged = snapshot.map { worktree.isUnchanged(since: $0) } ?? false
        if commitLeftovers && !unchanged {
            _ = try worktree.commitAll(message: CommitMessage.leftovers(task: task, run: run))
        }
        return try measure(task, in: worktree, failure: nil)
    }

    /// Why the task's branch cannot be trusted to hold its work on top of its start: it was
    /// reset below the start commit, or the start commit itself was amended or rebased away.
    /// nil when the branch still contains its start commit (or is gone: `measure` says so).
    private static func rewritten(_ task: PlannedTask, in repository: Repository) throws -> String? {
        guard let start = task.baseCommit, let head = try repository.branch(named: task.branch)?.target,
            try !repository.isAncestor(start, of: head)
        else { return nil }
        return "its branch \(task.branch) no longer contains its start commit \(start.short) (reset below it,"
            + " or rewritten by an amend or rebase); nothing was committed and its worktree is kept as it is"
    }

    /// Measures the branch from the task's own repository when its worktree cannot be used.
    private static func branchOnly(_ task: PlannedTask, failure: String) throws -> Conclusion {
        try measure(task, in: Repository.open(at: task.repository), failure: failure)
    }

    private static func measure(_ task: PlannedTask, in repository: Repository, failure: String?) throws
        -> Conclusion
    {
        guard let head = try repository.branch(named: task.branch)?.target else {
            return Conclusion(
                head: nil, commits: 0, changedFiles: [],
                failure: failure ?? "its branch \(task.branch) was deleted")
        }
        guard let baseCommit = task.baseCommit else { throw WorkspaceError.noBaseCommit }
        let commits = try repository.aheadBehind(head, baseCommit).ahead
        let changed = try repository.changedPaths(of: head, since: baseCommit).map(\.path)
        return Conclusion(head: head, commits: commits, changedFiles: changed, failure: failure)
    }
}

/// The commit message grove writes for what a task left uncommitted (DESIGN.md, "Task lifecycle").
enum CommitMessage {
    /// `grove: <task> (run N)`, then the task's instructions as the body when it has some.
    static func leftovers(task: PlannedTask, run: Int) -> String {
        let subject = "grove: \(task.name) (run \(run))"
        let body = task.instructions.trimmingCharacters(in: .whitespacesAndNewlines)
        return body.isEmpty ? subject + "\n" : subject + "\n\n" + body + "\n"
    }
}

/// Why a task's workspace could not be made.
enum WorkspaceError: Error, LocalizedError, Equatable {
    case noCheckoutToCopyFrom(repository: String)
    case copyFailed(path: String, from: String, reason: String)
    /// A URL repository's task reached its worktree without a fetched base (a bug, not input).
    case noBaseCommit

    var errorDescription: String? {
        switch self {
        case .noCheckoutToCopyFrom(let repository):
            return "\(repository) is bare: there is no checkout to take `copy:` files from"
        case .copyFailed(let path, let checkout, let reason):
            return "could not copy \(path) from \(checkout): \(reason)"
        case .noBaseCommit:
            return "its base commit is unknown (its repository was not fetched)"
        }
    }
}
