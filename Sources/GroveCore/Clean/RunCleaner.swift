import Foundation
import GroveBasics
import GroveGit

/// What `grove clean RUN` was asked.
public struct RunCleanOptions: Sendable {
    /// The run; nil for the latest.
    public var run: Int?
    public var dryRun: Bool
    public var force: Bool
    /// False with `--no-size`.
    public var measureSize: Bool
    public var currentDirectory: String

    public init(
        run: Int? = nil, dryRun: Bool = false, force: Bool = false, measureSize: Bool = true,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.run = run
        self.dryRun = dryRun
        self.force = force
        self.measureSize = measureSize
        self.currentDirectory = currentDirectory
    }
}

/// `grove clean RUN`: removes a finished run's worktrees and the branches whose work is safe
/// elsewhere (landed in base, never committed to, or on a remote); keeps — and lists with the
/// command that removes it — a worktree with uncommitted changes and a branch with commits in
/// neither base nor a remote. Once nothing of the run is left, the run is marked cleaned.
public final class RunCleaner: Sendable {
    public let run: RunRecord
    public let tasks: [TaskRecord]
    public let options: RunCleanOptions
    let store: StateStore
    let home: GroveHome
    /// When `grove merge` found nothing to land in each task, by task name.
    let nothingToLand: [String: Date]

    init(
        run: RunRecord, tasks: [TaskRecord], options: RunCleanOptions, store: StateStore, home: GroveHome,
        nothingToLand: [String: Date] = [:]
    ) {
        self.run = run
        self.tasks = tasks
        self.options = options
        self.store = store
        self.home = home
        self.nothingToLand = nothingToLand
    }

    /// Chooses the run (the latest unless `options.run`). An unknown run throws `StateError`,
    /// a run still going on `CleanInputError`; nothing has changed then.
    public static func prepare(options: RunCleanOptions, store: StateStore, home: GroveHome) throws -> RunCleaner {
        // A run whose grove died is marked interrupted first, so it can be cleaned.
        _ = try? store.markInterrupted()
        let (run, tasks) = try store.runWithTasks(number: options.run)
        if run.state == .running {
            throw CleanInputError(
                "run \(run.number) is still running (grove pid \(run.pid)); wait for it to end"
                    + " (`grove status \(run.number)`), or stop it, then clean it")
        }
        return RunCleaner(
            run: run, tasks: tasks, options: options, store: store, home: home,
            nothingToLand: try store.nothingToLandVerdicts(run: run.number))
    }

    /// Scans the run's worktrees and branches (one repository at a time per thread, repositories
    /// at once), measures sizes, then — unless `--dry-run` — acts under each repository's grove
    /// lock, re-checking everything just before it is removed. `beforeActing` runs between scan
    /// and removal in each repository (tests change a worktree there).
    public func execute(
        control: CleanControl = CleanControl(), beforeActing: (@Sendable (String, [CleanItem]) -> Void)? = nil
    ) async -> CleanReport {
        let groups = TaskRecord.groupedByRepository(tasks)
        let results = await withTaskGroup(of: StaleCleaner.RepositoryResult.self) { group in
            for tasks in groups {
                group.addTask { await self.clean(tasks, control: control, beforeActing: beforeActing) }
            }
            var all: [StaleCleaner.RepositoryResult] = []
            for await result in group { all.append(result) }
            return all
        }
        let items = results.flatMap { $0.items }
        var problems = results.flatMap { $0.problems }
        var cleaned = false
        if !options.dryRun && !control.isStopping && problems.isEmpty && !items.contains(where: \.keepsSomething) {
            rmdir(home.worktrees + "/\(run.number)")  // only an empty one goes
            do {
                try store.markCleaned(run: run.number)
                cleaned = true
            } catch {
                problems.append(
                    CleanProblem(
                        repository: store.path, kind: .unreadable,
                        message: "cannot record that run \(run.number) is cleaned: \(describe(error))"))
            }
        }
        var report = CleanReport(
            mode: .run, run: run.number, dryRun: options.dryRun, sizesMeasured: options.measureSize, items: items,
            problems: problems, cleaned: cleaned)
        report.interrupted = control.isStopping
        return report
    }

