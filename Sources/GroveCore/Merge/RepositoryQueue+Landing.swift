import Foundation
import GroveGit

/// One task's way through the queue: rebased in memory onto base's tip, checked when asked,
/// landed by compare-and-swap, cleaned up; or parked, with everything it moved put back.
extension RepositoryQueue {
    /// A task rebased onto base, ready to land.
    struct Candidate: Sendable {
        /// The base tip it was built on.
        var oldBase: ObjectID
        /// The task branch's tip before.
        var oldTip: ObjectID
        /// The rebased tip.
        var tip: ObjectID
        /// How many commits it adds to base.
        var commits: Int
    }

    /// What rebasing the task onto the current base tip gives.
    private enum Preparation {
        case candidate(Candidate)
        /// A result that needs no landing: conflict, nothing to land, or an error.
        case finished(TaskMergeOutcome)
    }

    /// Takes one task through the queue and returns its result. Throws `QueueStop` when the
    /// queue must stop before the task could land (everything it moved is put back first).
    func process(_ task: TaskRecord) async throws -> TaskMergeOutcome {
        observer.handle(.taskRebasing(run: run.number, repo: repo, task: task.name, base: task.base))
        // Base may move outside grove between the rebase and the landing: then the task is
        // prepared again on the new tip, a few times at most.
        for _ in 0..<5 {
            let preparation = try await Blocking.run { try self.prepare(task) }
            let candidate: Candidate
            switch preparation {
            case .finished(let outcome):
                return try park(
                    newRecord(task, step: .parked), outcome.result, reason: outcome.reason,
                    conflicts: outcome.conflicts)
            case .candidate(let prepared):
                candidate = prepared
            }

            var record = newRecord(task, step: .prepared)
            record.oldBase = candidate.oldBase.hex
            record.oldTip = candidate.oldTip.hex
            record.candidate = candidate.tip.hex
            record.commits = candidate.commits
            try store.saveMerge(record)
            Failpoint.hit("prepared")

            if let command = options.check {
                switch try await check(task, candidate, command: command, record: &record) {
                case .passed:
                    break
                case .failed(let reason):
                    return try park(record, .checkFailed, reason: reason)
                case .unusable(let reason):
                    return try park(record, .error, reason: reason)
                case .interrupted:
                    try await abandon(task, candidate)
                    throw QueueStop(MergeMessages.interruptedDuringCheck(task.name))
                }
                record.step = .checked
                try store.saveMerge(record)
                Failpoint.hit("checked")
            }

            let snapshot = record
            do {
                return try await Blocking.run { try self.land(task, candidate, record: snapshot) }
            } catch is BaseMoved {
                try await Blocking.run { try self.undo(task, candidate) }
                continue
            } catch let stop as QueueStop {
                // Nothing landed: put back what the check moved and forget the attempt.
                try await abandon(task, candidate)
                throw stop
            }
        }
        throw QueueStop(MergeMessages.baseKeptMoving(task, repo: repo))
    }

    /// Puts back what the check moved and forgets the attempt: the task is tried afresh.
    private func abandon(_ task: TaskRecord, _ candidate: Candidate) async throws {
        try await Blocking.run { try self.undo(task, candidate) }
        try store.deleteMerge(run: task.run, task: task.name)
    }

    /// Rebases the task's commits (a dependent's own only) onto the current base tip in memory:
    /// no ref, index or file changes, only new commit objects.
    private func prepare(_ task: TaskRecord) throws -> Preparation {
        let repository = try Repository.open(at: repo)
        guard let base = try repository.branch(named: task.base) else {
            return .finished(outcome(task, .error, reason: MergeMessages.baseGone(task, repo: repo)))
        }
        guard let tip = try repository.branch(named: task.branch)?.target else {
            return .finished(outcome(task, .error, reason: MergeMessages.branchGone(task, repo: repo)))
        }
        let start = Pipeline.start(of: task)
        switch try Rebasing.rebase(tip, onto: base.target, start: start, in: repository, committer: options.committer) {
        case .nothingToLand(let empty):
            return .finished(outcome(task, .nothingToLand, reason: MergeMessages.nothingToLand(empty, base: task.base)))
        case .conflict(let commit, let paths):
            let summary = try? repository.commit(commit).summary
            let own = try Rebasing.upstream(of: tip, start: start, baseTip: base.target, in: repository)
            var parked = outcome(
                task, .conflict,
                reason: MergeMessages.conflict(task, commit: commit, summary: summary, baseTip: base.target, own: own))
            parked.conflicts = paths
            return .finished(parked)
        case .candidate(let newTip, let commits):
            return .candidate(Candidate(oldBase: base.target, oldTip: tip, tip: newTip, commits: commits))
        }
    }

    /// Lands a candidate: checkouts of base must have no local change on a path the landing
    /// changes, then base moves by compare-and-swap (through its checkout, like `git merge
    /// --ff-only`, keeping the user's other changes), then the task's worktree and branch are
    /// cleaned up.
    private func land(_ task: TaskRecord, _ candidate: Candidate, record: MergeRecord) throws -> TaskMergeOutcome {
        var record = record
        let repository = try Repository.open(at: repo)
        let checkouts = try repository.checkouts(of: task.base)
        // Before anything moves: a local change in a checkout of base that the landing would
        // overwrite stops the queue (changes elsewhere stay, as with `git merge --ff-only`).
        try BaseCheckoutUpdate.check(checkouts.dropFirst(), task: task, from: candidate.oldBase, to: candidate.tip)
        record.step = .landing
        try store.saveMerge(record)
        Failpoint.hit("landing")

        do {
            try BaseCheckoutUpdate.move(
                checkouts, base: task.base, task: task, from: candidate.oldBase, to: candidate.tip,
                message: MergeMessages.landReflog(task), repository: repository)
        } catch is ReferenceMovedError {
            throw BaseMoved()
        }
        Failpoint.hit("base-moved")

        record.step = .landed
        try store.saveMerge(record)
        Failpoint.hit("landed")
        let outcome = try finishLanded(task, candidate, record: &record, repository: repository)
        Failpoint.hit("cleaned")
        return outcome
    }

