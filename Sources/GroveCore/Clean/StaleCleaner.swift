import Foundation
import GroveGit
import Synchronization

/// What `grove clean --stale` was asked.
public struct StaleCleanOptions: Sendable {
    /// `--repo`, as given (relative to `currentDirectory`).
    public var repositories: [String]
    /// `--scan`, as given.
    public var scanDirectories: [String]
    /// `--depth`: levels below each scanned directory searched for repositories.
    public var depth: Int?
    /// `--older-than`, as given (e.g. `14d`).
    public var olderThan: String?
    public var dryRun: Bool
    public var force: Bool
    /// False with `--no-size`.
    public var measureSize: Bool
    public var currentDirectory: String
    /// The time ages are measured against.
    public var now: Date

    public init(
        repositories: [String] = [], scanDirectories: [String] = [], depth: Int? = nil, olderThan: String? = nil,
        dryRun: Bool = false, force: Bool = false, measureSize: Bool = true,
        currentDirectory: String = FileManager.default.currentDirectoryPath, now: Date = Date()
    ) {
        self.repositories = repositories
        self.scanDirectories = scanDirectories
        self.depth = depth
        self.olderThan = olderThan
        self.dryRun = dryRun
        self.force = force
        self.measureSize = measureSize
        self.currentDirectory = currentDirectory
        self.now = now
    }

    /// How long a clean worktree with nothing beyond base must be untouched to be `abandoned`.
    public static let defaultOlderThan = "14d"
    /// How deep `--scan` looks by default: `DIR/org/repo` is 2.
    public static let defaultDepth = 3
}

/// `grove clean --stale`: every linked worktree of every repository in scope, made by grove or
/// by anything else, classified from git's own data, and removed when that loses nothing.
/// Repositories are scanned (and cleaned) concurrently, each on one of grove's blocking threads.
public final class StaleCleaner: Sendable {
    /// A repository to clean: the path it was named or found by, opened later.
    struct Target: Sendable, Equatable {
        var path: String
    }

    let targets: [Target]
    let options: StaleCleanOptions
    let olderThan: TimeInterval
    let knowledge: CleanKnowledge
    let home: GroveHome?
    /// Repositories grove's state names that no longer exist.
    let vanished: [String]

    init(
        targets: [Target], options: StaleCleanOptions, olderThan: TimeInterval, knowledge: CleanKnowledge,
        home: GroveHome?, vanished: [String]
    ) {
        self.targets = targets
        self.options = options
        self.olderThan = olderThan
        self.knowledge = knowledge
        self.home = home
        self.vanished = vanished
    }

    /// The repositories in scope: `--repo`, those found by `--scan`, or (with neither) every
    /// repository grove's state knows. Checks every flag first: bad input throws
    /// `CleanInputError` and nothing has changed. `store` is nil when grove never ran here.
    public static func prepare(options: StaleCleanOptions, store: StateStore?, home: GroveHome?) throws
        -> StaleCleaner
    {
        let text = options.olderThan ?? StaleCleanOptions.defaultOlderThan
        guard let duration = TaskDuration.parse(text) else {
            throw CleanInputError(
                "--older-than \"\(text)\" is not a duration; use a positive one like 14d, 36h or 90m")
        }
        if let depth = options.depth {
            guard !options.scanDirectories.isEmpty else {
                throw CleanInputError("--depth applies to --scan; add --scan DIR, or leave --depth out")
            }
            guard depth >= 0 else { throw CleanInputError("--depth \(depth) is negative; use 0 or more") }
        }

        var targets: [Target] = []
        var seen: Set<String> = []
        func add(_ path: String) {
            if seen.insert(CleanPaths.canonical(path)).inserted { targets.append(Target(path: path)) }
        }
        for given in options.repositories {
            let path = CleanPaths.absolute(given, from: options.currentDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CleanInputError(
                    "--repo \(given): no such directory (\(path)); give the path of a git repository")
            }
            do {
                add(try CleanRepository(path: path).display)
            } catch {
                throw CleanInputError("--repo \(given): \(CleanActions.describe(error))")
            }
        }
        for given in options.scanDirectories {
            let path = CleanPaths.absolute(given, from: options.currentDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CleanInputError(
                    "--scan \(given): no such directory (\(path)); give a directory that holds repositories")
            }
            let depth = options.depth ?? StaleCleanOptions.defaultDepth
            for found in RepositoryFinder.repositories(under: path, depth: depth) { add(found) }
        }

        let knowledge = try store?.cleanKnowledge() ?? CleanKnowledge()
        var vanished: [String] = []
        if options.repositories.isEmpty && options.scanDirectories.isEmpty {
            guard store != nil else {
                let place = home.map { " in \($0.path)" } ?? ""
                throw CleanInputError(
                    "grove has no record of any repository yet\(place); name them with --repo R or --scan DIR")
            }
            for repository in knowledge.repositories {
                if FileManager.default.fileExists(atPath: repository) {
                    add(repository)
                } else {
                    vanished.append(repository)
                }
            }
        }
        return StaleCleaner(
            targets: targets, options: options, olderThan: Double(duration.components.seconds), knowledge: knowledge,
            home: home, vanished: vanished)
    }

