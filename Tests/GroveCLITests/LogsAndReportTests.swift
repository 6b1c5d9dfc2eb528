import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// `grove logs` and `grove report`, run as the built binary against a real state database, real
/// repositories and real log files in a sandboxed home.
@Suite("grove logs and report")
struct LogsAndReportTests {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    /// A finished run 1 in `home`: `fix-auth` succeeded with two commits on its branch in a real
    /// repository, `svc-b` failed with a reason, `late` never started (no log).
    private struct Fixture {
        let home: GroveHome
        let store: StateStore
        let repo: TestRepository
        let base: String
        let head: String
    }

    private func record(_ run: Int, _ name: String, _ position: Int, repo: String, home: GroveHome) -> TaskRecord {
        TaskRecord(
            run: run, name: name, position: position, repo: repo, base: "main", branch: "grove/\(run)/\(name)",
            worktree: home.worktrees + "/\(run)/\(name)", command: ["/bin/sh", "-c", "make fix"],
            log: home.logs + "/\(run)/\(name).log", queuedAt: start)
    }

    private func finishedRun(_ sandbox: Sandbox, log: String) throws -> Fixture {
        let home = GroveHome(path: sandbox.child("home"))
        let repo = try sandbox.repository(files: ["auth.go": "package auth\n\nfunc A() {}\n", "old.txt": "o\n"])
        let base = try repo.revParse("main")
        try repo.git("checkout", "-q", "-b", "grove/1/fix-auth")
        try repo.commit("fix the timeout", files: ["auth.go": "package auth\n\nfunc A() { retry() }\n"])
        try FileManager.default.removeItem(atPath: repo.path + "/old.txt")
        let head = try repo.commit("add a test", files: ["auth_test.go": "package auth\n\n// test\n"])
        try repo.git("checkout", "-q", "main")

        let store = try StateStore(home: home)
        try store.createRun(jobs: 2, startedAt: start) { run in
            ["fix-auth", "svc-b", "late"].enumerated().map { record(run.number, $1, $0, repo: repo.path, home: home) }
        }
        try store.updateTask(run: 1, name: "fix-auth") {
            $0.baseCommit = base
            $0.headCommit = head
            $0.start(at: start)
            $0.commits = 2
            $0.changedFiles = ["auth.go", "auth_test.go", "old.txt"]
            $0.finish(.succeeded, at: start.addingTimeInterval(4), exitCode: 0)
        }
        try store.updateTask(run: 1, name: "svc-b") {
            $0.baseCommit = base
            $0.start(at: start)
            $0.finish(.failed, at: start.addingTimeInterval(2.5), exitCode: 3, reason: "the check | failed")
        }
        try store.updateTask(run: 1, name: "late") { $0.finish(.cancelled, at: start, reason: "fail-fast") }
        try store.setRunState(1, .finished, at: start.addingTimeInterval(5))
        try FileManager.default.createDirectory(atPath: home.logs + "/1", withIntermediateDirectories: true)
        try log.write(toFile: home.logs + "/1/fix-auth.log", atomically: false, encoding: .utf8)
        try "svc-b broke\n".write(toFile: home.logs + "/1/svc-b.log", atomically: false, encoding: .utf8)
        return Fixture(home: home, store: store, repo: repo, base: base, head: head)
    }

    private func grove(_ arguments: [String], home: GroveHome) throws -> ProcessResult {
        try Shell.run(
            [try builtBinary()] + arguments, environment: ["GROVE_HOME": home.path, "NO_COLOR": "1"], check: false)
    }

    // MARK: grove logs

