import Foundation
import GroveGit

/// One repository's merge queue: its tasks one at a time, each rebased in memory onto the
/// current base tip, optionally checked, landed by compare-and-swap, then cleaned up. Every
/// step is journaled before it acts (`MergeRecord.step`), and a queue starts by reconciling
/// what a merge that died left in the journal with the real refs.
///
/// libgit2 work runs through `Blocking.run`, each call opening its own `Repository`: handles
/// never cross threads or an `await`.
final class RepositoryQueue: Sendable {
    let repo: String
    let run: RunRecord
    /// This repository's queued tasks, in the order they are to land.
    let tasks: [TaskRecord]
    /// With `--push`: each base and its remote.
    let pushes: [(base: String, remote: String)]
    let options: MergeOptions
    let store: StateStore
    let home: GroveHome
    let observer: any MergeObserver
    let control: RunControl
    /// Where landed tasks' worktrees go to be deleted in the background; nil: deleted in place.
    let trash: WorktreeTrash?
    /// How checks are started, and how a dead merge's check is ended.
    let launcher: any TaskLauncher

    init(
        repo: String, run: RunRecord, tasks: [TaskRecord], pushes: [(base: String, remote: String)] = [],
        options: MergeOptions, store: StateStore, home: GroveHome, observer: any MergeObserver, control: RunControl,
        trash: WorktreeTrash? = nil, launcher: any TaskLauncher = LocalGroupLauncher()
    ) {
        self.launcher = launcher
        self.repo = repo
        self.run = run
        self.tasks = tasks
        self.pushes = pushes
        self.options = options
        self.store = store
        self.home = home
        self.observer = observer
        self.control = control
        self.trash = trash
    }

    /// Runs the queue to its end (or its stop) and reports every task of it.
    func execute() async -> RepositoryMergeReport {
        var report = RepositoryMergeReport(repo: repo, source: tasks.first?.source)
        // Tasks of the run an earlier merge landed count as landed dependencies, in any queue.
        let landedEarlier = ((try? store.merges(run: run.number)) ?? [:]).values
            .filter { $0.step == .cleaned && $0.result == .landed }.map(\.task)
        var dependencies = DependencyResults(landed: landedEarlier)
        func add(_ outcome: TaskMergeOutcome, blockedBy blockage: DependencyResults.Blockage? = nil) {
            report.tasks.append(outcome)
            dependencies.record(outcome.task, outcome.result, blockedBy: blockage)
            finished(outcome)
        }
        var recovered: [String: TaskMergeOutcome] = [:]
        do {
            recovered = try await reconcile()
        } catch {
            report.stopped = "could not finish the merge that was interrupted here: \(describe(error))"
        }
        var ordered = tasks
        if options.order == .planned && report.stopped == nil {
            do {
                let (repo, tasks, committer) = (self.repo, self.tasks, options.committer)
                let plan = try await Blocking.run {
                    try MergePlanner.plan(
                        repo: repo, tasks: tasks, order: .planned, committer: committer, simulate: false)
                }
                let byName = Dictionary(tasks.map { ($0.name, $0) }) { first, _ in first }
                ordered = plan.tasks.compactMap { byName[$0.task] }
            } catch {
                report.stopped = "could not work out the planned order: \(describe(error))"
            }
        }
        for task in ordered {
            // Landed (by recovery, or by an earlier merge) is reported as landed even after a stop.
            if let outcome = recovered[task.name] {
                add(outcome)
                continue
            }
            do {
                if let earlier = try store.merge(run: run.number, task: task.name), earlier.step == .cleaned,
                    earlier.result == .landed
                {
                    add(Self.outcome(of: earlier, earlier: true))
                    continue
                }
                if report.stopped != nil || control.isStopping {
                    add(outcome(task, .notReached))
                    continue
                }
                // A dependent whose dependency did not land is not tried: its branch is left as
                // it is, and the next `grove merge` tries it again.
                if let blockage = dependencies.blockage(of: task) {
                    add(try block(task, blockage), blockedBy: blockage)
                    continue
                }
                let outcome = try await process(task)
                add(outcome)
                if outcome.result == .conflict && options.onConflict == .stop {
                    report.stopped =
                        "stopped at \(task.name)'s conflict (--on-conflict stop); resolve it, then run `grove merge` again"
                }
            } catch let stop as QueueStop {
                add(outcome(task, .notReached, reason: stop.message))
                report.stopped = stop.message
            } catch {
                var reason = describe(error)
                if (error as? GitError)?.isLocked == true {
                    reason +=
                        "; another git is writing there, or one that died left its lock file:"
                        + " if no git runs in \(repo), remove that file, then run `grove merge` again"
                }
                add(outcome(task, .error, reason: reason))
                // An unexpected failure may have left the task half-way: stop here, so the next
                // `grove merge` reconciles it before anything else moves.
                if report.stopped == nil { report.stopped = "stopped after an error at \(task.name): \(reason)" }
            }
        }
        if let stopped = report.stopped {
            var event = MergeEvent(.queueStopped, run: run.number, repo: repo)
            event.reason = stopped
            observer.handle(event)
        }
        // What landed is pushed even when the queue stopped later; not after Ctrl-C.
        if !control.isStopping {
            for push in pushes { report.pushes.append(await self.push(push.base, to: push.remote)) }
        }
        return report
    }