    /// The repositories that will be scanned, in the order found.
    public var repositoryPaths: [String] { targets.map(\.path) }

    /// Scans every repository, measures sizes, then (unless `--dry-run`) removes what is stale,
    /// each repository under its grove lock. `beforeActing` runs between the scan and the
    /// removals of each repository (tests use it to change a worktree at the worst moment).
    public func execute(
        control: CleanControl = CleanControl(), beforeActing: (@Sendable (String, [CleanItem]) -> Void)? = nil
    ) async -> CleanReport {
        let claimed = Claims()
        let results = await withTaskGroup(of: RepositoryResult.self) { group in
            for target in targets {
                group.addTask {
                    await self.clean(target, claimed: claimed, control: control, beforeActing: beforeActing)
                }
            }
            var all: [RepositoryResult] = []
            for await result in group { all.append(result) }
            return all
        }
        var problems = results.flatMap { $0.problems }
        problems += vanished.map {
            CleanProblem(
                repository: $0, kind: .vanished, message: "it no longer exists; grove's records of it are kept")
        }
        var report = CleanReport(
            mode: .stale, dryRun: options.dryRun, sizesMeasured: options.measureSize,
            items: results.flatMap { $0.items }, problems: problems)
        report.interrupted = control.isStopping
        return report
    }

    /// Repositories already taken by one of the concurrent cleans, by canonical common directory.
    final class Claims: Sendable {
        private let keys = Mutex<Set<String>>([])

        /// True the first time `key` is claimed.
        func claim(_ key: String) -> Bool {
            keys.withLock { $0.insert(key).inserted }
        }
    }

    struct RepositoryResult: Sendable {
        var items: [CleanItem] = []
        var problems: [CleanProblem] = []
    }

