/// The words of `grove run` for stops and endings, apart from the logic that decides them.
enum RunMessages {

    static func stopping(_ stop: RunControl.Stop, killing: Bool) -> String {
        if killing { return "interrupted again: killing the running tasks now" }
        switch stop {
        case .interrupted:
            return
                "interrupted: ending the running tasks (SIGTERM, then SIGKILL after 5 s); interrupt again to kill them now"
        case .failFast(let task):
            return "--fail-fast: \(task) failed; ending the other tasks"
        case .stateFailure:
            return "the state database could not be written; ending the running tasks"
        case .firstN(let count):
            return "--first: \(count) task\(count == 1 ? "" : "s") succeeded; cancelling the others"
        }
    }

    static func notStarted(_ stop: RunControl.Stop?) -> String {
        "not started: " + cause(stop)
    }

    static func stopped(_ stop: RunControl.Stop?) -> String {
        "stopped: " + cause(stop)
    }

    static func cause(_ stop: RunControl.Stop?) -> String {
        switch stop {
        case .failFast(let task): "--fail-fast after \(task) failed"
        case .stateFailure: "the state database could not be written"
        case .firstN(let count): "first-n: \(count) task\(count == 1 ? "" : "s") already succeeded"
        case .interrupted, nil: "grove was interrupted"
        }
    }

    /// "exited 3", "was killed by signal 9", "ran past the task's timeout", "was stopped: …".
    static func ending(_ outcome: ProcessOutcome, stop: RunControl.Stop?) -> String {
        switch (outcome.stopReason, outcome.termination) {
        case (.timedOut, _): "ran past the task's timeout"
        case (.cancelled, _): "was " + stopped(stop)
        case (nil, let termination): termination.words
        }
    }

    static func seconds(_ duration: Duration?) -> String {
        guard let duration else { return "none" }
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%g s", value)
    }

    static func display(_ command: TaskCommand, _ task: PlannedTask) -> String {
        switch command {
        case .shell(let script): script
        case .arguments: command.argv(task.commandValues).joined(separator: " ")
        }
    }
}