    /// Pushes one base (`refs/heads/<base>`, never forced: a remote that moved on is refused).
    private func push(_ base: String, to remote: String) async -> BasePush {
        let repo = self.repo
        var result = BasePush(base: base, remote: remote, outcome: "rejected", reason: nil)
        do {
            let reference = "refs/heads/\(base)"
            let pushed = try await Blocking.run {
                let repository = try Repository.open(at: repo)
                return try repository.push(
                    to: remote, refspecs: ["\(reference):\(reference)"],
                    credentials: .forRemote(remote, in: repository))
            }
            switch pushed.first?.outcome {
            case .pushed: result.outcome = "pushed"
            case .upToDate: result.outcome = "up_to_date"
            case .rejected(let reason):
                let path = (try? Repository.open(at: repo).remoteURL(named: remote)) ?? nil
                result.reason =
                    BranchPusher.refusal(
                        reason, remote: remote, remotePath: path, branch: base,
                        next: "then push it yourself (`git -C \(ShellWord.quoted(repo)) push \(remote) \(base)`)")
                    ?? "\(reason): \(remote) has commits \(base) lacks; fetch them, bring \(base) up to date,"
                    + " then push it yourself"
            case nil: result.reason = "the remote did not answer for \(reference)"
            }
        } catch {
            result.reason =
                describe(error)
                + (error is RemoteError
                    ? "" : "; push it yourself (`git -C \(ShellWord.quoted(repo)) push \(remote) \(base)`)")
        }
        var event = MergeEvent(.basePushed, run: run.number, repo: repo)
        event.base = base
        event.result = result.outcome
        event.reason = result.reason
        observer.handle(event)
        return result
    }

    // MARK: One task

    /// Parks a task whose dependency did not land as `blocked`, touching nothing of it.
    private func block(_ task: TaskRecord, _ blockage: DependencyResults.Blockage) throws -> TaskMergeOutcome {
        var record = newRecord(task, step: .parked)
        record.result = .blocked
        record.reason = blockage.reason
        try store.saveMerge(record)
        return Self.outcome(of: record)
    }

    /// Takes one task through the queue and returns its result. Throws `QueueStop` when the
    /// queue must stop before the task could land (everything it moved is put back first).
    private func process(_ task: TaskRecord) async throws -> TaskMergeOutcome {
        var event = MergeEvent(.taskRebasing, run: run.number, repo: repo, task: task.name)
        event.base = task.base
        observer.handle(event)
        // Base may move outside grove between the rebase and the landing: then the task is
        // prepared again on the new tip, a few times at most.
        for _ in 0..<5 {
            let preparation = try await Blocking.run { try self.prepare(task) }
            let candidate: Candidate
            switch preparation {
            case .finished(let outcome):
                var record = newRecord(task, step: .parked)
                record.result = outcome.result
                record.conflicts = outcome.conflicts
                record.reason = outcome.reason
                try store.saveMerge(record)
                return outcome
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
                    record.step = .parked
                    record.result = .checkFailed
                    record.reason = reason
                    try store.saveMerge(record)
                    return Self.outcome(of: record)
                case .unusable(let reason):
                    record.step = .parked
                    record.result = .error
                    record.reason = reason
                    try store.saveMerge(record)
                    return Self.outcome(of: record)
                case .interrupted:
                    try await Blocking.run { try self.undo(task, candidate) }
                    try store.deleteMerge(run: task.run, task: task.name)
                    throw QueueStop("interrupted during \(task.name)'s check; run `grove merge` again to go on")
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
                try await Blocking.run { try self.undo(task, candidate) }
                try store.deleteMerge(run: task.run, task: task.name)
                throw stop
            }
        }
        throw QueueStop(
            "\(task.base) in \(repo) kept moving while \(task.name) was landing; run `grove merge` again when it settles"
        )
    }