    /// One repository from scan to removal.
    private func clean(
        _ target: Target, claimed: Claims, control: CleanControl,
        beforeActing: (@Sendable (String, [CleanItem]) -> Void)?
    ) async -> RepositoryResult {
        let scanned: (key: String, display: String, items: [CleanItem]?)
        do {
            scanned = try await Blocking.run { [self] in
                let clean = try CleanRepository(path: target.path)
                if try isSomeonesBare(clean) && clean.repository.worktrees().isEmpty {
                    return (clean.key, clean.display, nil)
                }
                return (clean.key, clean.display, try scan(clean))
            }
        } catch {
            return RepositoryResult(problems: [
                CleanProblem(
                    repository: target.path, kind: .unreadable,
                    message: CleanActions.describe(error) + "; it was left as it is")
            ])
        }
        // Two paths (a --repo and a --scan find, or two worktrees of one repository) name one
        // repository: the first to get here cleans it.
        guard claimed.claim(scanned.key) else { return RepositoryResult() }
        guard let found = scanned.items else {
            return RepositoryResult(problems: [
                CleanProblem(
                    repository: scanned.display, kind: .skipped,
                    message: "a bare repository without worktrees (a remote, perhaps): grove clean never"
                        + " changes one, so nothing was changed in it; delete a branch of it yourself with"
                        + " `git -C \(CleanPaths.quoted(scanned.display)) branch -d <branch>`")
            ])
        }
        var items = options.measureSize ? await Self.measure(found) : found
        beforeActing?(scanned.display, items)
        guard !options.dryRun, items.contains(where: Self.acts) else { return RepositoryResult(items: items) }
        let home = self.home
        let planned = items
        do {
            items = try await Blocking.run {
                let clean = try CleanRepository(path: target.path)
                return try Self.withRepositoryLock(clean) {
                    CleanActions.apply(planned, in: clean, home: home, control: control)
                }
            }
        } catch let locked as RepositoryLockedError {
            return Self.lockedOut(items, locked)
        } catch {
            return RepositoryResult(
                items: items.map { Self.untouched($0) },
                problems: [
                    CleanProblem(
                        repository: scanned.display, kind: .unreadable,
                        message: CleanActions.describe(error) + "; nothing was changed in it")
                ])
        }
        return RepositoryResult(items: items)
    }

    static func acts(_ item: CleanItem) -> Bool {
        item.worktreeAction == .remove || item.worktreeAction == .prune || item.branchAction == .delete
    }

    /// Runs `body` holding the repository's grove lock (one writer per repository).
    static func withRepositoryLock<T>(_ clean: CleanRepository, _ body: () throws -> T) throws -> T {
        let lock = try RepositoryLock.acquire(
            commonDirectory: clean.repository.commonDirectory, repository: clean.display)
        defer { lock.release() }
        return try body()
    }

    /// Another grove holds the repository: everything planned there is kept, and said so.
    static func lockedOut(_ items: [CleanItem], _ locked: RepositoryLockedError) -> RepositoryResult {
        let who = locked.holder.map { "another grove (pid \($0))" } ?? "another grove"
        let message =
            "\(who) holds its lock (\(locked.lockFile)); nothing was changed in it;"
            + " run grove clean again once it is done"
        return RepositoryResult(
            items: items.map { untouched($0) },
            problems: [CleanProblem(repository: locked.repository, kind: .locked, message: message)])
    }

    /// What was planned, turned into "kept": nothing was done.
    static func untouched(_ item: CleanItem) -> CleanItem {
        var item = item
        if item.worktreeAction == .remove || item.worktreeAction == .prune { item.worktreeAction = .keep }
        if item.branchAction == .delete { item.branchAction = .keep }
        return item
    }

    /// Sizes of the worktrees that have a directory, measured concurrently (the only part of a
    /// clean that walks checked-out files).
    static func measure(_ items: [CleanItem]) async -> [CleanItem] {
        await withTaskGroup(of: (Int, Int64?).self) { group in
            for (index, item) in items.enumerated() {
                guard let path = item.worktree, item.kind != .missing, item.kind != .gone else { continue }
                group.addTask {
                    let size = try? await Blocking.run { () -> Int64? in
                        FileManager.default.fileExists(atPath: path) ? DiskUsage.bytes(at: path) : nil
                    }
                    return (index, size ?? nil)
                }
            }
            var measured = items
            for await (index, size) in group { measured[index].sizeBytes = size }
            return measured
        }
    }

    // MARK: Classification

    /// A bare repository that is not one of grove's own clones (`$GROVE_HOME/repos`): it may
    /// serve as someone's remote, so only what its linked worktrees hold is grove clean's
    /// business — a branch of it is deleted only with the worktree clean removes or prunes.
    func isSomeonesBare(_ clean: CleanRepository) -> Bool {
        guard clean.repository.isBare else { return false }
        guard let home else { return true }
        return !CleanPaths.isInside(clean.key, CleanPaths.canonical(home.repositories))
    }

