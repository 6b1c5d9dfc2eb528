import Foundation

/// One thing that happened during a run, in the order it happened: what progress displays draw
/// and what `grove run --json` writes, one JSON object per line. Keys that do not apply to an
/// event's kind are left out of its JSON.
public struct RunEvent: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Equatable, Encodable {
        /// The run is planned and stored; `tasks` and `jobs` are set.
        case runStarted = "run_started"
        /// A URL repository is being cloned into the cache or fetched there; `repo` (the URL
        /// without credentials) and `action` (`clone` or `fetch`) are set.
        case repoSyncing = "repo_syncing"
        /// Objects of a clone or fetch arrive; `repo`, `receivedObjects`, `totalObjects` and
        /// `receivedBytes` are set. At most a few per second per repository.
        case repoProgress = "repo_progress"
        /// A clone or fetch ended; `repo`, `state` (`cloned`, `fetched` or `failed`), `seconds`
        /// and, when it failed, `reason` are set. The repository's tasks fail with it.
        case repoSynced = "repo_synced"
        /// The task's branch and worktree are being made (then `copy:` and `setup:`).
        case taskPreparing = "task_preparing"
        /// The task's command was spawned; `slot`, `pid` and `log` are set.
        case taskStarted = "task_started"
        /// An attempt of the task failed or timed out and it is tried again: `state`, `exitCode`,
        /// `signal` and `reason` describe the attempt that ended, `attempt` is the next one's
        /// number, `log` where the ended attempt's output was moved.
        case taskRetrying = "task_retrying"
        /// The task reached a final state; `state`, `seconds` and, when known, `exitCode`,
        /// `commits`, `changedFiles` and `reason` are set.
        case taskFinished = "task_finished"
        /// The run is being stopped early (Ctrl-C, SIGTERM, `--fail-fast`, a second Ctrl-C);
        /// `reason` says why and what happens to the running tasks.
        case runStopping = "run_stopping"
        /// The run is over; `state` (finished or interrupted), `wallSeconds`, `taskSeconds`, `speedup` are set.
        case runFinished = "run_finished"
    }

    /// What an event's `state` holds: a task's state for task events, the run's for
    /// `run_finished`, how a clone or fetch ended for `repo_synced`. Written as the raw value.
    public enum State: Sendable, Equatable, Encodable {
        case task(TaskState)
        case run(RunState)
        case sync(SyncOutcome)

        /// The word `--json` writes: `succeeded`, `interrupted`, `fetched`, ….
        public var rawValue: String {
            switch self {
            case .task(let state): state.rawValue
            case .run(let state): state.rawValue
            case .sync(let outcome): outcome.rawValue
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// What `repo_syncing` is about to do to a URL repository's clone in the cache.
    public enum Action: String, Sendable, Equatable, Encodable {
        case clone, fetch
    }

    public var kind: Kind
    public var run: Int
    public var time: Date
    public var task: String?
    public var tasks: [String]?
    public var jobs: Int?
    public var slot: Int?
    public var pid: Int32?
    public var log: String?
    /// `task_*`: the task's (or the ended attempt's) state; `run_finished`: the run's;
    /// `repo_synced`: how the clone or fetch ended.
    public var state: State?
    public var exitCode: Int32?
    public var signal: Int32?
    public var seconds: Double?
    public var commits: Int?
    public var changedFiles: [String]?
    public var reason: String?
    public var wallSeconds: Double?
    public var taskSeconds: Double?
    public var speedup: Double?
    /// For `task_retrying`: the number of the attempt about to start (2 for the first retry).
    public var attempt: Int?
    /// For `repo_*` events: the repository's URL, without credentials.
    public var repo: String?
    public var action: Action?
    public var receivedObjects: Int?
    public var totalObjects: Int?
    public var receivedBytes: Int?

    /// A bare event of `kind`; grove builds its events through the factories below, which set
    /// exactly the keys each kind carries.
    public init(_ kind: Kind, run: Int, task: String? = nil, time: Date = Date()) {
        self.kind = kind
        self.run = run
        self.task = task
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case kind = "event"
        case run, time, task, tasks, jobs, slot, pid, log, state, signal, seconds, commits, reason, speedup, repo
        case action, attempt
        case receivedObjects = "received_objects"
        case totalObjects = "total_objects"
        case receivedBytes = "received_bytes"
        case exitCode = "exit_code"
        case changedFiles = "changed_files"
        case wallSeconds = "wall_seconds"
        case taskSeconds = "task_seconds"
    }

    /// The event as one line of JSON (no newline): `{"event":"task_started","run":1,"task":"a","time":…}`.
    public func jsonLine() -> String { EventJSON.line(self) }
}

/// The events grove sends, one factory per kind, each setting exactly the keys its kind carries.
extension RunEvent {
    public static func runStarted(run: Int, tasks: [String], jobs: Int, time: Date = Date()) -> RunEvent {
        var event = RunEvent(.runStarted, run: run, time: time)
        event.tasks = tasks
        event.jobs = jobs
        return event
    }

    public static func runStopping(run: Int, reason: String, time: Date = Date()) -> RunEvent {
        var event = RunEvent(.runStopping, run: run, time: time)
        event.reason = reason
        return event
    }

    public static func runFinished(
        run: Int, state: RunState, wallSeconds: Double, taskSeconds: Double, speedup: Double, time: Date = Date()
    ) -> RunEvent {
        var event = RunEvent(.runFinished, run: run, time: time)
        event.state = .run(state)
        event.wallSeconds = wallSeconds
        event.taskSeconds = taskSeconds
        event.speedup = speedup
        return event
    }

    public static func taskPreparing(run: Int, task: String, time: Date = Date()) -> RunEvent {
        RunEvent(.taskPreparing, run: run, task: task, time: time)
    }

    public static func taskStarted(
        run: Int, task: String, slot: Int, pid: Int32?, log: String, time: Date = Date()
    ) -> RunEvent {
        var event = RunEvent(.taskStarted, run: run, task: task, time: time)
        event.slot = slot
        event.pid = pid
        event.log = log
        return event
    }

    /// `state`, `exitCode`, `signal` and `reason` describe the attempt that ended, `log` where
    /// its output was moved; `attempt` is the number of the one about to start.
    public static func taskRetrying(
        run: Int, task: String, state: TaskState, exitCode: Int32?, signal: Int32?, reason: String?, attempt: Int,
        log: String, time: Date = Date()
    ) -> RunEvent {
        var event = taskEnded(
            .taskRetrying, run: run, task: task, state: state, exitCode: exitCode, signal: signal, reason: reason,
            time: time)
        event.attempt = attempt
        event.log = log
        return event
    }

    public static func taskFinished(
        run: Int, task: String, state: TaskState, exitCode: Int32?, signal: Int32?, seconds: Double?, commits: Int?,
        changedFiles: [String]?, reason: String?, time: Date = Date()
    ) -> RunEvent {
        var event = taskEnded(
            .taskFinished, run: run, task: task, state: state, exitCode: exitCode, signal: signal, reason: reason,
            time: time)
        event.seconds = seconds
        event.commits = commits
        event.changedFiles = changedFiles
        return event
    }

    /// What `task_retrying` and `task_finished` both say: how the task (or its attempt) ended.
    private static func taskEnded(
        _ kind: Kind, run: Int, task: String, state: TaskState, exitCode: Int32?, signal: Int32?, reason: String?,
        time: Date
    ) -> RunEvent {
        var event = RunEvent(kind, run: run, task: task, time: time)
        event.state = .task(state)
        event.exitCode = exitCode
        event.signal = signal
        event.reason = reason
        return event
    }

    public static func repoSyncing(run: Int, repo: String, action: Action, time: Date = Date()) -> RunEvent {
        var event = RunEvent(.repoSyncing, run: run, time: time)
        event.repo = repo
        event.action = action
        return event
    }

    public static func repoProgress(
        run: Int, repo: String, receivedObjects: Int, totalObjects: Int, receivedBytes: Int, time: Date = Date()
    ) -> RunEvent {
        var event = RunEvent(.repoProgress, run: run, time: time)
        event.repo = repo
        event.receivedObjects = receivedObjects
        event.totalObjects = totalObjects
        event.receivedBytes = receivedBytes
        return event
    }

    /// `reason` is set when `outcome` is `failed`.
    public static func repoSynced(
        run: Int, repo: String, outcome: SyncOutcome, seconds: Double, reason: String?, time: Date = Date()
    ) -> RunEvent {
        var event = RunEvent(.repoSynced, run: run, time: time)
        event.repo = repo
        event.seconds = seconds
        event.state = .sync(outcome)
        event.reason = reason
        return event
    }
}

/// How grove's NDJSON events (`grove run --json`, `grove merge --json`) are written: one line,
/// keys sorted, `time` in seconds since 1970 (UTC) to the millisecond.
enum EventJSON {
    static func line(_ event: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode((date.timeIntervalSince1970 * 1000).rounded() / 1000)
        }
        // Events hold plain values only: encoding cannot fail.
        return (try? String(decoding: encoder.encode(event), as: UTF8.self)) ?? "{}"
    }
}

/// Receives a run's events as they happen, from any thread and possibly from several tasks at
/// once: implementations serialize their own output.
public protocol RunObserver: Sendable {
    func handle(_ event: RunEvent)
}

/// An observer that ignores everything (library use, tests).
public struct SilentObserver: RunObserver {
    public init() {}
    public func handle(_ event: RunEvent) {}
}
