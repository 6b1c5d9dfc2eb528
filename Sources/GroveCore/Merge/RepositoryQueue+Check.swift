import Foundation
import GroveGit

/// `--check`: the task's worktree moves to the candidate and the command runs there, through the
/// queue's launcher; a verdict is remembered per (tree, command).
extension RepositoryQueue {
    enum CheckOutcome {
        case passed
        case failed(String)
        /// The worktree cannot take the check (gone, off its branch, local changes).
        case unusable(String)
        case interrupted
    }

    /// Brings the task's worktree to the candidate and runs the check there as its own process
    /// group (the run's timeout, output to `logs/<run>/<task>.check.log`). A verdict for the
    /// candidate's tree and this command is reused: the same tree is never checked twice.
    func check(
        _ task: TaskRecord, _ candidate: Candidate, command: String, record: inout MergeRecord
    ) async throws -> CheckOutcome {
        let repo = self.repo
        let tree = try await Blocking.run { try Repository.open(at: repo).commit(candidate.tip).tree.hex }
        if let verdict = try store.checkVerdict(tree: tree, command: command) {
            record.checkCached = true
            record.checkLog = verdict.log
            return verdict.passed ? .passed : .failed(MergeMessages.failedBefore(verdict))
        }
        let log = home.logs + "/\(task.run)/\(task.name).check.log"
        observer.handle(
            .taskChecking(run: run.number, repo: repo, task: task.name, candidate: candidate.tip.hex, log: log))

        if let problem = try await Blocking.run({ try self.moveWorktreeForCheck(task, candidate) }) {
            return .unusable(problem)
        }
        record.checkLog = log
        Failpoint.hit("checking")
        try? GroveHome.createPrivateDirectory(atPath: (log as NSString).deletingLastPathComponent)
        TaskLog.appendLine(MergeMessages.checkLogLine(command, candidate: candidate.tip, tree: tree), to: log)
        let spec = ProcessSpec(
            command: .shell(command), workingDirectory: task.worktree,
            environment: TaskEnvironment.variables(forCheckOf: task, candidate: candidate.tip.hex),
            unsetEnvironment: TaskEnvironment.removed,
            logFile: log, timeout: run.timeoutSeconds.map { .milliseconds(Int64($0 * 1000)) })
        let store = self.store
        let outcome: ProcessOutcome
        do {
            let request = LaunchRequest(spec, purpose: .check, run: task.run, task: task.name)
            outcome = try await launcher.run(request, control: control, as: "check \(repo) \(task.name)") { claim in
                // Recorded so a merge that finds this row after a crash can end the check.
                _ = try? store.setCheckClaim(claim, run: task.run, task: task.name)
            }
        } catch {
            try await Blocking.run { try self.undo(task, candidate) }
            return .unusable(MergeMessages.checkCouldNotStart(error))
        }
        if outcome.cancelled { return .interrupted }
        let passed = outcome.taskState == .succeeded
        // A timeout says as much about the machine as about the tree: not remembered.
        if !outcome.timedOut {
            try store.saveCheckVerdict(
                CheckVerdict(tree: tree, command: command, passed: passed, exitCode: outcome.exitCode, log: log))
        }
        if passed { return .passed }
        try await Blocking.run { try self.undo(task, candidate) }
        return .failed(MergeMessages.checkFailed(outcome, candidate: candidate.tip, log: log))
    }

    /// Moves the task's worktree (and so its branch) to the candidate for the check; returns why
    /// it cannot, when it cannot.
    private func moveWorktreeForCheck(_ task: TaskRecord, _ candidate: Candidate) throws -> String? {
        guard FileManager.default.fileExists(atPath: task.worktree) else {
            return MergeMessages.worktreeGoneForCheck(task)
        }
        let worktree = try Repository.openWorkingTree(at: task.worktree)
        guard try worktree.headBranchName() == task.branch else {
            return MergeMessages.worktreeOffBranch(task)
        }
        let status = try worktree.status(includeUntracked: false)
        guard status.isClean else {
            return MergeMessages.worktreeDirtyForCheck(task, paths: status.entries.map(\.path))
        }
        do {
            try worktree.moveHead(
                to: candidate.tip, expecting: candidate.oldTip, message: MergeMessages.checkReflog(task))
        } catch let conflict as CheckoutConflictError {
            return MergeMessages.untrackedInTheWay(conflict.paths)
        }
        return nil
    }
}