    /// Classifies every linked worktree of the repository, then the `grove/*` branches left
    /// without one. Reads only: nothing in the repository changes.
    func scan(_ clean: CleanRepository) throws -> [CleanItem] {
        let repository = clean.repository
        let names = [clean.display, repository.commonDirectory]
        let origins = knowledge.origins(for: names)
        var protected = knowledge.bases(for: names)
        if let base = clean.defaultBase { protected.insert(base) }
        if let head = clean.mainHead { protected.insert(head) }

        var items: [CleanItem] = []
        let worktrees = try repository.worktrees()
        let checkouts = clean.checkoutDirectories(worktrees)
        for worktree in worktrees {
            do {
                items.append(
                    try classify(
                        worktree, in: clean, origins: origins, protected: protected, checkouts: checkouts))
            } catch {
                var item = CleanItem(repository: clean.display, worktree: worktree.path, branch: nil, kind: .broken)
                item.keep(.broken, reason: "cannot be read: \(CleanActions.describe(error))")
                item.error = item.reason
                items.append(item)
            }
        }
        try addGroveBranches(
            to: &items, in: clean, origins: origins, protected: protected, withoutWorktree: !isSomeonesBare(clean))
        return items
    }

    private func classify(
        _ worktree: Worktree, in clean: CleanRepository, origins: [String: CleanKnowledge.Origin],
        protected: Set<String>, checkouts: [String]
    ) throws -> CleanItem {
        let path = worktree.path
        let head = try worktree.head()
        var item = CleanItem(repository: clean.display, worktree: path, branch: head.branchName, kind: .recent)
        item.adminName = worktree.name
        item.scannedHead = head.commit
        item.scannedBranch = head.branchName
        item.head = head.commit?.hex
        if let branch = head.branchName, head.commit != nil, !protected.contains(branch) {
            item.branchTip = head.commit
            item.groveBranch = branch.hasPrefix("grove/") || origins[branch] != nil
        }
        let quotedPath = CleanPaths.quoted(path)

        if let reason = try worktree.lockReason() {
            item.keep(
                .locked, reason: "locked" + (reason.isEmpty ? "" : " (\(reason))") + "; grove never touches it",
                fix: "git worktree unlock \(quotedPath)")
            return item
        }
        if let target = CleanPaths.linkTarget(path) {
            item.keep(
                .broken, reason: "its folder is now a symbolic link to \(target); grove never follows one",
                fix: "rm \(quotedPath) (the link alone)")
            return item
        }
        if !worktree.directoryExists {
            if case .detached(let commit) = head, try clean.commitsOnNoRef(commit) > 0 {
                // Pruning the entry would drop the only name of these commits.
                let count = try clean.commitsOnNoRef(commit)
                item.kind = .unmerged
                item.reason =
                    "its directory is gone, and its detached HEAD \(commit.short) holds"
                    + " \(CleanRepository.commits(count))"
                    + " on no branch, tag or remote"
                item.fix = "git -C \(CleanPaths.quoted(clean.display)) branch <name> \(commit.short) keeps them"
                item.worktreeAction = options.force ? .prune : .keep
                return item
            }
            item.kind = .missing
            item.reason = "its directory is gone"
            item.worktreeAction = .prune
            item.branchTip = nil  // the branch is judged by itself (grove/* branches below)
            return item
        }
        if CleanPaths.isInside(
            CleanPaths.canonical(options.currentDirectory), CleanPaths.canonical(path))
        {
            item.keep(.current, reason: "the current directory is inside it; grove never removes it")
            return item
        }
        if let branch = head.branchName, protected.contains(branch) {
            item.keep(.base, reason: "it has \(branch) checked out, a base branch; grove never removes it")
            return item
        }
        if knowledge.running.contains(CleanPaths.canonical(path)) {
            item.keep(.running, reason: "a task of a grove run still going on works in it")
            return item
        }
        if let inner = CleanPaths.firstInside(CleanPaths.canonical(path), among: checkouts) {
            item.keep(
                .nested, reason: "\(inner) lives inside it, and removing it would delete that too",
                fix: "move or remove \(CleanPaths.quoted(inner)) first")
            return item
        }

        let status = try worktree.openRepository().status()
        let origin = head.branchName.flatMap { origins[$0] }
        let base = clean.base(for: origin?.base)
        let baseName = base.isEmpty ? "the base" : base
        let start = origin?.baseCommit.map { [$0] } ?? []
        var beyond = 0
        var atRisk = 0
        if let tip = head.commit {
            beyond = try clean.commitsBeyond(tip, base: base, also: start)
            if head.branchName == nil {
                atRisk = try clean.commitsOnNoRef(tip)
            } else if beyond > 0 {
                atRisk = try clean.commitsAtRisk(tip, base: base, also: start)
            }
        }
        // Commits base has under other ids (landed rebased, cherry-picked): nothing is lost.
        var landed: String?
        if beyond > 0, let tip = head.commit, let branch = head.branchName {
            landed = try clean.changesInBase(
                tip, branch: branch, base: base, start: origin?.baseCommit, verdict: origin?.verdict)
            if landed != nil {
                beyond = 0
                atRisk = 0
            }
        }
        // With --force, a branch goes with its worktree unless it is on a remote only (then it
        // is someone's work in progress: keeping it costs nothing and loses nothing).
        let branchGoesWithForce = beyond == 0 || atRisk > 0

        let submodules = CleanRepository.hasSubmodules(worktree)
        if !status.isClean || submodules {
            let paths = status.entries.map(\.path)
            var what: [String] = []
            if !paths.isEmpty {
                what.append("\(paths.count) uncommitted change\(paths.count == 1 ? "" : "s") (\(Self.summary(paths)))")
            }
            if submodules { what.append("initialized submodules, whose repositories would go with it") }
            if atRisk > 0 { what.append("\(CleanRepository.commits(atRisk)) in neither \(baseName) nor a remote") }
            item.kind = .dirty
            item.reason = what.joined(separator: " and ")
            if options.force {
                item.worktreeAction = .remove
                item.discardChanges = true
                item.branchAction = item.branchTip != nil && branchGoesWithForce ? .delete : nil
            } else {
                item.keep(.dirty, reason: item.reason ?? "", fix: "git worktree remove --force \(quotedPath)")
            }
            return item
        }
        if atRisk > 0 {
            item.kind = .unmerged
            item.reason =
                head.branchName == nil
                ? "its detached HEAD holds \(CleanRepository.commits(atRisk)) on no branch, tag or remote"
                : "\(CleanRepository.commits(atRisk)) in neither \(baseName) nor a remote"
            if options.force {
                item.worktreeAction = .remove
                item.branchAction = item.branchTip != nil ? .delete : nil
            } else {
                let branchFix = item.branchTip != nil ? " && git branch -D \(CleanPaths.quoted(item.branch ?? ""))" : ""
                item.keep(.unmerged, reason: item.reason ?? "", fix: "git worktree remove \(quotedPath)\(branchFix)")
            }
            return item
        }
        if beyond > 0 {
            item.keep(
                .pushed,
                reason: "\(CleanRepository.commits(beyond)) not in \(baseName), all on a remote; not finished, so kept")
            return item
        }
        if let tip = head.commit,
            try landed != nil || hasOwnCommits(item.branch, tip: tip, origin: origin, in: clean)
        {
            item.kind = .merged
            item.reason = landed ?? "its commits are all in \(baseName)"
            item.saysWhy = landed != nil
            item.worktreeAction = .remove
            item.branchAction = item.branchTip != nil ? .delete : nil
            return item
        }
        let idle = worktree.lastActivity().map { options.now.timeIntervalSince($0) } ?? .infinity
        if idle > olderThan {
            item.kind = .abandoned
            item.reason = "no commits beyond \(baseName); untouched for \(Self.age(idle))"
            item.worktreeAction = .remove
            item.branchAction = item.branchTip != nil ? .delete : nil
            return item
        }
        item.keep(
            .recent,
            reason: "no commits beyond \(baseName) yet, touched \(Self.age(idle)) ago"
                + " (abandoned after \(options.olderThan ?? StaleCleanOptions.defaultOlderThan))")
        return item
    }