    @Test func logsPrintsTheLogExactly() throws {
        let sandbox = try Sandbox()
        // Several copy chunks, unicode, and no final newline: every byte as it is.
        let log = (1...5000).map { "line \($0) — ünïcode \(String(repeating: "x", count: $0 % 50))" }
            .joined(separator: "\n")
        let fixture = try finishedRun(sandbox, log: log)
        for arguments in [
            ["logs", "fix-auth"], ["logs", "fix-auth", "1"], ["logs", "fix-auth", "--run", "1"],
            ["logs", "-f", "fix-auth"],
            ["logs", "fix-auth", "1", "-f"],
        ] {
            let result = try grove(arguments, home: fixture.home)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout == log, "\(arguments)")
            #expect(result.stderr.isEmpty, "\(arguments)")
        }
    }

    @Test func anUnknownTaskExits2WithDidYouMean() throws {
        let sandbox = try Sandbox()
        let fixture = try finishedRun(sandbox, log: "x\n")
        let result = try grove(["logs", "fix-auht"], home: fixture.home)
        #expect(result.status == ExitStatus.badInput)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr
                == "error: run 1 has no task named 'fix-auht'; did you mean \"fix-auth\"? `grove status 1` lists its tasks\n"
        )
        let far = try grove(["logs", "zzzzzzzz"], home: fixture.home)
        #expect(far.status == ExitStatus.badInput)
        #expect(far.stderr == "error: run 1 has no task named 'zzzzzzzz': `grove status 1` lists its tasks\n")
        for arguments in [["logs", "fix-auth", "--run", "9"], ["logs", "fix-auth", "9"]] {
            let noRun = try grove(arguments, home: fixture.home)
            #expect(noRun.status == ExitStatus.badInput)
            #expect(noRun.stderr.contains("there is no run 9"))
        }
        let twice = try grove(["logs", "fix-auth", "1", "--run", "2"], home: fixture.home)
        #expect(twice.status == ExitStatus.badInput)
        #expect(twice.stderr.hasPrefix("error: run 1 or run 2? give the run once"))
        #expect(twice.stderr.split(separator: "\n").count == 1)
    }

    /// A task that ended before it started (cancelled, skipped) has no log: said so, exit 0.
    @Test func aTaskThatNeverStartedHasNoOutput() throws {
        let sandbox = try Sandbox()
        let fixture = try finishedRun(sandbox, log: "x\n")
        let result = try grove(["logs", "late"], home: fixture.home)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "task 'late' of run 1 has no output: it was cancelled before it started (fail-fast)\n")
    }

    /// An empty log prints nothing on stdout and says so on stderr, exit 0: "no output yet" while
    /// the task goes on, "no output" once it ended.
    @Test func anEmptyLogSaysSoAndExitsZero() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try StateStore(home: home)
        // The run's pid is this test process: alive, so the running task stays running.
        try store.createRun(jobs: 2) { run in
            [
                record(run.number, "quiet", 0, repo: "/r", home: home),
                record(run.number, "silent", 1, repo: "/r", home: home),
            ]
        }
        try store.updateTask(run: 1, name: "quiet") { $0.start(slot: 0) }
        try store.updateTask(run: 1, name: "silent") {
            $0.start(slot: 1)
            $0.finish(.succeeded, exitCode: 0)
        }
        try FileManager.default.createDirectory(atPath: home.logs + "/1", withIntermediateDirectories: true)
        for name in ["quiet", "silent"] {
            #expect(FileManager.default.createFile(atPath: home.logs + "/1/\(name).log", contents: nil))
        }
        let quiet = try grove(["logs", "quiet"], home: home)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stdout.isEmpty)
        #expect(
            quiet.stderr
                == "task 'quiet' of run 1 has no output yet: it is running (`grove logs quiet 1 -f` follows it)\n")
        let silent = try grove(["logs", "silent", "1"], home: home)
        #expect(silent.status == 0, "\(silent.stderr)")
        #expect(silent.stdout.isEmpty)
        #expect(silent.stderr.hasPrefix("task 'silent' of run 1 has no output: it succeeded without printing anything"))
        #expect(silent.stderr.split(separator: "\n").count == 1)
    }

    @Test func withoutADatabaseNothingIsCreated() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        for arguments in [["logs", "a"], ["report"], ["report", "--format", "json"]] {
            let result = try grove(arguments, home: home)
            #expect(result.status == ExitStatus.badInput, "\(arguments)")
            #expect(result.stderr.contains("error: no run yet"), "\(arguments)")
            #expect(result.stdout.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: home.path))
    }

    @Test func aQueuedTaskHasNoLogYet() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try StateStore(home: home)
        try store.createRun(jobs: 1, startedAt: start) { run in [record(run.number, "q", 0, repo: "/r", home: home)] }
        let result = try grove(["logs", "q"], home: home)
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("task 'q' of run 1 has no log yet: it is queued"))
    }

    /// `-f` started while the task runs: it prints what is there, then what is appended, and
    /// exits 0 once the task is succeeded and nothing is left.
    @Test(.timeLimit(.minutes(1))) func followPrintsAppendedOutputUntilTheTaskEnds() async throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try StateStore(home: home)
        // The run's pid is this test process: alive, so the follow cannot end as "interrupted".
        try store.createRun(jobs: 1) { run in [record(run.number, "live", 0, repo: "/r", home: home)] }
        try store.updateTask(run: 1, name: "live") { $0.start(slot: 0) }
        let logPath = home.logs + "/1/live.log"
        try FileManager.default.createDirectory(atPath: home.logs + "/1", withIntermediateDirectories: true)
        try "first\n".write(toFile: logPath, atomically: false, encoding: .utf8)

        let output = sandbox.child("follow.out")
        #expect(FileManager.default.createFile(atPath: output, contents: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtBinary())
        process.arguments = ["logs", "live", "-f"]
        process.environment = Shell.environment.merging(["GROVE_HOME": home.path]) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        func printed() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        func waitFor(_ condition: () -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if condition() { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return condition()
        }

        #expect(try await waitFor { printed() == "first\n" })
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        try log.write(contentsOf: Data("second\n".utf8))
        #expect(try await waitFor { printed() == "first\nsecond\n" })
        #expect(process.isRunning, "the follower must wait while the task runs")
        // The last bytes and the final state arrive together, as when a task ends.
        try log.write(contentsOf: Data("last, no newline".utf8))
        try log.close()
        try store.updateTask(run: 1, name: "live") { $0.finish(.succeeded, exitCode: 0) }

        #expect(try await waitFor { !process.isRunning }, "grove logs -f did not end after the task did")
        if process.isRunning { return }
        #expect(process.terminationStatus == 0)
        #expect(printed() == "first\nsecond\nlast, no newline")
    }

    // MARK: grove report

    @Test func reportJSONParsesAndHasTheDiffstat() throws {
        let sandbox = try Sandbox()
        let fixture = try finishedRun(sandbox, log: "building\ndone\n")
        let result = try grove(["report", "--format", "json"], home: fixture.home)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(RunReport.self, from: Data(result.stdout.utf8))
        #expect(report.run == 1)
        #expect(report.tasks.map(\.name) == ["fix-auth", "svc-b", "late"])
        let fix = report.tasks[0]
        let numstat = fix.diffstat.map { "\($0.insertions)\t\($0.deletions)\t\($0.path)" }.sorted()
        let expected = try fixture.repo.output("diff", "--numstat", "-M", fixture.base, fixture.head)
            .components(separatedBy: "\n").sorted()
        #expect(numstat == expected)
        #expect(numstat == ["1\t1\tauth.go", "0\t1\told.txt", "3\t0\tauth_test.go"].sorted())
        #expect(fix.logTail == ["building", "done"])
        #expect(report.tasks[1].reason == "the check | failed")
        #expect(report.tasks[2].logTail == [])
        // The same document for the run named explicitly, and with --json.
        #expect(try grove(["report", "1", "--format", "json"], home: fixture.home).stdout == result.stdout)
        for arguments in [["report", "--json"], ["report", "1", "--json"], ["report", "--json", "--format", "json"]] {
            let json = try grove(arguments, home: fixture.home)
            #expect(json.status == 0, "\(arguments): \(json.stderr)")
            #expect(json.stdout == result.stdout, "\(arguments)")
        }
        // One JSON document: it parses whole, and nothing follows it.
        #expect(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) is [String: Any])
        #expect(result.stdout.hasPrefix("{") && result.stdout.hasSuffix("}\n"))
    }

    @Test func reportMarkdownHasTheTableTheDiffstatAndTheLogTail() throws {
        let sandbox = try Sandbox()
        let log = (1...25).map { "step \($0)" }.joined(separator: "\n") + "\n```\nnot the end of the block\n"
        let fixture = try finishedRun(sandbox, log: log)
        let result = try grove(["report"], home: fixture.home)
        #expect(result.status == 0, "\(result.stderr)")
        let markdown = result.stdout
        let lines = markdown.components(separatedBy: "\n")
        #expect(lines.first == "# grove run 1")
        #expect(lines.contains("wall 5.0 s · task time 6.5 s · speedup 1.30×"))
        #expect(lines.contains("| task | state | seconds | commits | files | +/- |"))
        #expect(lines.contains("| fix-auth | succeeded | 4.0 | 2 | 3 | +4 -2 |"))
        #expect(lines.contains("| svc-b | failed | 2.5 | — | — | — |"))
        #expect(lines.contains("## fix-auth"))
        #expect(lines.contains("- branch: `grove/1/fix-auth` at `\(fixture.head.prefix(7))`"))
        #expect(lines.contains("| path | + | − |"))
        #expect(lines.contains("| `auth_test.go` | 3 | 0 |"))
        #expect(lines.contains("- reason: the check \\| failed"))
        // The last 20 lines, in a fence longer than the ``` the log contains.
        let open = try #require(lines.firstIndex(of: "````text"))
        #expect(
            Array(lines[(open + 1)...(open + 20)]) == (8...25).map { "step \($0)" } + [
                "```", "not the end of the block",
            ])
        #expect(lines[open + 21] == "````")
        #expect(markdown.contains("_Nothing in the log `\(fixture.home.logs)/1/late.log`._"))
    }

    @Test func reportInputErrorsExit2() throws {
        let sandbox = try Sandbox()
        let fixture = try finishedRun(sandbox, log: "x\n")
        let unknown = try grove(["report", "4"], home: fixture.home)
        #expect(unknown.status == ExitStatus.badInput)
        #expect(unknown.stderr == "error: there is no run 4: `grove status` lists the latest run\n")
        let format = try grove(["report", "--format", "html"], home: fixture.home)
        #expect(format.status == ExitStatus.badInput)
        #expect(format.stderr.contains("html"))
        #expect(format.stdout.isEmpty)
    }

    // MARK: Markdown quoting

    @Test func markdownQuotingCannotBreakTheDocument() {
        #expect(Markdown.fence(for: ["plain"]) == "```")
        #expect(Markdown.fence(for: ["a ```` b", "``"]) == "`````")
        #expect(Markdown.code("a`b") == "``a`b``")
        #expect(Markdown.code("`x") == "`` `x ``")
        #expect(Markdown.cellCode("a|b") == "`a\\|b`")
        #expect(Markdown.inline("*bold* line\nnext") == "\\*bold\\* line next")
    }
}
