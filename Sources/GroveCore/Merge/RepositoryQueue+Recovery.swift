import Foundation
import GroveGit

/// What a merge that died left: its journal rows finished or undone against the real refs, the
/// lock files it left removed, and checkouts it cut off half-way put back.
extension RepositoryQueue {
    /// Finishes or undoes what a merge that died left in this repository's journal: base at
    /// the candidate (or past it) → the task landed, clean up; base anywhere else → nothing
    /// landed, the branch goes back to its old tip and the task is tried afresh. Returns the
    /// outcomes of this run's tasks that recovery finished.
    func reconcile() async throws -> [String: TaskMergeOutcome] {
        var finished: [String: TaskMergeOutcome] = [:]
        for row in try store.inFlightMerges(repo: repo) {
            // The dead merge's check may still run in the worktree we are about to move.
            if let claim = row.checkClaim { await launcher.reap(claim) }
            let repo = self.repo
            let removed = try await Blocking.run { try Self.removeStaleLocks(of: row, in: repo) }
            let outcome = try await Blocking.run { try self.recover(row) }
            observer.handle(
                .taskRecovered(
                    run: row.run, repo: repo, task: row.task, result: outcome?.result,
                    reason: MergeMessages.recovered(landed: outcome != nil, removedLocks: removed)))
            if row.run == run.number, let outcome { finished[row.task] = outcome }
        }
        return finished
    }

    /// A merge killed while git wrote a ref or an index leaves that file's `.lock` behind, and
    /// every later write of it fails until it is removed. The lock files of what the row's step
    /// writes (base, the task branch, `packed-refs`, the index of each checkout of either) go
    /// by `StaleLocks`'s rule, taken for the dead merge's when made after the step began (the
    /// row is written first). Returns the files removed.
    static func removeStaleLocks(of row: MergeRecord, in repo: String) throws -> [String] {
        let repository = try Repository.open(at: repo)
        var files = ["refs/heads/\(row.base)", "refs/heads/\(row.branch)", "packed-refs"].map {
            repository.commonDirectory + "/" + $0 + ".lock"
        }
        for path in try repository.checkouts(of: row.base) + repository.checkouts(of: row.branch) {
            if let checkout = try? Repository.openWorkingTree(at: path) {
                files.append(checkout.gitDirectory + "/index.lock")
            }
        }
        return StaleLocks.remove(files, commonDirectory: repository.commonDirectory, madeAfter: row.updatedAt)
    }

    private func recover(_ row: MergeRecord) throws -> TaskMergeOutcome? {
        guard let task = try store.task(run: row.run, name: row.task),
            let oldBase = row.oldBase.flatMap(ObjectID.init(hex:)),
            let oldTip = row.oldTip.flatMap(ObjectID.init(hex:)),
            let tip = row.candidate.flatMap(ObjectID.init(hex:))
        else {
            try store.deleteMerge(run: row.run, task: row.task)
            return nil
        }
        let candidate = Candidate(oldBase: oldBase, oldTip: oldTip, tip: tip, commits: row.commits ?? 0)
        let repository = try Repository.open(at: repo)
        let baseNow = try repository.branch(named: row.base)?.target
        let landed: Bool =
            if let baseNow {
                try baseNow == tip || (baseNow != oldBase && repository.isAncestor(tip, of: baseNow))
            } else {
                false
            }
        // The task's worktree may have been cut off half-way to (or back from) the candidate.
        try rollBackCutOffWorktree(task, candidate, repository: repository)
        guard landed else {
            if row.step == .landing { try rollBackCutOffCheckouts(of: row.base, candidate, repository: repository) }
            try undo(task, candidate)
            try store.deleteMerge(run: row.run, task: row.task)
            return nil
        }
        var record = row
        if record.step != .cleaning {
            record.step = .landed
            try store.saveMerge(record)
        }
        return try finishLanded(task, candidate, record: &record, repository: repository)
    }

    /// A merge killed while it moved a checkout of base (files written, base not moved yet)
    /// leaves files of the candidate there. Every path the landing touches that holds exactly
    /// base's or the candidate's version goes back to base's; anything else is the user's and is
    /// left alone (the landing then stops on it as on any local change).
    private func rollBackCutOffCheckouts(of base: String, _ candidate: Candidate, repository: Repository) throws {
        for path in try repository.checkouts(of: base) {
            try Self.putBack(try Repository.open(at: path), to: candidate.oldBase, from: candidate.tip)
        }
    }

    /// The same for the task's worktree, which moves to the candidate for the check, back after
    /// a failed one, and to the landed commit with `--keep`: a merge killed in the middle of such
    /// a move leaves files of one end with the branch at the other. Paths holding exactly one
    /// end's version go to the branch's; anything else is the user's and is left alone.
    private func rollBackCutOffWorktree(_ task: TaskRecord, _ candidate: Candidate, repository: Repository) throws {
        guard candidate.tip != candidate.oldTip, let path = try repository.checkouts(of: task.branch).first else {
            return
        }
        // One whose removal was cut off (its `.git` already gone) is not a worktree to put back.
        guard let worktree = try? Repository.openWorkingTree(at: path),
            let head = try worktree.headCommit(), head == candidate.oldTip || head == candidate.tip
        else { return }
        try Self.putBack(worktree, to: head, from: head == candidate.tip ? candidate.oldTip : candidate.tip)
    }

    /// Writes `commit`'s version of every path a move between `commit` and `other` touches that
    /// differs from it but holds exactly `commit`'s or `other`'s version.
    private static func putBack(_ checkout: Repository, to commit: ObjectID, from other: ObjectID) throws {
        var touched = Set<String>()
        for change in try checkout.changedPaths(from: commit, to: other) {
            touched.insert(change.path)
            if let old = change.oldPath { touched.insert(old) }
        }
        let dirty = try checkout.status().entries.map(\.path).filter(touched.contains)
        let ours = try dirty.filter { path in
            try checkout.workingFileMatches(path, in: other) || checkout.workingFileMatches(path, in: commit)
        }
        try checkout.forceCheckout(commit, paths: ours)
    }
}
