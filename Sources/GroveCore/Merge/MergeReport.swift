import Foundation

/// One task's line of a merge's result.
public struct TaskMergeOutcome: Sendable, Equatable, Codable {
    public var task: String
    public var base: String
    public var branch: String
    public var result: MergeResult
    /// The commit the task landed as (base's new tip then); nil unless landed.
    @Nullable public var commit: String?
    /// Task commits it added to base.
    @Nullable public var commits: Int?
    /// For `conflict`: the paths that did not apply.
    public var conflicts: [String]
    /// Why it did not land and what to do; or a note on a landed task.
    @Nullable public var reason: String?
    @Nullable public var checkLog: String?
    /// The check's verdict came from an earlier check of the same tree.
    public var checkCached: Bool
    /// Landed by an earlier `grove merge`, not this one.
    public var earlier: Bool

    public init(
        task: String, base: String, branch: String, result: MergeResult, commit: String? = nil, commits: Int? = nil,
        conflicts: [String] = [], reason: String? = nil, checkLog: String? = nil, checkCached: Bool = false,
        earlier: Bool = false
    ) {
        self.task = task
        self.base = base
        self.branch = branch
        self.result = result
        self.commit = commit
        self.commits = commits
        self.conflicts = conflicts
        self.reason = reason
        self.checkLog = checkLog
        self.checkCached = checkCached
        self.earlier = earlier
    }

    enum CodingKeys: String, CodingKey {
        case task, base, branch, result, commit, commits, conflicts, reason, earlier
        case checkLog = "check_log"
        case checkCached = "check_cached"
    }
}

/// What happened to one push of a base.
public struct BasePush: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Equatable, Codable {
        case pushed
        /// The remote already had base's tip.
        case upToDate = "up_to_date"
        /// Refused, or the push failed; `reason` says why and what to do.
        case rejected
    }

    public var base: String
    public var remote: String
    public var outcome: Outcome
    public var reason: String?
}

/// One repository's queue, as it ended.
public struct RepositoryMergeReport: Sendable, Equatable, Codable {
    /// The repository path the queue worked in (for a URL repository, its clone in the cache).
    public var repo: String
    /// For a URL repository, the URL as the user gave it without credentials (the tasks'
    /// `source`); nil for a local one.
    @Nullable public var source: String?
    /// In the order the queue took them.
    public var tasks: [TaskMergeOutcome]
    /// Why the queue stopped early, with what to do; nil when it went through.
    @Nullable public var stopped: String?
    public var pushes: [BasePush]

    public init(
        repo: String, source: String? = nil, tasks: [TaskMergeOutcome] = [], stopped: String? = nil,
        pushes: [BasePush] = []
    ) {
        self.repo = repo
        self.source = source
        self.tasks = tasks
        self.stopped = stopped
        self.pushes = pushes
    }

    /// How the repository is named to the user: its URL without credentials, else its path.
    public var shown: String { source ?? repo }
}

/// A task of the run that was not queued because it did not succeed.
public struct NotQueuedTask: Sendable, Equatable, Codable {
    public var task: String
    public var repo: String
    public var state: TaskState
}

/// The result of one `grove merge`.
public struct MergeReport: Sendable, Equatable, Codable {
    public var run: Int
    public var repositories: [RepositoryMergeReport]
    /// Tasks that did not succeed in the run, so were not queued.
    public var notQueued: [NotQueuedTask]
    /// Ctrl-C stopped it.
    public var interrupted: Bool

    public init(
        run: Int, repositories: [RepositoryMergeReport], notQueued: [NotQueuedTask] = [], interrupted: Bool = false
    ) {
        self.run = run
        self.repositories = repositories
        self.notQueued = notQueued
        self.interrupted = interrupted
    }

    enum CodingKeys: String, CodingKey {
        case run, repositories, interrupted
        case notQueued = "not_queued"
    }

    /// Every task outcome, repository by repository.
    public var outcomes: [TaskMergeOutcome] { repositories.flatMap(\.tasks) }

    /// True when every queued task landed (or had nothing to land), no queue stopped and every
    /// push went through: `grove merge` exits 0 then.
    public var succeeded: Bool {
        !interrupted
            && repositories.allSatisfy { repository in
                repository.stopped == nil && repository.tasks.allSatisfy(\.result.isSuccess)
                    && repository.pushes.allSatisfy { $0.outcome != .rejected }
            }
    }

    /// How many tasks got each result.
    public var counts: [String: Int] {
        Dictionary(grouping: outcomes, by: \.result.rawValue).mapValues(\.count)
    }
}
