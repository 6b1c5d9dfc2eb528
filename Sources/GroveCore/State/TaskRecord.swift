import Foundation
import GRDB
import GroveBasics

/// One task of a run as stored: its plan (repository, branch, worktree, command) and its outcome,
/// kept after the run so `grove status`, `grove merge` and `grove clean` know what happened.
public struct TaskRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public let run: Int
    public let name: String
    /// Order in the task file: tasks start, and are listed and landed, in this order.
    public var position: Int
    /// The repository's path; for a URL repository, its clone in the cache.
    public var repo: String
    /// For a URL repository: the URL, without credentials.
    public var source: String?
    /// For a URL repository: what this run did to its clone.
    public var sourceSync: SyncOutcome?
    /// The base branch; empty for a URL repository until it is fetched (then its default branch).
    public var base: String
    /// Where the task's branch started (hex object id): where `base` pointed when the task was
    /// planned, or, for a task with `depends_on`, its dependency's tip (or their merge).
    public var baseCommit: String?
    /// The task branch's tip once the task ended (hex object id), with any leftovers committed.
    public var headCommit: String?
    public var branch: String
    public var worktree: String
    /// The argv actually spawned (a string command is stored as `["/bin/sh", "-c", …]`).
    public var command: [String]
    public var instructions: String?
    public var state: TaskState
    public var exitCode: Int32?
    /// The signal that ended the command, when one did (timeouts, Ctrl-C, crashes).
    public var signal: Int32?
    /// Why the task failed or was cancelled when the exit code does not say it ("left its branch").
    public var reason: String?
    public var queuedAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var seconds: Double?
    /// Commits on the task branch ahead of base once the task ended.
    public var commits: Int?
    public var changedFiles: [String]
    public var log: String
    /// `GROVE_SLOT` while running, unique among running tasks.
    public var slot: Int?
    /// What the launcher started for the command, so leftovers of a crashed grove can be found
    /// and ended (`TaskLauncher.reap`).
    public var claim: ProcessClaim?
    /// Tasks of the same run this one starts after (and from): `depends_on`.
    public var dependsOn: [String] = []
    /// How many more times a failed or timed-out attempt may be tried (`--retries`, `retries:`).
    public var retries: Int = 0
    /// Attempts made so far (0 before the first starts).
    public var attempts: Int = 0
    /// How to run the task again (`grove retry`); nil for runs made before it was stored.
    public var spec: TaskSpec?

    public static let databaseTableName = "task"

    /// A task as planned, `queued`, not yet started.
    public init(
        run: Int, name: String, position: Int, repo: String, base: String, branch: String, worktree: String,
        command: [String], instructions: String? = nil, log: String, baseCommit: String? = nil,
        source: String? = nil, queuedAt: Date = Date()
    ) {
        self.run = run
        self.source = source
        self.name = name
        self.position = position
        self.repo = repo
        self.base = base
        self.baseCommit = baseCommit
        self.branch = branch
        self.worktree = worktree
        self.command = command
        self.instructions = instructions
        self.state = .queued
        self.queuedAt = queuedAt
        self.changedFiles = []
        self.log = log
    }

    /// Puts a finished task back in the queue for `grove retry`: its outcome is cleared (the
    /// caller saved it as an attempt), its plan and attempt count stay.
    public mutating func requeue(at date: Date = Date()) {
        state = .queued
        queuedAt = date
        (exitCode, signal, reason) = (nil, nil, nil)
        (startedAt, finishedAt, seconds) = (nil, nil, nil)
        (slot, claim) = (nil, nil)
        (headCommit, commits, changedFiles) = (nil, nil, [])
    }

    /// Records that the task's worktree is being made; its time counts from here.
    public mutating func prepare(at date: Date = Date()) {
        state = .preparing
        startedAt = date
    }

    /// Records that the command started; the slot and the claim are what crash recovery needs.
    /// The task's time counts from `prepare` when it went through it.
    public mutating func start(at date: Date = Date(), slot: Int? = nil, claim: ProcessClaim? = nil) {
        state = .running
        if startedAt == nil { startedAt = date }
        self.slot = slot
        self.claim = claim
    }

    /// Records a final state and its duration (from `startedAt`, zero when it never started).
    public mutating func finish(
        _ state: TaskState, at date: Date = Date(), exitCode: Int32? = nil, signal: Int32? = nil,
        reason: String? = nil
    ) {
        self.state = state
        finishedAt = date
        seconds = startedAt.map { max(0, date.timeIntervalSince($0)) } ?? 0
        self.exitCode = exitCode
        self.signal = signal
        if let reason { self.reason = reason }
        slot = nil
    }

    enum CodingKeys: String, CodingKey {
        case run, name, position, repo, base, branch, worktree, command, instructions, state, signal, reason
        case seconds, commits, log, slot, claim, source, retries, attempts, spec
        case dependsOn = "depends_on"
        case sourceSync = "source_sync"
        case exitCode = "exit_code"
        case baseCommit = "base_commit"
        case headCommit = "head_commit"
        case queuedAt = "queued_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case changedFiles = "changed_files"
    }

    /// Typed columns for queries (`TaskRecord.Columns.state == TaskState.running`).
    public enum Columns {
        public static let run = Column(CodingKeys.run)
        public static let name = Column(CodingKeys.name)
        public static let position = Column(CodingKeys.position)
        public static let state = Column(CodingKeys.state)
    }
}

extension TaskRecord {
    /// `tasks` in groups of one repository each (paths compared after resolving links), groups
    /// in the order their first task comes, tasks in their order: commands that act per
    /// repository (clean, push) work through these.
    static func groupedByRepository(_ tasks: [TaskRecord]) -> [[TaskRecord]] {
        var groups: [[TaskRecord]] = []
        var indexByRepository: [String: Int] = [:]
        for task in tasks {
            let key = canonicalPath(task.repo)
            if let index = indexByRepository[key] {
                groups[index].append(task)
            } else {
                indexByRepository[key] = groups.count
                groups.append([task])
            }
        }
        return groups
    }
}

/// What a run did to a URL repository's clone in the cache, as `status --json`, `run --json`
/// and the state database write it.
public enum SyncOutcome: String, Sendable, Codable, CaseIterable {
    case cloned
    case fetched
    case failed
}

/// A task's plan beyond what its row shows, so `grove retry` can run it again exactly as planned.
public struct TaskSpec: Codable, Sendable, Equatable {
    public var command: TaskCommand
    public var setup: TaskCommand?
    public var environment: [String: String]
    public var copy: [String]
    public var timeoutSeconds: Double?

    public init(
        command: TaskCommand, setup: TaskCommand?, environment: [String: String], copy: [String],
        timeoutSeconds: Double?
    ) {
        self.command = command
        self.setup = setup
        self.environment = environment
        self.copy = copy
        self.timeoutSeconds = timeoutSeconds
    }
}
