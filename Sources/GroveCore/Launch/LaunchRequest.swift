/// One process grove starts for a task: what to run (`spec`) and why (`purpose`), apart from
/// how it is launched — a local process group, or that wrapped in a sandbox or a cluster step.
public struct LaunchRequest: Sendable, Equatable {
    /// Which of a task's processes this is. Wrappers may treat them differently (a check may run
    /// on other resources than the command).
    public enum Purpose: String, Sendable, Equatable {
        case setup, command, check
        /// `grove push --pr-command`.
        case pullRequest = "pull_request"
    }

    /// What to run, where, with which environment, log and time limit.
    public var spec: ProcessSpec
    public var purpose: Purpose
    /// The run and task the process belongs to (names a cluster job, labels a claim).
    public var run: Int
    public var task: String

    public init(_ spec: ProcessSpec, purpose: Purpose, run: Int, task: String) {
        self.spec = spec
        self.purpose = purpose
        self.run = run
        self.task = task
    }
}

/// Why a launcher could not start a request, in terms every back end shares (a command that
/// starts and fails is an outcome, not an error).
public enum LaunchError: Error, Sendable, Equatable {
    /// The program of an argv command is not on `PATH` (or not at the path given): as a shell
    /// would, the caller reports exit 127.
    case commandNotFound(String)
}
