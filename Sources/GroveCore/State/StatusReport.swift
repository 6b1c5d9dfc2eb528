import Foundation

/// The `grove status --json` document (issue 3, §9). Scripts rely on this exact shape: every key
/// is always present, `null` when unknown; seconds are rounded to milliseconds, speedup to 0.01.
public struct StatusReport: Codable, Sendable, Equatable {
    public var run: Int
    public var state: RunState
    /// Start to end, or start to now while the run goes on.
    public var wallSeconds: Double
    /// Sum of the tasks' seconds (running tasks count their time so far).
    public var taskSeconds: Double
    /// `taskSeconds / wallSeconds`: how much running at once saved (0 when no time has passed).
    public var speedup: Double
    public var tasks: [TaskEntry]

    /// One task's line of the status document: its `TaskFacts` and `TaskStatus`.
    public typealias TaskEntry = TaskDocument<TaskStatus>

    /// What the status document says of a task beyond its `TaskFacts`.
    public struct TaskStatus: Codable, Sendable, Equatable {
        /// What `grove merge` made of the task; nil until a merge queue took it.
        @Nullable public var merge: MergeEntry?
        /// `depends_on`.
        public var dependsOn: [String]
        /// Every attempt so far, the first first; the last is the task's own state (empty before it starts).
        public var attempts: [AttemptEntry]

        enum CodingKeys: String, CodingKey {
            case merge, attempts
            case dependsOn = "depends_on"
        }
    }

    /// A task's merge queue state: its result, or while a merge is landing it, the step it is at.
    public struct MergeEntry: Codable, Sendable, Equatable {
        /// `landed`, `conflict`, `check_failed`, `nothing_to_land`, `blocked`, `error`; nil while in flight.
        @Nullable public var result: MergeResult?
        /// The journal's last step (`prepared` … `cleaned`, or `parked`).
        public var step: MergeStep
        /// The commit it landed as; while a merge is landing it, the candidate (the rebased tip).
        @Nullable public var commit: String?
        public var conflicts: [String]
        @Nullable public var reason: String?

        init(_ record: MergeRecord) {
            result = record.result
            step = record.step
            commit = record.result == .landed || record.step.isInFlight ? record.candidate : nil
            conflicts = record.conflicts
            reason = record.reason
        }

        enum CodingKeys: String, CodingKey {
            case result, step, commit, conflicts, reason
        }
    }

    /// One attempt of a task: how it ended (or `running`), its log, and for an earlier attempt the
    /// ref that keeps what it left.
    public struct AttemptEntry: Codable, Sendable, Equatable {
        public var number: Int
        public var state: TaskState
        @Nullable public var exitCode: Int32?
        @Nullable public var seconds: Double?
        public var log: String
        @Nullable public var savedRef: String?

        enum CodingKeys: String, CodingKey {
            case number, state, seconds, log
            case exitCode = "exit_code"
            case savedRef = "saved_ref"
        }
    }

    /// A task branch's last push to one remote, and its PR command's result.
    public struct PushEntry: Codable, Sendable, Equatable {
        public var remote: String
        public var state: PushState
        @Nullable public var reason: String?
        /// Where grove left (or found) the remote's branch.
        @Nullable public var commit: String?
        /// The URL the PR command printed.
        @Nullable public var prURL: String?
        @Nullable public var prExitCode: Int32?

        init(_ record: PushRecord) {
            remote = record.remote
            state = record.state
            reason = record.reason
            commit = record.commit
            prURL = record.prURL
            prExitCode = record.prExitCode
        }

        enum CodingKeys: String, CodingKey {
            case remote, state, reason, commit
            case prURL = "pr_url"
            case prExitCode = "pr_exit_code"
        }
    }

    enum CodingKeys: String, CodingKey {
        case run, state, speedup, tasks
        case wallSeconds = "wall_seconds"
        case taskSeconds = "task_seconds"
    }

    /// Builds the document from stored records; `now` stands for the end of what is still going on.
    /// `merges` are the run's merge journal rows by task name, `pushes` its push rows.
    public init(
        run: RunRecord, tasks: [TaskRecord], merges: [String: MergeRecord] = [:], pushes: [PushRecord] = [],
        attempts: [AttemptRecord] = [], now: Date = Date()
    ) {
        self.run = run.number
        state = run.state
        let end = run.finishedAt ?? now
        let wall = run.wallSeconds ?? max(0, end.timeIntervalSince(run.startedAt))
        wallSeconds = Self.rounded(wall, places: 3)
        self.tasks = tasks.map { task in
            let seconds: Double? =
                if let stored = task.seconds {
                    stored
                } else if let started = task.startedAt {
                    max(0, (task.finishedAt ?? now).timeIntervalSince(started))
                } else {
                    nil
                }
            return TaskEntry(
                TaskFacts(task, seconds: seconds.map { Self.rounded($0, places: 3) }, pushes: pushes),
                TaskStatus(
                    merge: merges[task.name].map(MergeEntry.init), dependsOn: task.dependsOn,
                    attempts: Self.attempts(of: task, earlier: attempts, seconds: seconds)))
        }
        // Every attempt's time counts; a task's own seconds already span the attempts of its
        // latest execution, so only attempts of earlier executions (`grove retry`) are added.
        let earlierSeconds = tasks.reduce(0.0) { sum, task in
            sum
                + attempts.filter { attempt in
                    guard attempt.task == task.name else { return false }
                    guard let started = task.startedAt, let ended = attempt.finishedAt else { return true }
                    return ended <= started
                }.reduce(0) { $0 + ($1.seconds ?? 0) }
        }
        let sum = self.tasks.reduce(earlierSeconds) { $0 + ($1.seconds ?? 0) }
        taskSeconds = Self.rounded(sum, places: 3)
        speedup = wall > 0 ? Self.rounded(sum / wall, places: 2) : 0
    }

    private static func attempts(of task: TaskRecord, earlier: [AttemptRecord], seconds: Double?) -> [AttemptEntry] {
        var entries = earlier.filter { $0.task == task.name }.map { attempt in
            AttemptEntry(
                number: attempt.number, state: attempt.state, exitCode: attempt.exitCode,
                seconds: attempt.seconds.map { rounded($0, places: 3) }, log: attempt.log, savedRef: attempt.savedRef)
        }
        if task.attempts > 0 && !entries.contains(where: { $0.number == task.attempts }) {
            entries.append(
                AttemptEntry(
                    number: task.attempts, state: task.state, exitCode: task.exitCode,
                    seconds: entries.isEmpty ? seconds.map { rounded($0, places: 3) } : nil, log: task.log,
                    savedRef: nil))
        }
        return entries
    }

    /// The document as one line of JSON (keys sorted, so output is stable).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    private static func rounded(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}
