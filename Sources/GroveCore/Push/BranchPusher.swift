import Foundation
import GroveBasics
import GroveGit

/// `grove push`: pushes a run's succeeded task branches to a remote of their repositories,
/// writes a PR body per pushed task and, with `--pr-command`, runs the user's command per task.
///
/// A branch is pushed as `refs/heads/<branch>:refs/heads/<branch>`, never forced except with
/// `--force-with-lease` while the remote's branch is still where grove last pushed it. Every
/// outcome is recorded in the state database (`StateStore.pushes(run:)`). Repositories are
/// pushed at the same time (one connection each, all of its branches at once); PR commands run
/// one at a time per repository.
public struct BranchPusher: Sendable {
    public let options: PushOptions
    public let run: RunRecord
    /// The tasks to push, in run order: succeeded, with commits, and named (when `--task` was given).
    public let tasks: [TaskRecord]
    /// The tasks left out, and why.
    public let notPushed: [PushReport.NotPushed]
    private let store: StateStore
    private let home: GroveHome
    /// Tasks `grove merge` landed, by name, with their base: their branch is gone for a reason.
    private let landed: [String: String]
    private let prCommand: PullRequestCommand?

    /// Checks the request against the state database; throws `PushInputError` (exit 2, nothing
    /// done) for an unknown run or task, or a remote or command that cannot be right.
    public static func prepare(options: PushOptions, store: StateStore, home: GroveHome) throws -> BranchPusher {
        let remote = options.remote
        if remote.trimmingCharacters(in: .whitespaces).isEmpty {
            throw PushInputError("--remote needs the name of one of the repository's remotes, e.g. --remote origin")
        }
        if remote.contains("://") || remote.contains(":") || remote.hasPrefix("/") || remote.hasPrefix(".") {
            throw PushInputError(
                "--remote takes a remote's name, not a URL or path ('\(RepositoryReference.redacted(remote))');"
                    + " add the remote with `git -C <repo> remote add NAME URL`, then use --remote NAME")
        }
        guard Repository.isValidBranchName(remote) else {
            throw PushInputError("'\(remote)' cannot be a remote's name; `git -C <repo> remote` lists them")
        }
        if let command = options.prCommand, command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw PushInputError("--pr-command is empty; give the command to run per task, e.g. \"gh pr create …\"")
        }

