import Synchronization

/// The one place that stops a run (STYLE.md's "Cancellator"): Ctrl-C, SIGTERM and `--fail-fast`
/// come here, and every task process running at that moment — and any started later by mistake —
/// is ended as a group: SIGTERM, the grace period, SIGKILL. A second Ctrl-C kills at once.
public final class RunControl: Sendable {
    /// Why the run is stopping early.
    public enum Stop: Sendable, Equatable {
        /// Ctrl-C or SIGTERM to grove: the run ends `interrupted`, grove exits 130.
        case interrupted
        /// `--fail-fast`: this task failed, so the others are cancelled; the run ends `finished`.
        case failFast(task: String)
        /// The state database could not be written: a run that cannot be recorded must not go on unseen.
        case stateFailure
        /// `--first N`: N tasks succeeded, so the others are cancelled; the run ends `finished`.
        case firstN(Int)
    }

    private struct State {
        var stop: Stop?
        var killed = false
        /// The process of each task currently running one (setup or command).
        var handles: [String: TaskProcessHandle] = [:]
        /// Told of every stop request, e.g. to show it in the progress display.
        var listener: (@Sendable (Stop, _ killing: Bool) -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the run is stopping, or nil while it goes on.
    public var stop: Stop? { state.withLock { $0.stop } }

    /// True once the run is stopping for any reason: no new task or command starts.
    public var isStopping: Bool { stop != nil }

    /// Ctrl-C / SIGTERM: ends every running task's group (SIGTERM, grace, SIGKILL).
    public func interrupt() {
        stopAll(.interrupted)
    }

    /// The second Ctrl-C: SIGKILL to every running task's group now.
    public func kill() {
        let (handles, stop, listener) = state.withLock { state in
            if state.stop == nil { state.stop = .interrupted }
            state.killed = true
            return (Array(state.handles.values), state.stop ?? .interrupted, state.listener)
        }
        listener?(stop, true)
        for handle in handles { handle.kill() }
    }

    /// Calls `listener` on each later stop request, and at once if the run is already stopping.
    func listen(_ listener: @escaping @Sendable (Stop, _ killing: Bool) -> Void) {
        let (stop, killed) = state.withLock { state in
            state.listener = listener
            return (state.stop, state.killed)
        }
        if let stop { listener(stop, killed) }
    }

    /// `--fail-fast` after `task` failed: the others are cancelled like on Ctrl-C, but the run finishes.
    func failFast(after task: String) {
        stopAll(.failFast(task: task))
    }

    /// `--first N` is reached: the other tasks are cancelled like on Ctrl-C, but the run finishes.
    func firstReached(_ count: Int) {
        stopAll(.firstN(count))
    }

    /// The state database failed: every task is ended like on Ctrl-C.
    func stateFailed() {
        stopAll(.stateFailure)
    }

    private func stopAll(_ reason: Stop) {
        let (handles, listener) = state.withLock { state in
            // Only the first request is news: later ones (another failure) change nothing.
            guard state.stop == nil else { return ([TaskProcessHandle](), nil as (@Sendable (Stop, Bool) -> Void)?) }
            state.stop = reason
            return (Array(state.handles.values), state.listener)
        }
        listener?(reason, false)
        for handle in handles { handle.terminate(reason: .cancelled) }
    }

    /// A handle for the next process of `task`, registered so a stop reaches it; if the run is
    /// already stopping, the process is ended as soon as it is spawned.
    func handle(for task: String) -> TaskProcessHandle {
        let handle = TaskProcessHandle()
        let (stopping, killed) = state.withLock { state in
            state.handles[task] = handle
            return (state.stop != nil, state.killed)
        }
        if killed {
            handle.kill()
        } else if stopping {
            handle.terminate(reason: .cancelled)
        }
        return handle
    }

    /// Forgets `task`'s process once it is over.
    func release(_ task: String) {
        _ = state.withLock { $0.handles.removeValue(forKey: task) }
    }
}