    /// What rebasing the task onto the current base tip gives.
    private enum Preparation {
        case candidate(Candidate)
        /// A result that needs no landing: conflict, nothing to land, or an error.
        case finished(TaskMergeOutcome)
    }

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

    /// Rebases the task's commits (a dependent's own only) onto the current base tip in memory:
    /// no ref, index or file changes, only new commit objects.
    private func prepare(_ task: TaskRecord) throws -> Preparation {
        let repository = try Repository.open(at: repo)
        guard let base = try repository.branch(named: task.base) else {
            return .finished(
                outcome(
                    task, .error,
                    reason:
                        "its base \(task.base) no longer exists in \(repo); recreate it, then run `grove merge` again"
                ))
        }
        guard let tip = try repository.branch(named: task.branch)?.target else {
            return .finished(
                outcome(
                    task, .error,
                    reason: "its branch \(task.branch) no longer exists in \(repo); nothing is left to land"))
        }
        let start = Pipeline.start(of: task)
        switch try Rebasing.rebase(tip, onto: base.target, start: start, in: repository, committer: options.committer) {
        case .nothingToLand(let empty):
            let reason =
                switch empty {
                case .inBase: "\(task.base) already has all of its commits"
                case .alreadyApplied: "its changes are already in \(task.base)"
                case .noOwnCommits: "it has no commits of its own beyond its dependencies'"
                }
            return .finished(outcome(task, .nothingToLand, reason: reason))
        case .conflict(let commit, let paths):
            let summary = (try? repository.commit(commit).summary).map { " (\($0))" } ?? ""
            // A dependent replayed only its own commits: the same is what to do by hand.
            let own = try Rebasing.upstream(of: tip, start: start, baseTip: base.target, in: repository)
            let fix =
                own.map {
                    "rebase its own commits onto \(task.base) yourself"
                        + " (`git -C \(task.worktree) rebase --onto \(task.base) \($0.short)`)"
                } ?? "rebase \(task.branch) onto \(task.base) yourself"
            var parked = outcome(
                task, .conflict,
                reason: "commit \(commit.short)\(summary) does not apply on \(task.base) at \(base.target.short);"
                    + " \(fix), then run `grove merge` again")
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
                message: "grove merge: land \(task.name) (run \(task.run))", repository: repository)
        } catch is ReferenceMovedError {
            throw BaseMoved()
        }
        Failpoint.hit("base-moved")