    /// Whether the branch ever had commits of its own (then being in base means it was merged;
    /// otherwise it is only a worktree nobody used yet). grove's record of where a task started
    /// says it; else the branch's reflog, whose oldest entry is where it was created. Without
    /// either, no: such a worktree is judged by its age.
    private func hasOwnCommits(
        _ branch: String?, tip: ObjectID, origin: CleanKnowledge.Origin?, in clean: CleanRepository
    ) throws -> Bool {
        guard let branch else { return false }
        if let start = origin?.baseCommit { return tip != start }
        guard let created = try clean.repository.branchCreationCommit(branch) else { return false }
        return tip != created
    }

    /// `grove/*` branches with no worktree left that are fully merged: deleted. A branch whose
    /// worktree is being pruned counts as having none. With `withoutWorktree` false (a bare
    /// repository that may be a remote) only the branch of a worktree being pruned is.
    private func addGroveBranches(
        to items: inout [CleanItem], in clean: CleanRepository, origins: [String: CleanKnowledge.Origin],
        protected: Set<String>, withoutWorktree: Bool
    ) throws {
        var byBranch: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            if let branch = item.branch { byBranch[branch] = index }
        }
        for branch in try clean.repository.branches() where branch.name.hasPrefix("grove/") {
            guard !protected.contains(branch.name) else { continue }
            let index = byBranch[branch.name]
            if let index, items[index].worktreeAction != .prune { continue }
            if index == nil && !withoutWorktree { continue }
            let origin = origins[branch.name]
            let base = clean.base(for: origin?.base)
            let start = origin?.baseCommit.map { [$0] } ?? []
            var reason = "no worktree, and its commits are all in \(base.isEmpty ? "the base" : base)"
            var saysWhy = false
            if try clean.commitsBeyond(branch.target, base: base, also: start) > 0 {
                guard
                    let landed = try clean.changesInBase(
                        branch.target, branch: branch.name, base: base, start: origin?.baseCommit,
                        verdict: origin?.verdict)
                else { continue }
                reason = "no worktree, and " + landed
                saysWhy = true
            }
            if let index {
                items[index].groveBranch = true
                items[index].branchTip = branch.target
                items[index].branchAction = .delete
                items[index].saysWhy = saysWhy
                items[index].reason = (items[index].reason.map { $0 + "; its branch has " } ?? "") + reason
            } else {
                var item = CleanItem(repository: clean.display, worktree: nil, branch: branch.name, kind: .merged)
                item.groveBranch = true
                item.head = branch.target.hex
                item.branchTip = branch.target
                item.branchAction = .delete
                item.reason = reason
                item.saysWhy = saysWhy
                items.append(item)
            }
        }
    }

    // MARK: Words

    /// "a.txt, b.txt, c.txt, …".
    static func summary(_ paths: [String]) -> String {
        paths.prefix(3).joined(separator: ", ") + (paths.count > 3 ? ", …" : "")
    }

    /// "3 days", "5 hours", "12 minutes".
    static func age(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite else { return "ever" }
        let value = max(0, seconds)
        func plural(_ count: Int, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        if value >= 2 * 86_400 { return plural(Int(value / 86_400), "day") }
        if value >= 2 * 3600 { return plural(Int(value / 3600), "hour") }
        if value >= 120 { return plural(Int(value / 60), "minute") }
        return plural(Int(value), "second")
    }
}
