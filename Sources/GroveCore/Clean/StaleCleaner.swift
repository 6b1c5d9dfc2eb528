import Foundation
import GroveBasics
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
            if seen.insert(canonicalPath(path)).inserted { targets.append(Target(path: path)) }
        }
        /// `given` made absolute; throws naming `flag` and what to give when it is no directory.
        func directory(_ given: String, of flag: String, give: String) throws -> String {
            let path = CleanPaths.absolute(given, from: options.currentDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CleanInputError("\(flag) \(given): no such directory (\(path)); give \(give)")
            }
            return path
        }
        for given in options.repositories {
            let path = try directory(given, of: "--repo", give: "the path of a git repository")
            do {
                add(try CleanRepository(path: path).display)
            } catch {
                throw CleanInputError("--repo \(given): \(describe(error))")
            }
        }
        for given in options.scanDirectories {
            let path = try directory(given, of: "--scan", give: "a directory that holds repositories")
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
                    message: describe(error) + "; it was left as it is")
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
                        message: describe(error) + "; nothing was changed in it")
                ])
        }
        return RepositoryResult(items: items)
    }
}