        let run: RunRecord
        if let number = options.run {
            guard let found = try store.run(number: number) else {
                throw PushInputError(StateError.noSuchRun(number).localizedDescription)
            }
            run = found
        } else {
            guard let latest = try store.latestRun() else {
                throw PushInputError(StateError.noRuns.localizedDescription)
            }
            run = latest
        }
        let all = try store.tasks(run: run.number)
        let names = all.map(\.name)
        for name in options.tasks where !names.contains(name) {
            let hint = Suggestion.hint(for: name, in: names)
            throw PushInputError(
                "run \(run.number) has no task named '\(name)'\(hint.isEmpty ? ":" : hint) `grove status \(run.number)`"
                    + " lists its tasks")
        }
        let requested = Set(options.tasks)
        let selected = options.tasks.isEmpty ? all : all.filter { requested.contains($0.name) }
        var tasks: [TaskRecord] = []
        var notPushed: [PushReport.NotPushed] = []
        for task in selected {
            if let why = Self.whyNotPushed(task) {
                notPushed.append(
                    PushReport.NotPushed(
                        task: task.name, state: task.state, reason: why, requested: requested.contains(task.name)))
            } else {
                tasks.append(task)
            }
        }
        let landed = try store.merges(run: run.number).compactMapValues { $0.result == .landed ? $0.base : nil }
        return BranchPusher(
            options: options, run: run, tasks: tasks, notPushed: notPushed, store: store, home: home, landed: landed,
            prCommand: options.prCommand.map(PullRequestCommand.init))
    }

    /// Why a task has nothing to push; nil when it has.
    static func whyNotPushed(_ task: TaskRecord) -> String? {
        switch task.state {
        case .succeeded:
            return (task.commits ?? 0) > 0 ? nil : "no commits: the task changed nothing"
        case .queued, .preparing, .running:
            return "the task is \(task.state.rawValue); push it once it has succeeded"
        case .failed, .timedOut, .cancelled, .skipped:
            return
                "the task \(task.state == .timedOut ? "timed out" : task.state.rawValue); only succeeded tasks are pushed"
        }
    }

    /// Pushes every task, writes their PR bodies, runs the PR command, records each outcome.
    /// Cancelling the calling task (Ctrl-C) lets pushes under way finish, ends a running PR
    /// command's group, and starts nothing else.
    public func execute() async -> PushReport {
        let groups = TaskRecord.groupedByRepository(tasks)
        let results = await withTaskGroup(of: [String: PushReport.TaskPush].self) { group in
            for tasks in groups {
                group.addTask { await self.push(tasks) }
            }
            var all: [String: PushReport.TaskPush] = [:]
            for await result in group { all.merge(result) { first, _ in first } }
            return all
        }
        var report = PushReport(
            run: run.number, remote: options.remote, tasks: [], notPushed: notPushed, interrupted: Task.isCancelled)
        for task in tasks {
            if let pushed = results[task.name] {
                report.tasks.append(pushed)
            } else {
                report.interrupted = true
                report.notPushed.append(
                    PushReport.NotPushed(
                        task: task.name, state: task.state, reason: "grove was interrupted before pushing it",
                        requested: options.tasks.contains(task.name)))
            }
        }
        return report
    }

    /// `logs/<run>/<task>.pr.md`.
    public func bodyPath(of task: String) -> String { home.logDirectory(run: run.number) + "/\(task).pr.md" }

    /// `logs/<run>/<task>.pr.log`.
    public func pullRequestLogPath(of task: String) -> String {
        home.logDirectory(run: run.number) + "/\(task).pr.log"
    }

    // MARK: One repository

    /// How one branch fared in its repository, before the PR step.
    struct BranchOutcome: Sendable {
        var state: PushState
        var reason: String?
        /// Where the remote's branch is now (pushed or up to date).
        var commit: ObjectID?
        var body: PullRequestBody?
        /// Why the PR body could not be written.
        var bodyProblem: String?
    }

    /// Pushes the tasks of one repository and runs their PR steps; tasks left out because of
    /// Ctrl-C are missing from the result.
    private func push(_ tasks: [TaskRecord]) async -> [String: PushReport.TaskPush] {
        guard !Task.isCancelled else { return [:] }
        var previous: [String: PushRecord] = [:]
        for task in tasks {
            previous[task.name] = try? store.push(run: run.number, task: task.name, remote: options.remote)
        }
        let known = previous
        // `pushBranches` throws nothing and answers for every task; the fallbacks only keep the
        // compiler content.
        let outcomes = (try? await Blocking.run { self.pushBranches(tasks, previous: known) }) ?? [:]
        var results: [String: PushReport.TaskPush] = [:]
        for task in tasks {
            let outcome =
                outcomes[task.name] ?? BranchOutcome(state: .failed, reason: "grove lost the outcome of this push")
            results[task.name] = await finish(task, outcome: outcome, previous: previous[task.name])
        }
        return results
    }

    /// The libgit2 part, on one thread: find each branch, decide the lease, push them all in one
    /// connection, and write the PR bodies of those now on the remote.
    private func pushBranches(_ tasks: [TaskRecord], previous: [String: PushRecord]) -> [String: BranchOutcome] {
        let remote = options.remote
        let repo = tasks[0].repo
        func all(_ reason: String) -> [String: BranchOutcome] {
            Dictionary(uniqueKeysWithValues: tasks.map { ($0.name, BranchOutcome(state: .failed, reason: reason)) })
        }
        let repository: Repository
        do {
            repository = try Repository.open(at: repo)
        } catch {
            return all("cannot open \(repo): \(Self.describe(error))")
        }
        do {
            guard try repository.remoteURL(named: remote) != nil else {
                return all(
                    "\(repo) has no remote '\(remote)'; add it with"
                        + " `git -C \(ShellWord.quoted(repo)) remote add \(remote) URL`, or name another with --remote")
            }
        } catch {
            return all("cannot read the remote '\(remote)' of \(repo): \(Self.describe(error))")
        }

        var outcomes: [String: BranchOutcome] = [:]
        var tips: [String: ObjectID] = [:]
        for task in tasks {
            do {
                if let tip = try repository.branch(named: task.branch)?.target {
                    tips[task.name] = tip
                } else if let base = landed[task.name] {
                    outcomes[task.name] = BranchOutcome(
                        state: .failed,
                        reason: "\(task.branch) no longer exists: `grove merge` landed it in \(base) and removed it")
                } else {
                    outcomes[task.name] = BranchOutcome(
                        state: .failed, reason: "\(task.branch) no longer exists in \(repo)")
                }
            } catch {
                outcomes[task.name] = BranchOutcome(
                    state: .failed, reason: "cannot read \(task.branch): \(Self.describe(error))")
            }
        }
        let present = tasks.filter { tips[$0.name] != nil }

        // `--force-with-lease`: each branch may replace the remote's only where grove last left
        // it (or, never pushed, only if the remote lacks it); GroveGit checks that on the
        // connection the push goes over, and the remote checks it again as it updates.
        var leases: [String: PushLease] = [:]
        if options.forceWithLease {
            for task in present {
                let expected = previous[task.name]?.commit.flatMap(ObjectID.init(hex:))
                leases["refs/heads/\(task.branch)"] = expected.map(PushLease.at) ?? .absent
            }
        }

        let toPush = present.filter { outcomes[$0.name] == nil }
        guard !toPush.isEmpty else { return outcomes }
        let specs = toPush.map { task in "refs/heads/\(task.branch):refs/heads/\(task.branch)" }
        let results: [PushResult]
        do {
            results = try repository.push(
                to: remote, refspecs: specs, credentials: .forRemote(remote, in: repository), leases: leases)
        } catch {
            // A transport failure says what to do; anything else from libgit2 gets git's view.
            let next =
                error is RemoteError
                ? ""
                : "; see what git says (`git -C \(ShellWord.quoted(repo)) push --dry-run \(remote) \(specs[0])`),"
                    + " then run `grove push \(run.number)` again"
            let reason = "push to \(remote) failed: \(Self.describe(error))\(next)"
            for task in toPush { outcomes[task.name] = BranchOutcome(state: .failed, reason: reason) }
            return outcomes
        }
        let byRefspec = Dictionary(results.map { ($0.refspec, $0.outcome) }) { first, _ in first }
        for (task, spec) in zip(toPush, specs) {
            var outcome: BranchOutcome
            switch byRefspec[spec] {
            case .pushed: outcome = BranchOutcome(state: .pushed, commit: tips[task.name])
            case .upToDate: outcome = BranchOutcome(state: .upToDate, commit: tips[task.name])
            case .rejected(let reason):
                outcome = BranchOutcome(state: .rejected, reason: rejection(reason, task: task))
            case nil:
                outcome = BranchOutcome(
                    state: .failed, reason: "\(remote) did not answer for refs/heads/\(task.branch)")
            }
            if let tip = outcome.commit {
                let body = PullRequestBody.make(task: task, tip: tip, repository: repository)
                outcome.body = body
                outcome.bodyProblem = write(body, to: bodyPath(of: task.name))
            }
            outcomes[task.name] = outcome
        }
        return outcomes
    }

    /// A refusal in the user's terms: the two local verdicts (the remote has commits the branch
    /// lacks) get what to do next; a remote's own reason (a hook) is kept as it is.
    private func rejection(_ reason: String, task: TaskRecord) -> String {
        let remote = options.remote
        if reason.hasPrefix("stale info: ") {
            return "\(reason) (where grove last pushed it); someone else moved \(remote)'s \(task.branch): look at it"
                + " (`git -C \(ShellWord.quoted(task.repo)) fetch \(remote)`) before replacing it, nothing was pushed"
        }
        guard reason == "non-fast-forward" || reason == "fetch first" else {
            let path = (try? Repository.open(at: task.repo).remoteURL(named: remote)) ?? nil
            return Self.refusal(
                reason, remote: remote, remotePath: path, branch: task.branch,
                next: "then run `grove push \(run.number)\(remote == "origin" ? "" : " --remote \(remote)")` again")
                ?? Self.redacted(reason)
        }
        if options.forceWithLease {
            return "\(reason): \(remote)'s \(task.branch) moved while grove was pushing; nothing was replaced"
        }
        return "\(reason): \(remote)'s \(task.branch) has commits the local branch lacks; look at them"
            + " (`git -C \(ShellWord.quoted(task.repo)) fetch \(remote)`), or, if only grove pushed it there,"
            + " replace it with `grove push --force-with-lease`"
    }

    /// A refusal by a local repository with a working tree (`GroveGit.CheckoutPush`) in the user's
    /// terms, git's reason first, then what to do, ending with `next`; nil for any other reason.
    public static func refusal(_ reason: String, remote: String, remotePath: String?, branch: String, next: String)
        -> String?
    {
        let place = remotePath.map { "\(remote) (\(ShellWord.quoted($0)))" } ?? remote
        let directory = ShellWord.quoted(remotePath ?? remote)
        switch reason {
        case "branch is currently checked out":
            return "\(reason): \(place) has \(branch) checked out in its working tree, and git does not move a"
                + " checked-out branch under its files; switch that checkout to another branch"
                + " (`git -C \(directory) switch --detach`), or let pushes move its files too"
                + " (`git -C \(directory) config receive.denyCurrentBranch updateInstead`), \(next)"
        case "deletion of the current branch prohibited":
            return "\(reason): \(place) has \(branch) checked out; switch that checkout to another branch"
                + " (`git -C \(directory) switch --detach`), \(next)"
        case "Working directory has unstaged changes", "Working directory has staged changes":
            return "\(reason): \(place) has \(branch) checked out with uncommitted changes, and"
                + " receive.denyCurrentBranch=updateInstead moves only a clean checkout; commit or stash them there"
                + " (`git -C \(directory) status`), \(next)"
        case "Could not update working tree to new HEAD":
            return "\(reason): untracked files in \(place) are in the way of \(branch)'s new files; move them away"
                + " (`git -C \(directory) status`), \(next)"
        case _ where reason.hasPrefix("cannot lock ref"):
            return "\(reason): someone else moved \(place)'s \(branch) meanwhile; look at it"
                + " (`git fetch \(remote)`), \(next)"
        default:
            return nil
        }
    }

    /// Writes a PR body; the problem when it cannot.
    private func write(_ body: PullRequestBody, to path: String) -> String? {
        do {
            try GroveHome.createPrivateDirectory(atPath: (path as NSString).deletingLastPathComponent)
            try GroveHome.writePrivateFile(Data(body.markdown.utf8), to: path)
            return nil
        } catch {
            return "cannot write \(path): \(Self.describe(error))"
        }
    }

    // MARK: PR step and record

    /// Runs the task's PR step (when asked and the branch is on the remote), records the
    /// outcome, and returns the report's entry.
    private func finish(_ task: TaskRecord, outcome: BranchOutcome, previous: PushRecord?) async -> PushReport.TaskPush
    {
        let remote = options.remote
        let ref = "refs/heads/\(task.branch)"
        var entry = PushReport.TaskPush(
            task: task.name, branch: task.branch, remote: remote, state: outcome.state, reason: outcome.reason)
        var record =
            previous ?? PushRecord(run: run.number, task: task.name, remote: remote, ref: ref, state: outcome.state)
        record.ref = ref
        record.state = outcome.state
        record.reason = outcome.reason
        if let commit = outcome.commit {
            // The remote is known to be here: the next lease expects it.
            record.commit = commit.hex
            entry.commit = commit.hex
            if outcome.bodyProblem == nil {
                record.prBody = bodyPath(of: task.name)
                entry.prBody = record.prBody
            }
        }

        if let command = prCommand, outcome.state.isSuccess {
            if outcome.state == .upToDate, let previous, previous.hasPullRequest, previous.commit == outcome.commit?.hex
            {
                entry.pullRequest = .exists
                entry.prURL = previous.prURL
                entry.prExitCode = previous.prExitCode
                entry.prLog = previous.prLog
            } else if let problem = outcome.bodyProblem {
                entry.pullRequest = .skipped(problem)
            } else if Task.isCancelled {
                entry.pullRequest = .skipped("grove was interrupted")
            } else if let body = outcome.body {
                let values = PullRequestCommand.Values(
                    branch: task.branch, base: task.base, title: body.title, body: bodyPath(of: task.name),
                    repo: Self.repositoryValue(of: task), task: task.name)
                let ran = await command.run(
                    values: values, run: task.run, in: task.repo, log: pullRequestLogPath(of: task.name))
                record.prExitCode = ran.exitCode
                record.prURL = ran.url
                record.prLog = ran.log
                entry.prExitCode = ran.exitCode
                entry.prURL = ran.url
                entry.prLog = ran.log
                if ran.succeeded {
                    entry.pullRequest = .created
                } else if let problem = ran.problem {
                    entry.pullRequest = .failed("could not start: \(problem)")
                } else if let signal = ran.signal {
                    entry.pullRequest = .failed("signal \(signal)")
                } else {
                    entry.pullRequest = .failed("exit \(ran.exitCode ?? -1)")
                }
            }
        }
        do {
            try store.savePush(record)
        } catch {
            entry.recordProblem = "grove could not record this push: \(Self.describe(error))"
        }
        return entry
    }

    /// `{repo}`: where the task's repository comes from: the URL it was cloned from (without
    /// credentials, for `gh pr create --repo {repo}`), else its path.
    static func repositoryValue(of task: TaskRecord) -> String {
        task.source ?? task.repo
    }

    /// An error in words, with credentials in any URL hidden (safety promise 5).
    static func describe(_ error: any Error) -> String {
        redacted(GroveBasics.describe(error))
    }

    /// `text` with the user:password part of every `scheme://user:password@host` hidden.
    static func redacted(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        return text.split(separator: " ", omittingEmptySubsequences: false)
            .map { RepositoryReference.redacted(String($0)) }
            .joined(separator: " ")
    }
}
