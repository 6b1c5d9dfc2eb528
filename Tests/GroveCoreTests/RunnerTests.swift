import Foundation
import GroveGit
import Synchronization
import TestSupport
import Testing

@testable import GroveCore

/// `grove run`'s engine on real repositories and real processes; the git CLI checks what it did.
@Suite("Runner")
struct RunnerTests {
    let sandbox: Sandbox
    let home: GroveHome
    let repo: TestRepository

    init() throws {
        sandbox = try Sandbox()
        home = GroveHome(path: sandbox.child("home"))
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n", "src/app.txt": "app\n"])
    }

    /// Plans and runs `flags` from the repository's directory, recording every event.
    func run(
        _ flags: RunFlags, control: RunControl = RunControl(), events: EventLog = EventLog()
    ) async throws -> (Runner, StatusReport) {
        let runner = try Runner.start(flags: flags, home: home, currentDirectory: repo.path, processorCount: 2)
        let report = try await runner.execute(observer: events, control: control)
        return (runner, report)
    }

    func writeTaskFile(_ text: String, name: String = "grove.yaml") throws -> String {
        let path = repo.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func eightSleepsRunAtOnceWithEightJobs() async throws {
        let (_, report) = try await run(
            RunFlags(repos: [repo.path], count: 8, name: "nap", jobs: 8, command: ["sleep", "1"]))
        #expect(report.state == .finished)
        #expect(report.tasks.count == 8)
        #expect(report.tasks.allSatisfy { $0.state == .succeeded })
        #expect(report.tasks.map(\.name) == (1...8).map { "nap-\($0)" })
        // Each task sleeps 1 s; run one after the other they would take 8 s.
        #expect(report.speedup > 4, "speedup \(report.speedup), wall \(report.wallSeconds)")
    }

    @Test func neverMoreThanJobsTasksAtOnceAndSlotsStayBelowJobs() async throws {
        let (runner, report) = try await run(
            RunFlags(
                repos: [repo.path], count: 5, name: "slot", jobs: 2,
                command: ["sh", "-c", "echo $GROVE_SLOT > ../slot-$GROVE_TASK; sleep 0.3"]))
        #expect(report.tasks.allSatisfy { $0.state == .succeeded })
        let tasks = try runner.store.tasks(run: report.run)
        // At no instant were more than two tasks between their start and their end.
        let intervals = tasks.compactMap { task in task.startedAt.flatMap { s in task.finishedAt.map { (s, $0) } } }
        #expect(intervals.count == 5)
        for (start, _) in intervals {
            let overlapping = intervals.filter { $0.0 <= start && start < $0.1 }
            #expect(overlapping.count <= 2)
        }
        // Tasks started in file order.
        let starts = tasks.map { $0.startedAt ?? .distantFuture }
        #expect(starts == starts.sorted())
        for task in tasks {
            let slot = try String(contentsOfFile: home.worktrees + "/\(report.run)/slot-\(task.name)", encoding: .utf8)
            #expect(["0", "1"].contains(slot.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    @Test func uncommittedChangesAreCommittedOnTheTaskBranch() async throws {
        let file = try writeTaskFile(
            """
            command: \(Fixtures.agent("edit-no-commit"))
            tasks:
              - name: fix-readme
                instructions: |
                  Touch the readme
            """)
        let (_, report) = try await run(RunFlags(file: file))
        let task = try #require(report.tasks.first)
        #expect(task.state == .succeeded)
        #expect(task.branch == "grove/\(report.run)/fix-readme")
        #expect(task.worktree == home.worktrees + "/\(report.run)/fix-readme")
        #expect(task.commits == 1)
        #expect(Set(task.changedFiles) == ["README.md", "agent-fix-readme.txt"])

        // The git CLI agrees: one commit on the branch, with grove's message and the instructions.
        let log = try repo.output("log", "--format=%s%n%b", "main..\(task.branch)")
        #expect(log.hasPrefix("grove: fix-readme (run \(report.run))"))
        #expect(log.contains("Touch the readme"))
        let files = try repo.output("diff", "--name-only", "main...\(task.branch)")
        #expect(Set(files.split(separator: "\n").map(String.init)) == Set(task.changedFiles))
        let worktrees = try repo.output("worktree", "list", "--porcelain")
        #expect(worktrees.contains("worktree \(task.worktree)\n"))
        #expect(worktrees.contains("branch refs/heads/\(task.branch)"))
        let worktree = TestRepository(existing: task.worktree)
        #expect(try worktree.porcelainStatus().isEmpty)
        #expect(try repo.revParse(task.branch) == worktree.revParse("HEAD"))
    }

    @Test func theCommandGetsTheGroveEnvironmentAndTheTaskFileEnv() async throws {
        let file = try writeTaskFile(
            """
            base: main
            env: { LOG_LEVEL: debug }
            tasks:
              - name: envy
                instructions: do the thing
                command: "env | grep -E '^(GROVE_|LOG_LEVEL)' | sort > ../env-$GROVE_TASK.txt"
            """)
        let (_, report) = try await run(RunFlags(file: file))
        let task = try #require(report.tasks.first)
        #expect(task.state == .succeeded)
        let text = try String(contentsOfFile: home.worktrees + "/\(report.run)/env-envy.txt", encoding: .utf8)
        let variables = Dictionary(
            uniqueKeysWithValues: text.split(separator: "\n").map { line in
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            })
        #expect(
            variables == [
                "GROVE_RUN": String(report.run), "GROVE_TASK": "envy", "GROVE_INSTRUCTIONS": "do the thing",
                "GROVE_REPO": repo.path, "GROVE_BASE": "main", "GROVE_BRANCH": task.branch,
                "GROVE_WORKTREE": task.worktree, "GROVE_SLOT": "0", "LOG_LEVEL": "debug",
            ])
    }

    @Test func argvPlaceholdersAreFilledInsideEachArgument() async throws {
        let file = try writeTaskFile(
            """
            tasks:
              - name: echo
                instructions: "it's $(not) a shell; `really`"
                command: [sh, -c, 'printf "%s|%s" "$1" "$2" > ../argv.txt', x, "{instructions}", "b={branch}"]
            """)
        let (_, report) = try await run(RunFlags(file: file))
        #expect(report.tasks.first?.state == .succeeded)
        let text = try String(contentsOfFile: home.worktrees + "/\(report.run)/argv.txt", encoding: .utf8)
        #expect(text == "it's $(not) a shell; `really`|b=grove/\(report.run)/echo")
    }

    @Test func copyAndSetupPrepareTheWorktreeBeforeTheCommand() async throws {
        try "SECRET=1\n".write(toFile: repo.path + "/.env", atomically: true, encoding: .utf8)
        try repo.write([".gitignore": ".env\nnode_modules/\n"])
        try repo.commit("ignore env")
        let file = try writeTaskFile(
            """
            copy: [.env]
            setup: "mkdir node_modules && echo installed > node_modules/marker"
            command: "cat .env node_modules/marker > seen.txt"
            tasks:
              - name: prepared
            """)
        let (runner, report) = try await run(RunFlags(file: file))
        let task = try #require(report.tasks.first)
        #expect(task.state == .succeeded)
        let seen = try String(contentsOfFile: task.worktree + "/seen.txt", encoding: .utf8)
        #expect(seen == "SECRET=1\ninstalled\n")
        // Ignored files stay out of the commit; the command's own output goes in.
        #expect(task.changedFiles == ["seen.txt"])
        let log = try String(contentsOfFile: runner.logPath(of: "prepared"), encoding: .utf8)
        #expect(log.contains("[grove] setup: mkdir node_modules"))
    }

    @Test func aFailingSetupFailsTheTaskWithoutRunningTheCommand() async throws {
        let file = try writeTaskFile(
            """
            setup: "exit 4"
            command: "touch ran"
            tasks:
              - name: nosetup
            """)
        let (runner, report) = try await run(RunFlags(file: file))
        let task = try #require(report.tasks.first)
        #expect(task.state == .failed)
        #expect(task.exitCode == 4)
        #expect(try runner.store.task(run: report.run, name: "nosetup")?.reason == "setup exited 4")
        #expect(!FileManager.default.fileExists(atPath: task.worktree + "/ran"))
    }

    @Test func aFailedTaskKeepsItsWorktreeAsItIs() async throws {
        let (runner, report) = try await run(
            RunFlags(
                repos: [repo.path], name: "broken",
                command: ["sh", "-c", "echo half-done >> README.md; echo oops; exit 3"]))
        let task = try #require(report.tasks.first)
        #expect(task.state == .failed)
        #expect(task.exitCode == 3)
        #expect(task.commits == 0)
        // Nothing was committed: the change is still in the worktree, uncommitted.
        let worktree = TestRepository(existing: task.worktree)
        #expect(try worktree.porcelainStatus() == " M README.md")
        #expect(try repo.revParse(task.branch) == repo.revParse("main"))
        let log = try String(contentsOfFile: runner.logPath(of: "broken"), encoding: .utf8)
        #expect(log == "oops\n")
        #expect(task.log == runner.logPath(of: "broken"))
    }

    @Test func aTaskThatLeavesItsBranchFails() async throws {
        let (runner, report) = try await run(
            RunFlags(
                repos: [repo.path], name: "wanderer",
                command: ["sh", "-c", "git checkout -q -b elsewhere && echo x > new.txt"]))
        let task = try #require(report.tasks.first)
        #expect(task.state == .failed)
        let reason = try #require(try runner.store.task(run: report.run, name: "wanderer")?.reason)
        #expect(reason.contains("left its branch \(task.branch)"))
        #expect(reason.contains("HEAD is on elsewhere"))
        // Its worktree is kept as it is: nothing committed on either branch.
        #expect(try TestRepository(existing: task.worktree).porcelainStatus() == "?? new.txt")
        #expect(try repo.revParse("elsewhere") == repo.revParse("main"))
    }

    @Test func aCommandThatCannotStartFailsWithTheReason() async throws {
        let (runner, report) = try await run(
            RunFlags(repos: [repo.path], name: "ghost", command: ["no-such-command-for-grove"]))
        #expect(report.tasks.first?.state == .failed)
        let task = try #require(try runner.store.task(run: report.run, name: "ghost"))
        // As a shell would say it: exit 127, and the program's name.
        #expect(task.exitCode == 127)
        #expect(task.reason?.hasPrefix("command not found: no-such-command-for-grove (exit 127)") == true)
    }

    @Test func aBackgroundProcessLeftByTheCommandIsEnded() async throws {
        let marker = "6\(Int.random(in: 10_000...99_999))"
        let (runner, report) = try await run(
            RunFlags(repos: [repo.path], name: "spawner", command: [Fixtures.agent("spawn-background"), marker]))
        #expect(report.tasks.first?.state == .succeeded)
        let log = try String(contentsOfFile: runner.logPath(of: "spawner"), encoding: .utf8)
        let pid = try #require(Int32(log.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!ProcessTable.isRunning(pid))
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
    }

    @Test func aTaskPastItsTimeoutIsTimedOutAndItsGroupIsGone() async throws {
        let marker = "7\(Int.random(in: 10_000...99_999))"
        let file = try writeTaskFile(
            """
            timeout: 1s
            tasks:
              - name: slow
                command: "sleep \(marker) & sleep \(marker)"
            """)
        let (runner, report) = try await run(RunFlags(file: file))
        let task = try #require(report.tasks.first)
        #expect(task.state == .timedOut)
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        let stored = try #require(try runner.store.task(run: report.run, name: "slow"))
        #expect(stored.signal == 15)
        #expect(stored.reason == "ran past its timeout of 1 s")
    }

    @Test func failFastCancelsTheOthers() async throws {
        let marker = "8\(Int.random(in: 10_000...99_999))"
        let file = try writeTaskFile(
            """
            jobs: 2
            tasks:
              - name: breaks
                command: "sleep 0.2; exit 5"
              - name: long
                command: "sleep \(marker)"
              - name: later
                command: "true"
            """)
        let (runner, report) = try await run(RunFlags(file: file, failFast: true))
        #expect(report.state == .finished)
        #expect(report.tasks.map(\.state) == [.failed, .cancelled, .cancelled])
        #expect(
            try runner.store.task(run: report.run, name: "later")?.reason
                == "not started: --fail-fast after breaks failed")
        #expect(try runner.store.task(run: report.run, name: "later")?.startedAt == nil)
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
    }

