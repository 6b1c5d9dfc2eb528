import Foundation
import GroveCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real processes, real signals: the process-group promises of DESIGN.md (safety promise 3).
@Suite("task process", .timeLimit(.minutes(1)))
final class TaskProcessTests: Sendable {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "grove-taskprocess-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var log: String { directory + "/task.log" }

    func agent(_ name: String) -> String {
        URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Fixtures/agents/\(name)").path
    }

    func spec(_ command: ProcessSpec.Command, timeout: Duration? = nil, grace: Duration = .seconds(1))
        -> ProcessSpec
    {
        ProcessSpec(
            command: command, workingDirectory: directory, environment: ["GROVE_TASK": "t1"], logFile: log,
            timeout: timeout, grace: grace)
    }

    func logText() throws -> String { try String(contentsOfFile: log, encoding: .utf8) }

    /// The pids a command printed, one per line, in its log.
    func loggedPIDs() throws -> [pid_t] {
        try logText().split(separator: "\n").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
    }

    @Test func exitCodeAndBothStreamsReachTheLog() async throws {
        let outcome = try await TaskProcess.run(spec(.argv([agent("fail.sh"), "boom"])))
        #expect(outcome.termination == .exited(3))
        #expect(outcome.exitCode == 3)
        #expect(outcome.taskState == .failed)
        #expect(outcome.stopReason == nil)
        #expect(try logText().contains("boom"))
        #expect(try logText().split(separator: "\n").count == 2)
    }

    @Test func outputIsAppendedToTheLogFile() async throws {
        try "earlier line\n".write(toFile: log, atomically: false, encoding: .utf8)
        let outcome = try await TaskProcess.run(spec(.argv([agent("print-lots.sh"), "1"])))
        #expect(outcome.taskState == .succeeded)
        let size = try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int
        #expect(size == 1_048_576 + "earlier line\n".utf8.count)
    }

    @Test func stdinIsClosed() async throws {
        // With an open stdin, `cat` would wait until the generous timeout.
        let outcome = try await TaskProcess.run(spec(.argv(["cat"]), timeout: .seconds(20)))
        #expect(outcome.taskState == .succeeded)
    }

