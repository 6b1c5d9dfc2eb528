import Foundation
import GroveBasics
import GroveGit

/// Bad input for `grove merge` (an unknown run, a run still going on, a missing base…):
/// reported before anything changes; the CLI exits 2.
public struct MergeInputError: Error, Sendable, Equatable, LocalizedError {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var errorDescription: String? { message }
}

/// `grove merge` (DESIGN.md, "Merge queue"): lands a run's succeeded tasks into their bases,
/// one queue per repository, serial inside it; queues of different repositories run at once.
public final class MergeQueue: Sendable {
    /// The queued tasks of one repository, in the order they land.
    public struct Queue: Sendable, Equatable {
        /// The repository path the queue works in (its first task's).
        public var repo: String
        /// Its git common directory: tasks whose paths share it share one queue (one set of refs).
        public var commonDirectory: String
        /// In run order, except that each task comes after its dependencies.
        public var tasks: [TaskRecord]
        /// With `--push`: each base of the queue and the remote it goes to.
        public var pushes: [(base: String, remote: String)] = []

        public static func == (lhs: Queue, rhs: Queue) -> Bool {
            lhs.repo == rhs.repo && lhs.commonDirectory == rhs.commonDirectory && lhs.tasks == rhs.tasks
                && lhs.pushes.map(\.base) == rhs.pushes.map(\.base)
                && lhs.pushes.map(\.remote) == rhs.pushes.map(\.remote)
        }
    }

    public let run: RunRecord
    public let options: MergeOptions
    public let store: StateStore
    public let home: GroveHome
    /// In the order of each repository's first task.
    public let queues: [Queue]
    /// The run's tasks that did not succeed: never queued.
    public let notQueued: [TaskRecord]
    /// How checks are started.
    let launcher: any TaskLauncher

    init(
        run: RunRecord, options: MergeOptions, store: StateStore, home: GroveHome, queues: [Queue],
        notQueued: [TaskRecord], launcher: any TaskLauncher
    ) {
        self.launcher = launcher
        self.run = run
        self.options = options
        self.store = store
        self.home = home
        self.queues = queues
        self.notQueued = notQueued
    }

