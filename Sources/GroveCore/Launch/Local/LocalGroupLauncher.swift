#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a process on this machine as its own process group (safety promise 3): `TaskProcess`,
/// with the watchdog that ends the group should grove die. Its claim is the group.
public struct LocalGroupLauncher: TaskLauncher {
    public init() {}

    public func launch(
        _ request: LaunchRequest, handle: TaskProcessHandle, onStart: @escaping @Sendable (ProcessClaim) -> Void
    ) async throws -> ProcessOutcome {
        try await TaskProcess.run(request.spec, handle: handle) { onStart(.processGroup($0)) }
    }

    /// SIGKILL to the group, then a wait of up to two seconds for it to be gone: the caller is
    /// about to move the worktree the group ran in.
    public func reap(_ claim: ProcessClaim) async {
        guard case .processGroup(let group) = claim, ProcessLiveness.isAlive(group) else { return }
        ProcessGroup.send(SIGKILL, to: group)
        for _ in 0..<100 where !ProcessGroup.isGone(group) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
