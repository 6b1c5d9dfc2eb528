/// Runs a command inside something — a sandbox, a cluster step — by rewriting what is launched:
/// `srun … -- bwrap … -- cmd`. Wrappers compose in `WrappedLauncher`; the wrapped spec keeps the
/// original's working directory, environment, log and time limit unless the wrapper must change
/// them.
public protocol CommandWrapper: Sendable {
    /// The spec to launch in place of `spec`: the same command, run inside what this adds.
    func wrap(_ spec: ProcessSpec, for request: LaunchRequest) throws -> ProcessSpec
}

/// A launcher that runs every request through `wrappers` (the first one outermost) and then
/// `base`: `WrappedLauncher(base: LocalGroupLauncher(), wrappers: [slurm, sandbox])` launches
/// `srun … -- bwrap … -- cmd` as a local process group.
public struct WrappedLauncher: TaskLauncher {
    public let base: any TaskLauncher
    public let wrappers: [any CommandWrapper]

    public init(base: any TaskLauncher, wrappers: [any CommandWrapper]) {
        self.base = base
        self.wrappers = wrappers
    }

    public func launch(
        _ request: LaunchRequest, handle: TaskProcessHandle, onStart: @escaping @Sendable (ProcessClaim) -> Void
    ) async throws -> ProcessOutcome {
        var wrapped = request
        // Innermost first, so the first wrapper ends up outermost.
        for wrapper in wrappers.reversed() {
            wrapped.spec = try wrapper.wrap(wrapped.spec, for: request)
        }
        return try await base.launch(wrapped, handle: handle, onStart: onStart)
    }

    public func reap(_ claim: ProcessClaim) async {
        await base.reap(claim)
    }
}
