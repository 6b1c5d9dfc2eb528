/// The one seam through which grove starts every process of a task — setup, command, check and
/// PR command. Runner, the merge queue and `grove push` hold a launcher and know nothing of how
/// it starts a process; a new back end is a new launcher or a `CommandWrapper`, never a branch
/// in them.
public protocol TaskLauncher: Sendable {
    /// Runs `request` to its end and returns how it ended; when it returns, nothing it started is
    /// left. `handle` stops it (Ctrl-C, `--fail-fast`, a timeout); `onStart` gets the claim to
    /// store, right after the start, for recovery after a crash.
    func launch(
        _ request: LaunchRequest, handle: TaskProcessHandle, onStart: @escaping @Sendable (ProcessClaim) -> Void
    ) async throws -> ProcessOutcome

    /// Ends what `claim` names, left behind by a grove that died, and returns once it is gone.
    /// A claim of a kind this launcher does not know is left alone.
    func reap(_ claim: ProcessClaim) async
}

extension TaskLauncher {
    /// Launches `request` with a stop handle registered in `control` under `name` for as long as
    /// it runs (so Ctrl-C and `--fail-fast` reach it), or a private handle without a control.
    public func run(
        _ request: LaunchRequest, control: RunControl?, as name: String,
        onStart: @escaping @Sendable (ProcessClaim) -> Void = { _ in }
    ) async throws -> ProcessOutcome {
        guard let control else {
            return try await launch(request, handle: TaskProcessHandle(), onStart: onStart)
        }
        let handle = control.handle(for: name)
        defer { control.release(name) }
        return try await launch(request, handle: handle, onStart: onStart)
    }
}
