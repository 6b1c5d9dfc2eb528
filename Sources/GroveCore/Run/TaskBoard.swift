import GroveGit
import Synchronization

/// What the scheduler knows of every task of a run while it goes on: final states and branch
/// tips, so a task with `depends_on` starts once its dependencies succeeded — from their tips —
/// and is skipped as soon as one of them cannot.
final class TaskBoard: Sendable {
    private struct State {
        var finals: [String: TaskState] = [:]
        var heads: [String: ObjectID] = [:]
        var succeeded = 0
    }

    private let state: Mutex<State>
    /// The tasks this execution runs; any other dependency must already have succeeded.
    private let scheduled: Set<String>

    /// `settled`: tasks of the run that this execution does not run (`grove retry`), with their
    /// stored state and tip.
    init(scheduled: [PlannedTask], settled: [TaskRecord] = []) {
        self.scheduled = Set(scheduled.map(\.name))
        var initial = State()
        for record in settled where record.state.isFinal {
            initial.finals[record.name] = record.state
            if let head = record.headCommit.flatMap(ObjectID.init(hex:)) { initial.heads[record.name] = head }
        }
        state = Mutex(initial)
    }

    /// Records a task's end; returns how many tasks of this execution have succeeded so far.
    @discardableResult
    func settle(_ name: String, _ final: TaskState, head: ObjectID?) -> Int {
        state.withLock { state in
            state.finals[name] = final
            if let head { state.heads[name] = head }
            if final == .succeeded { state.succeeded += 1 }
            return state.succeeded
        }
    }

    /// True when every dependency of `task` succeeded.
    func isReady(_ task: PlannedTask) -> Bool {
        state.withLock { state in task.dependsOn.allSatisfy { state.finals[$0] == .succeeded } }
    }

    /// Why `task` can never start in this execution (a dependency ended without success, or is
    /// not part of it and has not succeeded); nil while it still may.
    func blocker(of task: PlannedTask) -> String? {
        state.withLock { state in
            for dependency in task.dependsOn {
                if let final = state.finals[dependency] {
                    if final != .succeeded {
                        return "its dependency \(dependency) "
                            + (final == .skipped
                                ? "was skipped" : final == .timedOut ? "timed out" : "\(final.rawValue)")
                    }
                } else if !scheduled.contains(dependency) {
                    return "its dependency \(dependency) has not succeeded; retry it too"
                }
            }
            return nil
        }
    }

    /// The tips of `task`'s dependencies, in `depends_on` order (all known once it is ready).
    func dependencyHeads(of task: PlannedTask) -> [ObjectID] {
        state.withLock { state in task.dependsOn.compactMap { state.heads[$0] } }
    }
}
