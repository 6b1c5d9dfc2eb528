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

    /// `result`: a task's result (`task_finished`, `task_recovered`) or a push's outcome
    /// (`base_pushed`), written as its raw value.
    public enum Result: Sendable, Equatable, Encodable {
        case task(MergeResult)
        case push(BasePush.Outcome)

        public var rawValue: String {
            switch self {
            case .task(let result): result.rawValue
            case .push(let outcome): outcome.rawValue
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    public var kind: Kind
    public var run: Int
    public var time: Date
    public var repo: String?
    public var task: String?
    public var repos: [String]?
    public var tasks: [String]?
    public var base: String?
    public var result: Result?
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

    /// The queues start, with the tasks queued in each, in order.
    public static func mergeStarted(run: Int, repos: [String], tasks: [String]) -> MergeEvent {
        var event = MergeEvent(.mergeStarted, run: run)
        event.repos = repos
        event.tasks = tasks
        return event
    }

    /// What a merge that died had left of a task was finished (`result` set) or undone (nil).
    public static func taskRecovered(
        run: Int, repo: String, task: String, result: MergeResult?, reason: String
    ) -> MergeEvent {
        var event = MergeEvent(.taskRecovered, run: run, repo: repo, task: task)
        event.result = result.map(Result.task)
        event.reason = reason
        return event
    }

    public static func taskRebasing(run: Int, repo: String, task: String, base: String) -> MergeEvent {
        var event = MergeEvent(.taskRebasing, run: run, repo: repo, task: task)
        event.base = base
        return event
    }

    public static func taskChecking(run: Int, repo: String, task: String, candidate: String, log: String) -> MergeEvent
    {
        var event = MergeEvent(.taskChecking, run: run, repo: repo, task: task)
        event.commit = candidate
        event.log = log
        return event
    }

    /// A task's result line as an event; flags that are off are left out.
    public static func taskFinished(_ outcome: TaskMergeOutcome, run: Int, repo: String) -> MergeEvent {
        var event = MergeEvent(.taskFinished, run: run, repo: repo, task: outcome.task)
        event.base = outcome.base
        event.result = .task(outcome.result)
        event.commit = outcome.commit
        event.commits = outcome.commits
        event.conflicts = outcome.conflicts.isEmpty ? nil : outcome.conflicts
        event.log = outcome.checkLog
        event.cached = outcome.checkCached ? true : nil
        event.reason = outcome.reason
        event.earlier = outcome.earlier ? true : nil
        return event
    }

    public static func queueStopped(run: Int, repo: String, reason: String) -> MergeEvent {
        var event = MergeEvent(.queueStopped, run: run, repo: repo)
        event.reason = reason
        return event
    }

    public static func basePushed(_ push: BasePush, run: Int, repo: String) -> MergeEvent {
        var event = MergeEvent(.basePushed, run: run, repo: repo)
        event.base = push.base
        event.result = .push(push.outcome)
        event.reason = push.reason
        return event
    }

    public static func mergeFinished(run: Int, counts: [String: Int]) -> MergeEvent {
        var event = MergeEvent(.mergeFinished, run: run)
        event.counts = counts
        return event
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
