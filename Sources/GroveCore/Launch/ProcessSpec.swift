/// What to run for one task and under which limits; everything `TaskProcess.run` needs, nothing it decides.
public struct ProcessSpec: Sendable, Equatable {
    /// How the command is given: a shell line from the task file, or an argument vector from the CLI.
    public enum Command: Sendable, Equatable {
        /// Run through `/bin/sh -c`, so task files can use pipes and `&&`.
        case shell(String)
        /// Run directly; the first element is a path or a name looked up in `PATH`.
        case argv([String])
    }

    /// The command of the task.
    public var command: Command
    /// The task's worktree: the command starts there.
    public var workingDirectory: String
    /// Added to (or replacing in) grove's own environment, e.g. the `GROVE_*` variables.
    public var environment: [String: String]
    /// Names removed from grove's own environment (e.g. `GIT_DIR`, which would point a task's git
    /// commands at grove's repository instead of the task's worktree).
    public var unsetEnvironment: Set<String>
    /// Receives stdout and stderr, appended by file descriptor so output is never held in memory.
    public var logFile: String
    /// After this long the group gets SIGTERM, then SIGKILL after `grace`; `nil` means no limit.
    public var timeout: Duration?
    /// Time between SIGTERM and SIGKILL, so well-behaved tasks can clean up.
    public var grace: Duration

    /// Creates a spec; the grace period defaults to DESIGN.md's 5 seconds.
    public init(
        command: Command,
        workingDirectory: String,
        environment: [String: String] = [:],
        unsetEnvironment: Set<String> = [],
        logFile: String,
        timeout: Duration? = nil,
        grace: Duration = .seconds(5)
    ) {
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.unsetEnvironment = unsetEnvironment
        self.logFile = logFile
        self.timeout = timeout
        self.grace = grace
    }
}
