/// Why grove ended a task's process group itself rather than letting it finish.
public enum StopReason: String, Sendable, Equatable {
    /// The task ran past its `timeout`.
    case timedOut = "timed_out"
    /// grove was interrupted (Ctrl-C, SIGTERM, `--fail-fast`) or the Swift task was cancelled.
    case cancelled
}

/// How a task's main process ended, as recorded in the state database and the report.
public struct ProcessOutcome: Sendable, Equatable {
    /// The raw end of the main process: an exit code, or the signal that killed it.
    public enum Termination: Sendable, Equatable {
        /// `exit(code)`.
        case exited(Int32)
        /// Killed by this signal number.
        case signaled(Int32)

        /// As stored (an exit code, else a signal); nil when neither is known.
        public init?(exitCode: Int32?, signal: Int32?) {
            if let exitCode {
                self = .exited(exitCode)
            } else if let signal {
                self = .signaled(signal)
            } else {
                return nil
            }
        }

        /// The one wording of how a process ended: "exited 3", "was killed by signal 9".
        public var words: String {
            switch self {
            case .exited(let code): "exited \(code)"
            case .signaled(let signal): "was killed by signal \(signal)"
            }
        }
    }

    /// How the main process ended.
    public var termination: Termination
    /// Set when grove stopped the group; then the exit code does not decide success.
    public var stopReason: StopReason?
    /// The main process's pid, which is also its process group and session id.
    public var processID: Int32

    /// Creates an outcome; `TaskProcess.run` is the usual source.
    public init(termination: Termination, stopReason: StopReason?, processID: Int32) {
        self.termination = termination
        self.stopReason = stopReason
        self.processID = processID
    }

    /// The exit code, or `nil` when the process died of a signal.
    public var exitCode: Int32? {
        if case .exited(let code) = termination { return code }
        return nil
    }

    /// True when grove ended the task because of its timeout.
    public var timedOut: Bool { stopReason == .timedOut }

    /// True when grove ended the task because it was interrupted.
    public var cancelled: Bool { stopReason == .cancelled }

    /// The final task state: a stop reason wins over the exit code, even a clean exit on SIGTERM.
    public var taskState: TaskState {
        switch stopReason {
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case nil: return termination == .exited(0) ? .succeeded : .failed
        }
    }
}
