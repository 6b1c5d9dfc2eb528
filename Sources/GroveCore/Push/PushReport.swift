import Foundation

/// What `grove push` is asked to do.
public struct PushOptions: Sendable, Equatable {
    /// The run whose task branches to push; nil: the latest.
    public var run: Int?
    /// The remote's name, looked up in each task's repository.
    public var remote: String
    /// Only these tasks (in run order); empty: every task of the run that can be pushed.
    public var tasks: [String]
    /// Replace the remote's branch when it is still where grove last pushed it.
    public var forceWithLease: Bool
    /// Run once per pushed task, with `{branch}`, `{title}`… filled in (see `PullRequestCommand`).
    public var prCommand: String?

    public init(
        run: Int? = nil, remote: String = "origin", tasks: [String] = [], forceWithLease: Bool = false,
        prCommand: String? = nil
    ) {
        self.run = run
        self.remote = remote
        self.tasks = tasks
        self.forceWithLease = forceWithLease
        self.prCommand = prCommand
    }
}

/// Bad input to `grove push` (an unknown run or task, an empty remote name): exit 2, nothing done.
public struct PushInputError: Error, Sendable, Equatable, LocalizedError {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var errorDescription: String? { message }
}

/// What `grove push` did: one entry per task it tried, in run order, and the tasks it left out.
/// The JSON form (`grove push --json`) always has every key, `null` when it does not apply.
public struct PushReport: Codable, Sendable, Equatable {
    public var run: Int
    public var remote: String
    public var tasks: [TaskPush]
    /// Tasks not pushed: not succeeded, without commits, or not reached after Ctrl-C. Without
    /// `--task`, every such task of the run; with it, those of the named tasks.
    public var notPushed: [NotPushed]
    /// Ctrl-C stopped it; what was not reached is in `notPushed`.
    public var interrupted: Bool

    public init(run: Int, remote: String, tasks: [TaskPush], notPushed: [NotPushed], interrupted: Bool) {
        self.run = run
        self.remote = remote
        self.tasks = tasks
        self.notPushed = notPushed
        self.interrupted = interrupted
    }

    /// The PR step of one task, for people (the JSON has its fields).
    public enum PullRequestStep: Sendable, Equatable {
        /// No `--pr-command`, or the push did not succeed.
        case notRun
        /// The command ran and exited 0 (`prURL` is what it printed, if anything).
        case created
        /// Not run again: an earlier PR command of this branch succeeded and named `prURL`, and
        /// the branch has not moved since.
        case exists
        /// The command failed; the words say how (`exit 1`, `signal 9`, `could not start: …`).
        case failed(String)
        /// The command was due but not run (Ctrl-C came first, the PR body could not be written).
        case skipped(String)
    }

    /// One task branch pushed (or tried) to the remote.
    public struct TaskPush: Codable, Sendable, Equatable {
        public var task: String
        public var branch: String
        public var remote: String
        public var state: PushState
        @Nullable public var reason: String?
        /// The commit the remote's branch is at, when pushed or up to date.
        @Nullable public var commit: String?
        @Nullable public var prBody: String?
        @Nullable public var prURL: String?
        @Nullable public var prExitCode: Int32?
        @Nullable public var prLog: String?
        /// Not in the JSON, which has the fields above.
        public var pullRequest: PullRequestStep = .notRun
        /// Why the outcome could not be stored in the state database (exit 1); printed on stderr.
        public var recordProblem: String?

        public init(task: String, branch: String, remote: String, state: PushState, reason: String? = nil) {
            self.task = task
            self.branch = branch
            self.remote = remote
            self.state = state
            self.reason = reason
        }

        /// Pushed or up to date, and the PR step (if any) went well.
        public var succeeded: Bool {
            guard state.isSuccess, recordProblem == nil else { return false }
            switch pullRequest {
            case .notRun, .created, .exists: return true
            case .failed, .skipped: return false
            }
        }

        enum CodingKeys: String, CodingKey {
            case task, branch, remote, state, reason, commit
            case prBody = "pr_body"
            case prURL = "pr_url"
            case prExitCode = "pr_exit_code"
            case prLog = "pr_log"
        }
    }

    /// A task of the run that was not pushed, and why.
    public struct NotPushed: Codable, Sendable, Equatable {
        public var task: String
        public var state: TaskState
        public var reason: String
        /// Named with `--task`: not pushing it fails the command.
        public var requested: Bool

        public init(task: String, state: TaskState, reason: String, requested: Bool) {
            self.task = task
            self.state = state
            self.reason = reason
            self.requested = requested
        }
    }

    enum CodingKeys: String, CodingKey {
        case run, remote, tasks, interrupted
        case notPushed = "not_pushed"
    }

    /// True when every task tried is on the remote, every PR command succeeded and every task
    /// named with `--task` was pushed (exit status 0).
    public var succeeded: Bool {
        !interrupted && tasks.allSatisfy(\.succeeded) && !notPushed.contains(where: \.requested)
    }

    /// How many tasks ended in each push state.
    public var counts: [PushState: Int] {
        Dictionary(grouping: tasks, by: \.state).mapValues(\.count)
    }

    /// The report as one line of JSON with sorted keys.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