    /// Chooses the run (the latest unless `options.run`) and its queues, and checks everything
    /// that can be checked before acting: bad input throws `MergeInputError` (or `StateError`
    /// for an unknown run) and nothing has changed.
    public static func prepare(
        options: MergeOptions, store: StateStore, home: GroveHome, launcher: any TaskLauncher = LocalGroupLauncher()
    ) throws -> MergeQueue {
        // A run whose grove died is marked interrupted first, so its succeeded tasks can land.
        _ = try? store.markInterrupted()
        let (run, tasks) = try store.runWithTasks(number: options.run)
        if run.state == .running {
            throw MergeInputError(
                "run \(run.number) is still running (grove pid \(run.pid)); wait for it to end"
                    + " (`grove status \(run.number)`), then merge it")
        }
        if let check = options.check, check.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw MergeInputError("--check needs a command, e.g. --check \"make test\"")
        }
        let succeeded = tasks.filter { $0.state == .succeeded }
        var queues: [Queue] = []
        var indexByCommonDirectory: [String: Int] = [:]
        for task in succeeded {
            let repository: Repository
            do {
                repository = try Repository.open(at: task.repo)
            } catch {
                throw MergeInputError("task \(task.name): \(describe(error))")
            }
            guard try repository.branch(named: task.base) != nil else {
                throw MergeInputError(
                    "task \(task.name): its base \(task.base) no longer exists in \(task.repo);"
                        + " recreate it (`git -C \(task.repo) branch \(task.base) <commit>`), then run `grove merge` again"
                )
            }
            let common = URL(fileURLWithPath: repository.commonDirectory).resolvingSymlinksInPath().path
            if let index = indexByCommonDirectory[common] {
                queues[index].tasks.append(task)
            } else {
                indexByCommonDirectory[common] = queues.count
                queues.append(Queue(repo: task.repo, commonDirectory: common, tasks: [task]))
            }
        }
        // Dependencies (`depends_on`) land before their dependents.
        for index in queues.indices { queues[index].tasks = Pipeline.ordered(queues[index].tasks) }
        if let target = options.push {
            for index in queues.indices {
                queues[index].pushes = try pushes(of: queues[index], to: target)
            }
        }
        return MergeQueue(
            run: run, options: options, store: store, home: home, queues: queues,
            notQueued: tasks.filter { $0.state != .succeeded }, launcher: launcher)
    }

    /// Each base of a queue with the remote `--push` sends it to; a remote that is not
    /// configured is bad input.
    private static func pushes(of queue: Queue, to target: MergeOptions.PushTarget) throws
        -> [(base: String, remote: String)]
    {
        let repository = try Repository.open(at: queue.repo)
        var pushes: [(base: String, remote: String)] = []
        for base in queue.tasks.map(\.base) where !pushes.contains(where: { $0.base == base }) {
            let remote: String
            switch target {
            case .remote(let name):
                remote = name
            case .upstream:
                // "." is the repository itself (a local upstream): nothing to push to there.
                let upstream = try repository.configString("branch.\(base).remote")
                remote = upstream.flatMap { $0 == "." ? nil : $0 } ?? "origin"
            }
            guard try repository.remoteURL(named: remote) != nil else {
                throw MergeInputError(
                    "\(queue.repo) has no remote \(remote) to push \(base) to; add it"
                        + " (`git -C \(queue.repo) remote add \(remote) URL`) or name another with --push REMOTE")
            }
            pushes.append((base, remote))
        }
        return pushes
    }

    /// Takes every repository's lock, then runs the queues (at the same time, each serial) and
    /// reports them. A lock held by another grove throws `RepositoryLockedError` before anything
    /// moves. Ctrl-C through `control` ends a running check and stops each queue after its
    /// current step.
    public func execute(observer: any MergeObserver, control: RunControl) async throws -> MergeReport {
        let locks = try takeLocks()
        defer {
            for lock in locks { lock.release() }
        }
        observer.handle(
            .mergeStarted(run: run.number, repos: queues.map(\.repo), tasks: queues.flatMap { $0.tasks.map(\.name) }))

        WorktreeTrash.sweep(home: home)
        let trash = WorktreeTrash(home: home)
        let repositories = await withTaskGroup(of: (Int, RepositoryMergeReport).self) { group in
            for (index, queue) in queues.enumerated() {
                let worker = RepositoryQueue(
                    repo: queue.repo, run: run, tasks: queue.tasks, pushes: queue.pushes, options: options,
                    store: store, home: home, observer: observer, control: control, trash: trash,
                    launcher: launcher)
                group.addTask { (index, await worker.execute()) }
            }
            var reports: [(Int, RepositoryMergeReport)] = []
            for await report in group { reports.append(report) }
            return reports.sorted { $0.0 < $1.0 }.map(\.1)
        }
        await trash.drain()
        var report = MergeReport(run: run.number, repositories: repositories, interrupted: control.isStopping)
        report.notQueued = notQueued.map { NotQueuedTask(task: $0.name, repo: $0.repo, state: $0.state) }
        observer.handle(.mergeFinished(run: run.number, counts: report.counts))
        return report
    }

    /// One lock per repository, all or none: taken in a fixed order, and released again when
    /// any is held elsewhere.
    private func takeLocks() throws -> [RepositoryLock] {
        var locks: [RepositoryLock] = []
        do {
            for queue in queues.sorted(by: { $0.commonDirectory < $1.commonDirectory }) {
                locks.append(try RepositoryLock.acquire(commonDirectory: queue.commonDirectory, repository: queue.repo))
            }
        } catch {
            for lock in locks { lock.release() }
            throw error
        }
        return locks
    }
}