    @Test func withoutFailFastEveryTaskRuns() async throws {
        let file = try writeTaskFile(
            """
            jobs: 1
            tasks:
              - { name: first, command: "exit 1" }
              - { name: second, command: "true" }
            """)
        let (_, report) = try await run(RunFlags(file: file))
        #expect(report.tasks.map(\.state) == [.failed, .succeeded])
    }

    @Test func interruptingEndsEveryTaskAndMarksTheRunInterrupted() async throws {
        let marker = "9\(Int.random(in: 10_000...99_999))"
        let control = RunControl()
        let events = EventLog()
        // Interrupt as soon as both running tasks have started.
        events.onEvent = { event, log in
            if event.kind == .taskStarted && log.count(of: .taskStarted) == 2 { control.interrupt() }
        }
        let (runner, report) = try await run(
            RunFlags(repos: [repo.path], count: 3, name: "stuck", jobs: 2, command: ["sleep", marker]),
            control: control, events: events)
        #expect(report.state == .interrupted)
        #expect(report.tasks.map(\.state) == [.cancelled, .cancelled, .cancelled])
        #expect(try runner.store.task(run: report.run, name: "stuck-3")?.reason == "not started: grove was interrupted")
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        #expect(events.kinds.last == .runFinished)
    }

    /// A run whose state cannot be written stops like on Ctrl-C and reports the error.
    @Test func aStateWriteFailureStopsTheRunAndIsThrown() async throws {
        let marker = "1\(Int.random(in: 10_000...99_999))"
        let file = try writeTaskFile(
            """
            jobs: 2
            tasks:
              - { name: short, command: "sleep 0.5" }
              - { name: long, command: "sleep \(marker)" }
            """)
        let runner = try Runner.start(flags: RunFlags(file: file), home: home, currentDirectory: repo.path)
        let events = EventLog()
        // Once both run, take `short`'s row away: recording its end then fails.
        events.onEvent = { event, log in
            if event.kind == .taskStarted && log.count(of: .taskStarted) == 2 {
                _ = try? runner.store.pool.write { db in
                    try db.execute(sql: "DELETE FROM task WHERE name = 'short'")
                }
            }
        }
        await #expect(throws: StateError.noSuchTask(run: runner.plan.run, name: "short")) {
            try await runner.execute(observer: events, control: RunControl())
        }
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        #expect(try runner.store.run(number: runner.plan.run)?.state == .interrupted)
        #expect(try runner.store.task(run: runner.plan.run, name: "long")?.state == .cancelled)
        #expect(events.events.contains { $0.kind == .runStopping && $0.reason?.contains("state database") == true })
    }

    @Test func eventsComeInLifecycleOrder() async throws {
        let events = EventLog()
        let (_, report) = try await run(RunFlags(repos: [repo.path], name: "one", command: ["true"]), events: events)
        #expect(events.kinds == [.runStarted, .taskPreparing, .taskStarted, .taskFinished, .runFinished])
        let finished = try #require(events.events.first { $0.kind == .taskFinished })
        #expect(finished.state?.rawValue == "succeeded")
        #expect(finished.exitCode == 0)
        #expect(finished.run == report.run)
        let line = events.events[2].jsonLine()
        #expect(line.hasPrefix(#"{"event":"task_started","#))
        #expect(line.contains(#""task":"one""#))
    }

    @Test func runNumbersCountUpAndNameBranches() async throws {
        let (_, first) = try await run(RunFlags(repos: [repo.path], name: "again", command: ["true"]))
        let (_, second) = try await run(RunFlags(repos: [repo.path], name: "again", command: ["true"]))
        #expect(second.run == first.run + 1)
        #expect(try repo.revParse("grove/\(first.run)/again") == repo.revParse("main"))
        #expect(try repo.revParse("grove/\(second.run)/again") == repo.revParse("main"))
    }

    @Test func badInputCreatesNothing() async throws {
        let file = try writeTaskFile("tasks:\n  - name: a\n    command: x\n    tiemout: 3s\n")
        let before = try repo.refs()
        #expect(throws: PlanError.self) { try Runner.start(flags: RunFlags(file: file), home: home) }
        #expect(try repo.refs() == before)
        #expect(!FileManager.default.fileExists(atPath: home.path))
    }
}

/// Records a run's events (and can act on them) for assertions.
final class EventLog: RunObserver {
    private struct State {
        var events: [RunEvent] = []
        var callback: (@Sendable (RunEvent, EventLog) -> Void)?
    }
    private let state = Mutex(State())

    /// Called after each event is recorded, outside the lock.
    var onEvent: (@Sendable (RunEvent, EventLog) -> Void)? {
        get { state.withLock { $0.callback } }
        set { state.withLock { $0.callback = newValue } }
    }

    var events: [RunEvent] { state.withLock { $0.events } }
    var kinds: [RunEvent.Kind] { events.map(\.kind) }
    func count(of kind: RunEvent.Kind) -> Int { events.filter { $0.kind == kind }.count }

    func handle(_ event: RunEvent) {
        let callback = state.withLock { state in
            state.events.append(event)
            return state.callback
        }
        callback?(event, self)
    }
}
