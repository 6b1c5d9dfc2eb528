import Foundation

/// One thing that happened in `grove merge`, in order: what progress displays draw and what
/// `grove merge --json` writes, one JSON object per line. Keys that do not apply are left out.
public struct MergeEvent: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Equatable, Encodable {
        /// The queues start; `repos` and `tasks` (queued, in order) are set.
        case mergeStarted = "merge_started"
        /// A merge that died was found in the journal and finished or undone; `task`, `reason`.
        case taskRecovered = "task_recovered"
        /// The head of a queue is being rebased onto base.
        case taskRebasing = "task_rebasing"
        /// The check runs on the candidate; `commit` is the candidate, `log` the check's log.
        case taskChecking = "task_checking"
        /// The task has its result; `result`, and when they apply `commit`, `commits`,
        /// `conflicts`, `reason`.
        case taskFinished = "task_finished"
        /// A repository's queue stopped early; `reason` says why and what to do.
        case queueStopped = "queue_stopped"
        /// A base was pushed (or refused); `reason` is set when refused.
        case basePushed = "base_pushed"
        /// Everything is done; `counts` by result.
        case mergeFinished = "merge_finished"
    }

    public var kind: Kind
    public var run: Int
    public var time: Date
    public var repo: String?
    public var task: String?
    public var repos: [String]?
    public var tasks: [String]?
    public var base: String?
    public var result: String?
    public var commit: String?
    public var commits: Int?
    public var conflicts: [String]?
    public var log: String?
    public var cached: Bool?
    /// The task was landed by an earlier `grove merge`.
    public var earlier: Bool?
    public var reason: String?
    public var counts: [String: Int]?

    public init(_ kind: Kind, run: Int, repo: String? = nil, task: String? = nil, time: Date = Date()) {
        self.kind = kind
        self.run = run
        self.repo = repo
        self.task = task
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case kind = "event"
        case run, time, repo, task, repos, tasks, base, result, commit, commits, conflicts, log, cached, earlier, reason
        case counts
    }

    /// The event as one line of JSON (no newline), written like `grove run --json`'s events.
    public func jsonLine() -> String { EventJSON.line(self) }
}

/// Receives merge events from any thread (queues of different repositories run at once):
/// implementations serialize their own output.
public protocol MergeObserver: Sendable {
    func handle(_ event: MergeEvent)
}

/// An observer that ignores everything (library use, tests).
public struct SilentMergeObserver: MergeObserver {
    public init() {}
    public func handle(_ event: MergeEvent) {}
}