    /// The tasks of one repository, from scan to removal.
    private func clean(
        _ tasks: [TaskRecord], control: CleanControl, beforeActing: (@Sendable (String, [CleanItem]) -> Void)?
    ) async -> StaleCleaner.RepositoryResult {
        let path = tasks[0].repo
        var items: [CleanItem]
        let display: String
        do {
            (display, items) = try await Blocking.run { [self] in
                let clean = try CleanRepository(path: path)
                return (clean.display, try scan(tasks, in: clean))
            }
        } catch {
            return unreadable(tasks, error: error)
        }
        if options.measureSize { items = await StaleCleaner.measure(items) }
        beforeActing?(display, items)
        guard !options.dryRun, items.contains(where: StaleCleaner.acts) else {
            return StaleCleaner.RepositoryResult(items: items)
        }
        let home = self.home
        let planned = items
        do {
            items = try await Blocking.run {
                let clean = try CleanRepository(path: path)
                return try StaleCleaner.withRepositoryLock(clean) {
                    CleanActions.apply(planned, in: clean, home: home, control: control)
                }
            }
        } catch let locked as RepositoryLockedError {
            return StaleCleaner.lockedOut(items, locked)
        } catch {
            var result = unreadable(tasks, error: error)
            result.items = items.map { StaleCleaner.untouched($0) }
            return result
        }
        return StaleCleaner.RepositoryResult(items: items)
    }

    /// The repository cannot be opened: nothing of its tasks is touched; each is listed.
    private func unreadable(_ tasks: [TaskRecord], error: any Error) -> StaleCleaner.RepositoryResult {
        let message = describe(error)
        let items = tasks.map { task in
            var item = CleanItem(repository: task.repo, worktree: task.worktree, branch: task.branch, kind: .broken)
            item.keep(.broken, reason: "its repository cannot be opened: \(message)")
            return item
        }
        return StaleCleaner.RepositoryResult(
            items: items,
            problems: [
                CleanProblem(
                    repository: tasks[0].repo, kind: .unreadable, message: message + "; nothing was changed in it")
            ])
    }

    /// Classifies each task's worktree and branch. Reads only.
    func scan(_ tasks: [TaskRecord], in clean: CleanRepository) throws -> [CleanItem] {
        var worktreesByPath: [String: Worktree] = [:]
        var checkedOut: [String: String] = [:]
        if let head = clean.mainHead { checkedOut[head] = clean.display }
        let worktrees = try clean.repository.worktrees()
        let checkouts = clean.checkoutDirectories(worktrees)
        for worktree in worktrees {
            worktreesByPath[canonicalPath(worktree.path)] = worktree
            if worktree.directoryExists, let branch = try? worktree.head().branchName {
                checkedOut[branch] = worktree.path
            }
        }
        return try tasks.map { task in
            try classify(
                task, in: clean, worktree: worktreesByPath[canonicalPath(task.worktree)],
                checkedOut: checkedOut, checkouts: checkouts)
        }
    }

