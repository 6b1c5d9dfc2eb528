import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A control for one running task process, held by whoever must stop it (Ctrl-C, `--fail-fast`);
/// it also publishes the pid/pgid for the state database and crash recovery.
public final class TaskProcessHandle: Sendable {
    private struct State {
        var processID: pid_t?
        var grace: Duration = .seconds(5)
        var stopReason: StopReason?
        var pendingStop: Duration?
        var killNow = false
        var ending: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Creates a handle to pass to `TaskProcess.run`.
    public init() {}

    /// The main process's pid, which is also its process group id; `nil` before the spawn.
    public var processID: pid_t? { state.withLock { $0.processID } }

    /// Why grove is stopping the process, if it is.
    public var stopReason: StopReason? { state.withLock { $0.stopReason } }

    /// Ends the whole group: SIGTERM, `grace` (default: the spec's), then SIGKILL. The first reason given wins.
    public func terminate(grace: Duration? = nil, reason: StopReason = .cancelled) {
        let start: (pid_t, Duration)? = state.withLock { state in
            if state.stopReason == nil { state.stopReason = reason }
            let grace = grace ?? state.grace
            guard let pid = state.processID else {
                state.pendingStop = grace
                return nil
            }
            guard state.ending == nil else { return nil }
            return (pid, grace)
        }
        if let (pid, grace) = start { beginEnding(pid, grace: grace) }
    }

    /// Kills the whole group at once with SIGKILL (the second Ctrl-C), cutting any grace period short.
    public func kill() {
        let pid: pid_t? = state.withLock { state in
            if state.stopReason == nil { state.stopReason = .cancelled }
            state.killNow = true
            return state.processID
        }
        if let pid { ProcessGroup.send(SIGKILL, to: pid) }
        terminate()  // makes sure something waits for the group to be gone
    }

    /// Called once the child exists: records it and carries out a stop requested before the spawn.
    func started(processID pid: pid_t, grace: Duration) {
        let (pending, killNow) = state.withLock { state in
            state.processID = pid
            state.grace = grace
            return (state.pendingStop, state.killNow)
        }
        if killNow { ProcessGroup.send(SIGKILL, to: pid) }
        if let pending { terminate(grace: pending) }
    }

    /// Called after the main process exited: ends what is left of the group and waits until it is gone.
    func finish() async {
        let (pid, grace) = state.withLock { ($0.processID, $0.grace) }
        if let pid, !ProcessGroup.isGone(pid) { beginEnding(pid, grace: grace) }
        await state.withLock { $0.ending }?.value
    }

    /// Starts the SIGTERM → grace → SIGKILL sequence once; later calls reuse the running one.
    private func beginEnding(_ pid: pid_t, grace: Duration) {
        state.withLock { state in
            guard state.ending == nil else { return }
            // Unstructured on purpose: the sequence must run to the end even if the caller is cancelled.
            state.ending = Task { [self] in
                await ProcessGroup.end(pid, grace: grace, killNow: { self.state.withLock { $0.killNow } })
            }
        }
    }
}