    @Test func environmentAndWorkingDirectory() async throws {
        let outcome = try await TaskProcess.run(
            spec(.shell(#"echo "task=$GROVE_TASK home=${HOME:+set}"; pwd -P"#)))
        #expect(outcome.taskState == .succeeded)
        let real = URL(filePath: directory).resolvingSymlinksInPath().path
        #expect(try logText() == "task=t1 home=set\n\(real)\n")
    }

    #if os(Linux)
        @Test func childStartsWithEmptySignalMaskAndDefaultDispositions() async throws {
            // `$$` is the direct child (the shell that swift-subprocess spawned). It reads its own
            // status with builtins only: a forked `grep` could read it while dash has every signal
            // blocked around its vfork (measured: a flaky all-blocked SigBlk).
            _ = try await TaskProcess.run(
                spec(
                    .shell(
                        #"while read -r line; do case $line in SigBlk:*|SigIgn:*) echo "$line";; esac; done < /proc/$$/status"#
                    )))
            let masks = try Dictionary(
                uniqueKeysWithValues: logText().split(separator: "\n").map { line in
                    let parts = line.split(separator: ":")
                    return (String(parts[0]), UInt64(parts[1].trimmingCharacters(in: .whitespaces), radix: 16))
                })
            #expect(masks["SigBlk"] == 0)
            // Signal n is bit n-1. glibc's internal real-time signals (32, 33) may show up; these must not.
            let ignored = try #require(masks["SigIgn"] ?? nil)
            for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD] {
                #expect(ignored & (1 << UInt64(signal - 1)) == 0, "signal \(signal) is ignored")
            }
        }
    #endif

    @Test func backgroundChildIsEndedWhenTheMainProcessExits() async throws {
        let outcome = try await TaskProcess.run(spec(.argv([agent("spawn-background.sh")])))
        #expect(outcome.taskState == .succeeded)
        let background = try #require(try loggedPIDs().first)
        #expect(!isRunning(background))
        #expect(!groupHasLiveMember(outcome.processID))
    }

    @Test func timeoutEndsTheWholeGroup() async throws {
        let outcome = try await TaskProcess.run(
            spec(.shell("sleep 600 & echo $!; exec \(agent("hang.sh"))"), timeout: .seconds(1)))
        #expect(outcome.taskState == .timedOut)
        #expect(outcome.timedOut)
        #expect(outcome.termination == .signaled(SIGTERM))
        #expect(!isRunning(try #require(try loggedPIDs().first)))
        #expect(!groupHasLiveMember(outcome.processID))
    }

    @Test func processesIgnoringSIGTERMAreKilledAfterTheGrace() async throws {
        let outcome = try await TaskProcess.run(
            spec(.shell(#"trap "" TERM; sleep 600 & echo $!; sleep 600"#), timeout: .seconds(1)))
        #expect(outcome.taskState == .timedOut)
        #expect(outcome.termination == .signaled(SIGKILL))
        #expect(!isRunning(try #require(try loggedPIDs().first)))
        #expect(!groupHasLiveMember(outcome.processID))
    }

    @Test func cleanExitOnSIGTERMIsStillTimedOut() async throws {
        let outcome = try await TaskProcess.run(
            spec(.shell(#"trap "exit 0" TERM; sleep 600 & wait"#), timeout: .seconds(1)))
        #expect(outcome.termination == .exited(0))
        #expect(outcome.taskState == .timedOut)
        #expect(!groupHasLiveMember(outcome.processID))
    }

    @Test func cancellingTheSwiftTaskEndsTheGroup() async throws {
        let handle = TaskProcessHandle()
        let spec = spec(.shell(#"trap "exit 0" TERM; sleep 600 & echo $!; wait"#))
        let running = Task { try await TaskProcess.run(spec, handle: handle) }
        try await waitForOutput()
        running.cancel()
        let outcome = try await running.value
        #expect(outcome.taskState == .cancelled)
        #expect(outcome.cancelled)
        #expect(outcome.processID == handle.processID)
        #expect(!isRunning(try #require(try loggedPIDs().first)))
        #expect(!groupHasLiveMember(outcome.processID))
    }

    @Test func killCutsTheGraceShort() async throws {
        let handle = TaskProcessHandle()
        // A grace far above the time limit: only `kill()` can end this test in time.
        let spec = spec(.shell(#"trap "" TERM; sleep 600 & echo $!; sleep 600"#), grace: .seconds(600))
        let started = Task { try await TaskProcess.run(spec, handle: handle) }
        try await waitForOutput()
        handle.terminate()
        try await Task.sleep(for: .milliseconds(200))
        handle.kill()
        let outcome = try await started.value
        #expect(outcome.taskState == .cancelled)
        #expect(outcome.termination == .signaled(SIGKILL))
        #expect(!isRunning(try #require(try loggedPIDs().first)))
    }

    @Test func cancelledBeforeTheSpawnStartsNothing() async throws {
        let spec = spec(.argv([agent("hang.sh")]))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await TaskProcess.run(spec)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!FileManager.default.fileExists(atPath: log))
    }

    @Test func emptyCommandIsRejected() async throws {
        await #expect(throws: TaskProcessError.emptyCommand) { try await TaskProcess.run(spec(.argv([]))) }
    }

    @Test func missingExecutableIsAnError() async throws {
        let handle = TaskProcessHandle()
        await #expect(throws: LaunchError.commandNotFound(directory + "/no-such-agent")) {
            try await TaskProcess.run(spec(.argv([directory + "/no-such-agent"])), handle: handle)
        }
        #expect(handle.processID == nil)
    }

    /// Waits until the command has printed its first line (the background pid).
    func waitForOutput() async throws {
        for _ in 0..<500 {
            if let pids = try? loggedPIDs(), !pids.isEmpty { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the command printed nothing")
    }
}

/// True if `pid` exists and is not a zombie waiting for PID 1 to reap it.
private func isRunning(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let state = procState(pid) else { return false }
    return state != "Z" && state != "X"
}

/// True if some non-zombie process is still in process group `group`.
func groupHasLiveMember(_ group: pid_t) -> Bool {
    guard kill(-group, 0) == 0 else { return false }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.contains { pid in
        guard let stat = procStat(pid) else { return false }
        return stat.group == group && stat.state != "Z" && stat.state != "X"
    }
}

private func procState(_ pid: pid_t) -> Character? { procStat(pid)?.state }

/// State and process group from `/proc/<pid>/stat` (after the last `)`, which ends the command name).
private func procStat(_ pid: pid_t) -> (state: Character, group: pid_t)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count >= 3, let state = fields[0].first, let group = pid_t(fields[2]) else { return nil }
    return (state, group)
}