    private func classify(
        _ task: TaskRecord, in clean: CleanRepository, worktree: Worktree?, checkedOut: [String: String],
        checkouts: [String]
    ) throws -> CleanItem {
        var item = CleanItem(repository: clean.display, worktree: task.worktree, branch: task.branch, kind: .gone)
        item.groveBranch = true
        let forceFix = "grove clean \(run.number) --force"
        let path = CleanPaths.quoted(task.worktree)
        var reasons: [String] = []
        // The class that explains what is kept wins over the one that explains what is removed.
        var keptKind: CleanClass?
        var fix: String?
        var worktreeKind: CleanClass?

        if let worktree {
            let head = try worktree.head()
            item.adminName = worktree.name
            item.scannedHead = head.commit
            item.scannedBranch = head.branchName
            if let reason = try worktree.lockReason() {
                item.worktreeAction = .keep
                keptKind = .locked
                reasons.append("its worktree is locked" + (reason.isEmpty ? "" : " (\(reason))"))
                fix = "git worktree unlock \(path), then grove clean \(run.number)"
            } else if let target = CleanPaths.linkTarget(task.worktree) {
                item.worktreeAction = .keep
                keptKind = .broken
                reasons.append("its worktree's folder is now a symbolic link to \(target), which grove never follows")
                fix = "rm \(path) (the link alone), then grove clean \(run.number)"
            } else if !worktree.directoryExists {
                if case .detached(let commit) = head, try clean.commitsOnNoRef(commit) > 0 {
                    item.worktreeAction = options.force ? .prune : .keep
                    worktreeKind = .unmerged
                    if !options.force { keptKind = .unmerged }
                    reasons.append(
                        "its worktree's directory is gone, and its detached HEAD \(commit.short) is on no branch")
                    fix = forceFix
                } else {
                    item.worktreeAction = .prune
                    worktreeKind = .missing
                    reasons.append("its worktree's directory is gone")
                }
            } else if isPath(
                canonicalPath(options.currentDirectory), inside: canonicalPath(worktree.path))
            {
                item.worktreeAction = .keep
                keptKind = .current
                reasons.append("the current directory is inside its worktree")
                fix = "cd elsewhere, then grove clean \(run.number)"
            } else if let inner = CleanPaths.firstInside(canonicalPath(worktree.path), among: checkouts) {
                item.worktreeAction = .keep
                keptKind = .nested
                reasons.append("\(inner) lives inside its worktree, and removing it would delete that too")
                fix = "move or remove \(CleanPaths.quoted(inner)), then grove clean \(run.number)"
            } else {
                let status = try worktree.openRepository().status()
                let submodules = CleanRepository.hasSubmodules(worktree)
                if !status.isClean && !submodules, let start = halfMade(task, at: task.worktree, in: clean) {
                    // Cut off while its checkout wrote the files: nothing in it but those.
                    item.worktreeAction = .remove
                    item.discardChanges = true
                    item.halfMadeStart = start
                    worktreeKind = .halfMade
                    reasons.append(Self.halfMadeReason)
                    item.saysWhy = true
                } else if !status.isClean || submodules {
                    let paths = status.entries.map(\.path)
                    if !paths.isEmpty {
                        reasons.append(
                            "\(paths.count) uncommitted change\(paths.count == 1 ? "" : "s")"
                                + " (\(summarize(paths, limit: 3)))")
                    }
                    if submodules { reasons.append("initialized submodules, whose repositories would go with it") }
                    worktreeKind = .dirty
                    if options.force {
                        item.worktreeAction = .remove
                        item.discardChanges = true
                    } else {
                        item.worktreeAction = .keep
                        keptKind = .dirty
                        fix =
                            "commit what is worth keeping in \(path), then `grove merge \(run.number)`;"
                            + " `\(forceFix)` discards it"
                    }
                } else if head.branchName == nil, let commit = head.commit, try clean.commitsOnNoRef(commit) > 0 {
                    reasons.append("its detached HEAD \(commit.short) holds commits on no branch")
                    worktreeKind = .unmerged
                    item.worktreeAction = options.force ? .remove : .keep
                    if !options.force {
                        keptKind = .unmerged
                        fix = forceFix
                    }
                } else {
                    item.worktreeAction = .remove
                    worktreeKind = .clean
                }
            }
        } else if CleanPaths.linkTarget(task.worktree) == nil, let start = halfMade(task, at: task.worktree, in: clean)
        {
            item.worktreeAction = .remove
            item.halfMadeStart = start
            worktreeKind = .halfMade
            reasons.append(Self.halfMadeReason)
            item.saysWhy = true
        } else if FileManager.default.fileExists(atPath: task.worktree) {
            item.worktreeAction = .keep
            keptKind = .orphan
            reasons.append("\(task.worktree) is no longer a worktree git knows of")
            fix = "look inside \(path), then delete it by hand"
        } else {
            item.worktree = nil
        }

        var branchKind: CleanClass?
        if let tip = try clean.repository.branch(named: task.branch)?.target {
            item.branchTip = tip
            item.head = tip.hex
            let start = task.baseCommit.flatMap { ObjectID(hex: $0) }
            let base = clean.base(for: task.base)
            let elsewhere = checkedOut[task.branch].flatMap {
                canonicalPath($0) == canonicalPath(task.worktree) ? nil : $0
            }
            if item.worktreeAction == .keep {
                item.branchAction = .keep
            } else if let elsewhere {
                item.branchAction = .keep
                keptKind = keptKind ?? .checkedOut
                reasons.append("its branch is checked out in \(elsewhere)")
                fix = fix ?? "switch \(elsewhere) to another branch, then grove clean \(run.number)"
            } else if try clean.commitsBeyond(tip, base: base, also: start.map { [$0] } ?? []) == 0 {
                item.branchAction = .delete
                branchKind = tip == start ? .empty : .merged
                reasons.append(tip == start ? "no commits" : "landed in \(base)")
            } else if let landed = try clean.changesInBase(
                tip, branch: task.branch, base: base, start: start, verdict: verdict(of: task))
            {
                item.branchAction = .delete
                branchKind = .merged
                reasons.append(landed)
                item.saysWhy = true
            } else {
                let atRisk = try clean.commitsAtRisk(tip, base: base, also: start.map { [$0] } ?? [])
                if atRisk == 0 {
                    item.branchAction = .delete
                    branchKind = .pushed
                    reasons.append("its commits are on a remote")
                } else {
                    branchKind = .unmerged
                    reasons.append("\(CleanRepository.commits(atRisk)) in neither \(base) nor a remote")
                    if options.force {
                        item.branchAction = .delete
                    } else {
                        item.branchAction = .keep
                        keptKind = keptKind ?? .unmerged
                        // Landing it is the safe next step; --force deletes the work.
                        fix =
                            fix
                            ?? "land it with `grove merge \(run.number)`, or delete it and its"
                            + " \(CleanRepository.commits(atRisk)) with `\(forceFix)`"
                    }
                }
            }
        }

        item.kind =
            keptKind ?? ([.dirty, .unmerged, .missing, .halfMade].contains(worktreeKind) ? worktreeKind : nil)
            ?? branchKind
            ?? worktreeKind ?? .gone
        if item.kind == .gone { item.worktree = nil }
        item.reason = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        item.fix = fix
        return item
    }

    static let halfMadeReason =
        "a killed grove left its worktree half-made (the task never ran; it holds only what the checkout wrote)"

    /// The commit a half-made worktree's checkout wrote, when the folder at `path` is one: no
    /// attempt of the task ever ran (so no setup or command wrote there), and it holds nothing
    /// but what adding the worktree at the task's start commit writes (`holdsOnlyCheckout`).
    /// Anything else is someone's, and kept.
    private func halfMade(_ task: TaskRecord, at path: String, in clean: CleanRepository) -> ObjectID? {
        guard task.attempts == 0, let start = task.baseCommit.flatMap({ ObjectID(hex: $0) }),
            (try? clean.repository.holdsOnlyCheckout(of: start, at: path)) == true
        else { return nil }
        return start
    }

    /// What `grove merge` recorded of the task, when it found nothing to land.
    private func verdict(of task: TaskRecord) -> CleanRepository.Verdict? {
        guard let at = nothingToLand[task.name], let head = task.headCommit.flatMap({ ObjectID(hex: $0) }) else {
            return nil
        }
        return CleanRepository.Verdict(at: at, head: head)
    }
}
