import Subprocess
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a task's process could not be started (a command that starts and fails is an outcome, not an error).
public enum TaskProcessError: Error, Sendable, Equatable {
    /// `.argv([])`: nothing to run.
    case emptyCommand
    /// The log file could not be opened for appending.
    case cannotOpenLog(path: String, errno: Int32)
}

/// Runs one task's command as its own process group (DESIGN.md, safety promise 3).
public enum TaskProcess {
    /// Runs `spec` to the end and returns how it ended; when it returns, no process of the group is left.
    ///
    /// The child gets its own session (so its group id is its pid), stdin from `/dev/null`, stdout and
    /// stderr appended to `spec.logFile`, an empty signal mask and default signal dispositions.
    /// Cancelling the calling task, the timeout and `handle` all end the whole group: SIGTERM, grace, SIGKILL.
    /// `onStart` gets the pid (= pgid) right after the spawn, e.g. to record it for crash recovery.
    public static func run(
        _ spec: ProcessSpec,
        handle: TaskProcessHandle = TaskProcessHandle(),
        onStart: @escaping @Sendable (pid_t) -> Void = { _ in }
    ) async throws -> ProcessOutcome {
        try Task.checkCancellation()
        let configuration = try configuration(for: spec)
        let log = open(spec.logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw TaskProcessError.cannotOpenLog(path: spec.logFile, errno: errno) }

        // Should grove die without ending the group (SIGKILL), the watchdog ends it.
        let watchdog = GroupWatchdog.shared
        let watched = WatchedGroup()
        watchdog?.spawning()
        // Unstructured so that cancelling the caller does not trigger swift-subprocess's own teardown:
        // cancellation goes through `handle` instead, so the group gets exactly one SIGTERM and one grace.
        let execution = Task {
            try await Subprocess.run(
                configuration,
                input: .none,
                output: .fileDescriptor(.init(rawValue: log), closeAfterSpawningProcess: true),
                error: .combinedWithOutput
            ) { execution in
                let pid = execution.processIdentifier.value
                watchdog?.watch(pid)
                watched.set(pid)
                handle.started(processID: pid, grace: spec.grace)
                onStart(pid)
            }
        }
        // Once the group is gone (or was never made), the watchdog forgets it.
        func unwatch() {
            if let pid = watched.groupID {
                watchdog?.release(pid)
            } else {
                watchdog?.spawnFailed()
            }
        }

        let result: ExecutionResult<Void, FileDescriptorOutput, CombinedErrorOutput>
        do {
            result = try await waitForExit(of: execution, spec: spec, handle: handle)
        } catch {
            await handle.finish()
            unwatch()
            if (error as? SubprocessError)?.code == .executableNotFound, case .argv(let argv) = spec.command {
                throw LaunchError.commandNotFound(argv.first ?? "")
            }
            throw error
        }
        await handle.finish()
        unwatch()

        let termination: ProcessOutcome.Termination
        switch result.terminationStatus {
        case .exited(let code): termination = .exited(code)
        case .signaled(let signal): termination = .signaled(signal)
        }
        return ProcessOutcome(
            termination: termination,
            stopReason: handle.stopReason,
            processID: result.processIdentifier.value
        )
    }

    /// Waits for the main process to exit, ending the group on timeout or cancellation.
    private static func waitForExit(
        of execution: Task<ExecutionResult<Void, FileDescriptorOutput, CombinedErrorOutput>, any Error>,
        spec: ProcessSpec, handle: TaskProcessHandle
    ) async throws -> ExecutionResult<Void, FileDescriptorOutput, CombinedErrorOutput> {
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Event.self) { group in
                group.addTask { .exited(try await execution.value) }
                if let timeout = spec.timeout {
                    group.addTask {
                        do {
                            try await Task.sleep(for: timeout)
                            return .timerFired
                        } catch {
                            return .timerCancelled
                        }
                    }
                }
                while let event = try await group.next() {
                    switch event {
                    case .timerFired:
                        handle.terminate(grace: spec.grace, reason: .timedOut)
                    case .timerCancelled:
                        continue
                    case .exited(let result):
                        group.cancelAll()
                        return result
                    }
                }
                preconditionFailure("the process task always reports")
            }
        } onCancel: {
            handle.terminate(reason: .cancelled)
        }
    }

    private enum Event: Sendable {
        case exited(ExecutionResult<Void, FileDescriptorOutput, CombinedErrorOutput>)
        case timerFired
        case timerCancelled
    }

    /// Translates the spec into swift-subprocess terms: own session, group-wide teardown.
    private static func configuration(for spec: ProcessSpec) throws -> Configuration {
        let executable: Executable
        let arguments: [String]
        switch spec.command {
        case .shell(let line):
            executable = .path("/bin/sh")
            arguments = ["-c", line]
        case .argv(let argv):
            guard let first = argv.first else { throw TaskProcessError.emptyCommand }
            executable = first.contains("/") ? .path(.init(first)) : .name(first)
            arguments = Array(argv.dropFirst())
        }
        var overrides: [Environment.Key: String?] = [:]
        for name in spec.unsetEnvironment {
            if let key = Environment.Key(rawValue: name) { overrides[key] = .some(nil) }
        }
        for (name, value) in spec.environment {
            if let key = Environment.Key(rawValue: name) { overrides[key] = value }
        }
        if let watchdog = GroupWatchdog.shared, let key = Environment.Key(rawValue: GroupWatchdog.variable) {
            overrides[key] = watchdog.token
        }
        var options = PlatformOptions()
        options.createSession = true
        // Only reached if swift-subprocess tears down by itself (e.g. a failing body): still the whole group.
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: spec.grace)
        ]
        return Configuration(
            executable: executable,
            arguments: .init(arguments),
            environment: .inherit.updating(overrides),
            workingDirectory: .init(spec.workingDirectory),
            platformOptions: options
        )
    }
}

/// The group a spawn made, once it made one (set from swift-subprocess's body closure).
private final class WatchedGroup: Sendable {
    private let value = Mutex<pid_t?>(nil)

    var groupID: pid_t? { value.withLock { $0 } }

    func set(_ groupID: pid_t) { value.withLock { $0 = groupID } }
}
