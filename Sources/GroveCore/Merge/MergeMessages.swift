import GroveBasics
import GroveGit

/// The words of a repository's merge queue, apart from its logic: why a task did not land or a
/// queue stopped, each with what to do next, the notes on landed tasks, and the reflog messages.
enum MergeMessages {
    // MARK: The queue

    static func reconcileFailed(_ error: any Error) -> String {
        "could not finish the merge that was interrupted here: \(describe(error))"
    }

    static func planFailed(_ error: any Error) -> String {
        "could not work out the planned order: \(describe(error))"
    }

    static func stoppedAtConflict(_ task: String) -> String {
        "stopped at \(task)'s conflict (--on-conflict stop); resolve it, then run `grove merge` again"
    }

    /// An unexpected error as a reason; a lock file of git's in the way adds what to do about it.
    static func unexpected(_ error: any Error, repo: String) -> String {
        var reason = describe(error)
        if (error as? GitError)?.isLocked == true {
            reason +=
                "; another git is writing there, or one that died left its lock file:"
                + " if no git runs in \(repo), remove that file, then run `grove merge` again"
        }
        return reason
    }

    static func stoppedAfterError(_ task: String, reason: String) -> String {
        "stopped after an error at \(task): \(reason)"
    }

    static func interruptedDuringCheck(_ task: String) -> String {
        "interrupted during \(task)'s check; run `grove merge` again to go on"
    }

    static func baseKeptMoving(_ task: TaskRecord, repo: String) -> String {
        "\(task.base) in \(repo) kept moving while \(task.name) was landing; run `grove merge` again when it settles"
    }

    // MARK: Pushing a base

    private static func pushYourself(_ base: String, to remote: String, repo: String) -> String {
        "push it yourself (`git -C \(ShellWord.quoted(repo)) push \(remote) \(base)`)"
    }

    /// Why the remote refused the push, and what to do.
    static func pushRefused(
        _ reason: String, base: String, remote: String, remotePath: String?, repo: String
    ) -> String {
        BranchPusher.refusal(
            reason, remote: remote, remotePath: remotePath, branch: base,
            next: "then " + pushYourself(base, to: remote, repo: repo))
            ?? "\(reason): \(remote) has commits \(base) lacks; fetch them, bring \(base) up to date,"
            + " then push it yourself"
    }

    static func pushUnanswered(_ reference: String) -> String {
        "the remote did not answer for \(reference)"
    }

    /// A push that failed: a remote's error says what to do itself.
    static func pushFailed(_ error: any Error, base: String, remote: String, repo: String) -> String {
        describe(error) + (error is RemoteError ? "" : "; " + pushYourself(base, to: remote, repo: repo))
    }

    // MARK: Preparing a task

    static func baseGone(_ task: TaskRecord, repo: String) -> String {
        "its base \(task.base) no longer exists in \(repo); recreate it, then run `grove merge` again"
    }

    static func branchGone(_ task: TaskRecord, repo: String) -> String {
        "its branch \(task.branch) no longer exists in \(repo); nothing is left to land"
    }

    static func nothingToLand(_ empty: Rebasing.Empty, base: String) -> String {
        switch empty {
        case .inBase: "\(base) already has all of its commits"
        case .alreadyApplied: "its changes are already in \(base)"
        case .noOwnCommits: "it has no commits of its own beyond its dependencies'"
        }
    }

    /// A commit that does not apply on base; `own` is where a dependent's own commits start.
    static func conflict(
        _ task: TaskRecord, commit: ObjectID, summary: String?, baseTip: ObjectID, own: ObjectID?
    ) -> String {
        // A dependent replayed only its own commits: the same is what to do by hand.
        let fix =
            own.map {
                "rebase its own commits onto \(task.base) yourself"
                    + " (`git -C \(task.worktree) rebase --onto \(task.base) \($0.short)`)"
            } ?? "rebase \(task.branch) onto \(task.base) yourself"
        return "commit \(commit.short)\(summary.map { " (\($0))" } ?? "") does not apply on \(task.base)"
            + " at \(baseTip.short); \(fix), then run `grove merge` again"
    }

    // MARK: Cleaning up after landing

