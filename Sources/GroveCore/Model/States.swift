/// Where a task is in its life (DESIGN.md, "Task lifecycle"). Raw values are what `--json`,
/// `grove status` and the state database use.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case queued
    case preparing
    case running
    case succeeded
    case failed
    case timedOut = "timed_out"
    case cancelled
    /// Never started because a task it depends on did not succeed.
    case skipped

    /// True once the task will not change state again in this run.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .timedOut, .cancelled, .skipped: return true
        case .queued, .preparing, .running: return false
        }
    }
}

/// Where a run is: going on, done, or stopped by Ctrl-C / SIGTERM / a crash.
public enum RunState: String, Sendable, Codable, CaseIterable {
    case running
    case finished
    case interrupted
}