        record.step = .landed
        try store.saveMerge(record)
        Failpoint.hit("landed")
        record.reason = try cleanUp(task, candidate, record: &record, repository: repository)
        record.step = .cleaned
        record.result = .landed
        try store.saveMerge(record)
        Failpoint.hit("cleaned")
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
            return "\(task.branch) moved meanwhile (to \(current.short)); left as it is"
        }
        if options.keep {
            return try moveBranch(task, from: current, to: candidate.tip, repository: repository)
        }
        let alreadyVerified = record.step == .cleaning
        if let worktree = try repository.worktree(atPath: task.worktree) {
            if !alreadyVerified {
                if let reason = try worktree.lockReason() {
                    let note = try moveBranch(task, from: current, to: candidate.tip, repository: repository)
                    return "worktree \(worktree.path) kept: it is locked"
                        + (reason.isEmpty ? "" : " (\(reason))") + (note.map { "; \($0)" } ?? "")
                }
                if worktree.isValid {
                    let status = try worktree.openRepository().status()
                    if !status.isClean {
                        let note = try moveBranch(task, from: current, to: candidate.tip, repository: repository)
                        return "worktree \(worktree.path) kept: it has uncommitted changes"
                            + " (\(Self.summarize(status.entries.map(\.path))));"
                            + " commit them, or remove it with `grove clean --force`" + (note.map { "; \($0)" } ?? "")
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
            let note = try moveBranch(task, from: current, to: candidate.tip, repository: repository)
            return "\(task.branch) kept: it is checked out in \(elsewhere.joined(separator: ", "))"
                + (note.map { "; \($0)" } ?? "")
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
        let message = "grove merge: \(task.name) landed on \(task.base)"
        if let worktree = try openOnBranch(task, in: repository) {
            do {
                try worktree.moveHead(to: tip, expecting: current, message: message)
            } catch let conflict as CheckoutConflictError {
                return "\(task.branch) left at \(current.short): local changes in \(conflict.worktree) are in the way"
                    + " (\(Self.summarize(conflict.paths)))"
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
    private func undo(_ task: TaskRecord, _ candidate: Candidate) throws {
        let repository = try Repository.open(at: repo)
        guard candidate.tip != candidate.oldTip,
            try repository.branch(named: task.branch)?.target == candidate.tip
        else { return }
        let message = "grove merge: put \(task.name) back"
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

    // MARK: Check

    private enum CheckOutcome {
        case passed
        case failed(String)
        /// The worktree cannot take the check (gone, off its branch, local changes).
        case unusable(String)
        case interrupted
    }

    /// Brings the task's worktree to the candidate and runs the check there as its own process
    /// group (the run's timeout, output to `logs/<run>/<task>.check.log`). A verdict for the
    /// candidate's tree and this command is reused: the same tree is never checked twice.
    private func check(
        _ task: TaskRecord, _ candidate: Candidate, command: String, record: inout MergeRecord
    ) async throws -> CheckOutcome {
        let repo = self.repo
        let tree = try await Blocking.run { try Repository.open(at: repo).commit(candidate.tip).tree.hex }
        if let verdict = try store.checkVerdict(tree: tree, command: command) {
            record.checkCached = true
            record.checkLog = verdict.log
            return verdict.passed
                ? .passed
                : .failed(
                    "the check failed on this same tree before (\(Self.ending(verdict.exitCode)));"
                        + " see \(verdict.log ?? "its log")")
        }
        let log = home.logs + "/\(task.run)/\(task.name).check.log"
        var event = MergeEvent(.taskChecking, run: run.number, repo: repo, task: task.name)
        event.commit = candidate.tip.hex
        event.log = log
        observer.handle(event)

        if let problem = try await Blocking.run({ try self.moveWorktreeForCheck(task, candidate) }) {
            return .unusable(problem)
        }
        record.checkLog = log
        Failpoint.hit("checking")
        Self.appendLine(
            "[grove] check: \(command) (candidate \(candidate.tip.short), tree \(String(tree.prefix(7))))", to: log)
        let spec = ProcessSpec(
            command: .shell(command), workingDirectory: task.worktree,
            environment: checkEnvironment(task, candidate), unsetEnvironment: TaskEnvironment.removed,
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
            return .unusable("the check could not start: \(describe(error))")
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
        let ending =
            outcome.timedOut
            ? "ran past the run's timeout" : Self.ending(outcome.exitCode, signal: outcome.signal)
        return .failed("the check \(ending) on the candidate \(candidate.tip.short); see \(log)")
    }

    /// Moves the task's worktree (and so its branch) to the candidate for the check; returns why
    /// it cannot, when it cannot.
    private func moveWorktreeForCheck(_ task: TaskRecord, _ candidate: Candidate) throws -> String? {
        guard FileManager.default.fileExists(atPath: task.worktree) else {
            return "its worktree \(task.worktree) is gone, and --check runs there;"
                + " run `grove merge` without --check to land it unchecked"
        }
        let worktree = try Repository.openWorkingTree(at: task.worktree)
        guard try worktree.headBranchName() == task.branch else {
            return "its worktree \(task.worktree) is no longer on \(task.branch);"
                + " run `git -C \(task.worktree) switch \(task.branch)`, then `grove merge` again"
        }
        let status = try worktree.status(includeUntracked: false)
        guard status.isClean else {
            return
                "its worktree \(task.worktree) has uncommitted changes (\(Self.summarize(status.entries.map(\.path))));"
                + " commit or discard them so the check sees exactly the candidate"
        }
        do {
            try worktree.moveHead(
                to: candidate.tip, expecting: candidate.oldTip, message: "grove merge: check \(task.name)")
        } catch let conflict as CheckoutConflictError {
            return "untracked files in its worktree are in the candidate's way (\(Self.summarize(conflict.paths)));"
                + " remove them, then run `grove merge` again"
        }
        return nil
    }

    private func checkEnvironment(_ task: TaskRecord, _ candidate: Candidate) -> [String: String] {
        [
            "GROVE_RUN": String(task.run), "GROVE_TASK": task.name, "GROVE_INSTRUCTIONS": task.instructions ?? "",
            "GROVE_REPO": task.repo, "GROVE_BASE": task.base, "GROVE_BRANCH": task.branch,
            "GROVE_WORKTREE": task.worktree, "GROVE_CANDIDATE": candidate.tip.hex,
        ]
    }

    // MARK: Recovery

    /// Finishes or undoes what a merge that died left in this repository's journal: base at
    /// the candidate (or past it) → the task landed, clean up; base anywhere else → nothing
    /// landed, the branch goes back to its old tip and the task is tried afresh. Returns the
    /// outcomes of this run's tasks that recovery finished.
    private func reconcile() async throws -> [String: TaskMergeOutcome] {
        var finished: [String: TaskMergeOutcome] = [:]
        for row in try store.inFlightMerges(repo: repo) {
            // The dead merge's check may still run in the worktree we are about to move.
            if let claim = row.checkClaim { await launcher.reap(claim) }
            let repo = self.repo
            let removed = try await Blocking.run { try Self.removeStaleLocks(of: row, in: repo) }
            let outcome = try await Blocking.run { try self.recover(row) }
            var event = MergeEvent(.taskRecovered, run: row.run, repo: repo, task: row.task)
            event.result = outcome?.result.rawValue
            event.reason =
                (outcome == nil
                    ? "an interrupted merge had not landed it; it is tried again"
                    : "an interrupted merge had landed it; cleaned up")
                + (removed.isEmpty ? "" : " (removed the lock files it left: \(removed.joined(separator: ", ")))")
            observer.handle(event)
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
        record.reason = try cleanUp(task, candidate, record: &record, repository: repository)
        record.step = .cleaned
        record.result = .landed
        record.checkClaim = nil
        try store.saveMerge(record)
        return Self.outcome(of: record)
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

    // MARK: Records and words

    private func newRecord(_ task: TaskRecord, step: MergeStep) -> MergeRecord {
        MergeRecord(run: task.run, task: task.name, repo: repo, base: task.base, branch: task.branch, step: step)
    }

    private func outcome(_ task: TaskRecord, _ result: MergeResult, reason: String? = nil) -> TaskMergeOutcome {
        TaskMergeOutcome(task: task.name, base: task.base, branch: task.branch, result: result, reason: reason)
    }

    /// A journal row as a result line.
    static func outcome(of record: MergeRecord, earlier: Bool = false) -> TaskMergeOutcome {
        let landed = record.result == .landed
        return TaskMergeOutcome(
            task: record.task, base: record.base, branch: record.branch, result: record.result ?? .notReached,
            commit: landed ? record.candidate : nil, commits: landed ? record.commits : nil,
            conflicts: record.conflicts, reason: record.reason, checkLog: record.checkLog,
            checkCached: record.checkCached, earlier: earlier)
    }

    private func finished(_ outcome: TaskMergeOutcome) {
        var event = MergeEvent(.taskFinished, run: run.number, repo: repo, task: outcome.task)
        event.base = outcome.base
        event.result = outcome.result.rawValue
        event.commit = outcome.commit
        event.commits = outcome.commits
        event.conflicts = outcome.conflicts.isEmpty ? nil : outcome.conflicts
        event.log = outcome.checkLog
        event.cached = outcome.checkCached ? true : nil
        event.reason = outcome.reason
        event.earlier = outcome.earlier ? true : nil
        observer.handle(event)
    }

    private static func ending(_ exitCode: Int32?, signal: Int32? = nil) -> String {
        if let exitCode { return "exited \(exitCode)" }
        if let signal { return "was killed by signal \(signal)" }
        return "failed"
    }

    static func summarize(_ paths: [String], limit: Int = 5) -> String {
        paths.prefix(limit).joined(separator: ", ") + (paths.count > limit ? ", …" : "")
    }

    private static func appendLine(_ line: String, to path: String) {
        try? GroveHome.createPrivateDirectory(atPath: (path as NSString).deletingLastPathComponent)
        guard let handle = FileHandle(forWritingAtPath: path) ?? createAndOpen(path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }

    private static func createAndOpen(_ path: String) -> FileHandle? {
        GroveHome.createPrivateFile(atPath: path)
        return FileHandle(forWritingAtPath: path)
    }
}

/// The queue must stop before the current task lands; the message says why and what to do.
struct QueueStop: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Base moved between the rebase and the landing (compare-and-swap lost): prepare again.
struct BaseMoved: Error {}

/// An error's message for a person.
func describe(_ error: any Error) -> String {
    (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
}