    /// After base moved to the candidate: cleans up and journals the task as landed for good.
    func finishLanded(
        _ task: TaskRecord, _ candidate: Candidate, record: inout MergeRecord, repository: Repository
    ) throws -> TaskMergeOutcome {
        record.reason = try cleanUp(task, candidate, record: &record, repository: repository)
        record.step = .cleaned
        record.result = .landed
        record.checkClaim = nil
        try store.saveMerge(record)
        return Self.outcome(of: record)
    }

    /// After landing: with `--keep`, the task branch (and its worktree's files) move to the
    /// candidate; otherwise the worktree is removed when it is clean and unlocked, and the branch
    /// is deleted from where it is (base has all of it). Returns a note when something was kept.
    /// `record.step == .cleaning` on entry means a merge that died had found the worktree clean.
    private func cleanUp(
        _ task: TaskRecord, _ candidate: Candidate, record: inout MergeRecord, repository: Repository
    ) throws -> String? {
        let reference = "refs/heads/\(task.branch)"
        guard let current = try repository.branch(named: task.branch)?.target else { return nil }
        guard current == candidate.oldTip || current == candidate.tip else {
            return MergeMessages.branchMovedMeanwhile(task.branch, to: current)
        }
        // When the worktree or the branch is kept, the branch still goes to the landed commit.
        func moveBranchToLanded() throws -> String? {
            try self.moveBranch(task, from: current, to: candidate.tip, repository: repository)
        }
        if options.keep { return try moveBranchToLanded() }
        let alreadyVerified = record.step == .cleaning
        if let worktree = try repository.worktree(atPath: task.worktree) {
            if !alreadyVerified {
                if let reason = try worktree.lockReason() {
                    return MergeMessages.worktreeLocked(worktree.path, reason: reason, note: try moveBranchToLanded())
                }
                if worktree.isValid {
                    let status = try worktree.openRepository().status()
                    if !status.isClean {
                        return MergeMessages.worktreeDirty(
                            worktree.path, paths: status.entries.map(\.path), note: try moveBranchToLanded())
                    }
                }
                record.step = .cleaning
                try store.saveMerge(record)
                Failpoint.hit("cleaning")
            }
            if let trash {
                let place = try trash.place(for: "\(task.run)-\(task.name)")
                if try repository.removeWorktree(worktree, force: true, movingFilesTo: place) { trash.discard(place) }
            } else {
                try repository.removeWorktree(worktree, force: true)
            }
        }
        let elsewhere = try repository.checkouts(of: task.branch)
        if !elsewhere.isEmpty {
            return MergeMessages.branchCheckedOut(task.branch, in: elsewhere, note: try moveBranchToLanded())
        }
        try repository.deleteReference(named: reference, expecting: current)
        return nil
    }

    /// Moves the task branch to the landed commit, through its worktree when it has it checked
    /// out (files follow, local changes are kept). Returns a note when the worktree's local
    /// changes are in the way (the branch then stays where it was).
    private func moveBranch(_ task: TaskRecord, from current: ObjectID, to tip: ObjectID, repository: Repository) throws
        -> String?
    {
        guard current != tip else { return nil }
        let message = MergeMessages.landedReflog(task)
        if let worktree = try openOnBranch(task, in: repository) {
            do {
                try worktree.moveHead(to: tip, expecting: current, message: message)
            } catch let conflict as CheckoutConflictError {
                return MergeMessages.branchLeft(task.branch, at: current, conflict)
            }
        } else {
            try repository.updateReference(
                named: "refs/heads/\(task.branch)", to: tip, expecting: current, message: message)
        }
        return nil
    }

    /// The checkout that has the task branch checked out — its worktree, or wherever the user
    /// switched to it — so a move of the branch carries its files along; nil when none has.
    private func openOnBranch(_ task: TaskRecord, in repository: Repository) throws -> Repository? {
        try repository.checkouts(of: task.branch).first.map { try Repository.open(at: $0) }
    }

    /// Puts the task branch back at its old tip when the check had moved it to the candidate
    /// (its worktree's files too, when they can follow without losing anything).
    func undo(_ task: TaskRecord, _ candidate: Candidate) throws {
        let repository = try Repository.open(at: repo)
        guard candidate.tip != candidate.oldTip,
            try repository.branch(named: task.branch)?.target == candidate.tip
        else { return }
        let message = MergeMessages.putBackReflog(task)
        if let worktree = try openOnBranch(task, in: repository) {
            do {
                try worktree.moveHead(to: candidate.oldTip, expecting: candidate.tip, message: message)
                return
            } catch is CheckoutConflictError {
                // The check changed files the move would overwrite: move the branch alone and
                // leave the files for the user to look at (nothing of theirs is lost).
            }
        }
        try repository.updateReference(
            named: "refs/heads/\(task.branch)", to: candidate.oldTip, expecting: candidate.tip, message: message)
    }
}