    static func branchMovedMeanwhile(_ branch: String, to current: ObjectID) -> String {
        "\(branch) moved meanwhile (to \(current.short)); left as it is"
    }

    static func worktreeLocked(_ path: String, reason: String, note: String?) -> String {
        "worktree \(path) kept: it is locked" + (reason.isEmpty ? "" : " (\(reason))") + also(note)
    }

    static func worktreeDirty(_ path: String, paths: [String], note: String?) -> String {
        "worktree \(path) kept: it has uncommitted changes"
            + " (\(summarize(paths)));"
            + " commit them, or remove it with `grove clean --force`" + also(note)
    }

    static func branchCheckedOut(_ branch: String, in checkouts: [String], note: String?) -> String {
        "\(branch) kept: it is checked out in \(checkouts.joined(separator: ", "))" + also(note)
    }

    static func branchLeft(_ branch: String, at current: ObjectID, _ conflict: CheckoutConflictError) -> String {
        "\(branch) left at \(current.short): local changes in \(conflict.worktree) are in the way"
            + " (\(summarize(conflict.paths)))"
    }

    /// A second note after a first: "; <note>".
    private static func also(_ note: String?) -> String {
        note.map { "; \($0)" } ?? ""
    }

    // MARK: Reflog messages

    static func landReflog(_ task: TaskRecord) -> String { "grove merge: land \(task.name) (run \(task.run))" }
    static func landedReflog(_ task: TaskRecord) -> String { "grove merge: \(task.name) landed on \(task.base)" }
    static func checkReflog(_ task: TaskRecord) -> String { "grove merge: check \(task.name)" }
    static func putBackReflog(_ task: TaskRecord) -> String { "grove merge: put \(task.name) back" }

    // MARK: The check

    /// How a process ended: its exit status, else the signal that killed it.
    static func ending(_ exitCode: Int32?, signal: Int32? = nil) -> String {
        ProcessOutcome.Termination(exitCode: exitCode, signal: signal)?.words ?? "failed"
    }

    static func failedBefore(_ verdict: CheckVerdict) -> String {
        "the check failed on this same tree before (\(ending(verdict.exitCode))); see \(verdict.log ?? "its log")"
    }

    /// grove's line in the check's log before the check's own output.
    static func checkLogLine(_ command: String, candidate: ObjectID, tree: String) -> String {
        "[grove] check: \(command) (candidate \(candidate.short), tree \(String(tree.prefix(7))))"
    }

    static func checkCouldNotStart(_ error: any Error) -> String {
        "the check could not start: \(describe(error))"
    }

    static func checkFailed(_ outcome: ProcessOutcome, candidate: ObjectID, log: String) -> String {
        let how = outcome.timedOut ? "ran past the run's timeout" : ending(outcome.exitCode, signal: outcome.signal)
        return "the check \(how) on the candidate \(candidate.short); see \(log)"
    }

    static func worktreeGoneForCheck(_ task: TaskRecord) -> String {
        "its worktree \(task.worktree) is gone, and --check runs there;"
            + " run `grove merge` without --check to land it unchecked"
    }

    static func worktreeOffBranch(_ task: TaskRecord) -> String {
        "its worktree \(task.worktree) is no longer on \(task.branch);"
            + " run `git -C \(task.worktree) switch \(task.branch)`, then `grove merge` again"
    }

    static func worktreeDirtyForCheck(_ task: TaskRecord, paths: [String]) -> String {
        "its worktree \(task.worktree) has uncommitted changes (\(summarize(paths)));"
            + " commit or discard them so the check sees exactly the candidate"
    }

    static func untrackedInTheWay(_ paths: [String]) -> String {
        "untracked files in its worktree are in the candidate's way (\(summarize(paths)));"
            + " remove them, then run `grove merge` again"
    }

    // MARK: Recovery

    static func recovered(landed: Bool, removedLocks: [String]) -> String {
        (landed
            ? "an interrupted merge had landed it; cleaned up"
            : "an interrupted merge had not landed it; it is tried again")
            + (removedLocks.isEmpty ? "" : " (removed the lock files it left: \(removedLocks.joined(separator: ", ")))")
    }
}
