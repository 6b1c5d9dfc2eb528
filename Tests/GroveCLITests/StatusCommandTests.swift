import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// `grove status`, run as the built binary against a real state database in a sandboxed home.
@Suite("grove status")
struct StatusCommandTests {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func task(_ run: Int, _ name: String, position: Int, home: GroveHome) -> TaskRecord {
        TaskRecord(
            run: run, name: name, position: position, repo: "/repos/\(name)", base: "main",
            branch: "grove/\(run)/\(name)", worktree: home.worktrees + "/\(run)/\(name)",
            command: ["/bin/sh", "-c", "make fix"], log: home.logs + "/\(run)/\(name).log", queuedAt: start)
    }

    /// A finished run of three tasks (succeeded, failed, cancelled before it started), so its
    /// report does not change with the clock.
    private func finishedRun(in home: GroveHome) throws -> StateStore {
        let store = try StateStore(home: home)
        try store.createRun(jobs: 2, startedAt: start) { run in
            ["fix-auth", "svc-b", "late"].enumerated().map { task(run.number, $1, position: $0, home: home) }
        }
        try store.updateTask(run: 1, name: "fix-auth") {
            $0.prepare(at: start)
            $0.start(at: start.addingTimeInterval(0.5), slot: 0, claim: .processGroup(100))
            $0.finish(.succeeded, at: start.addingTimeInterval(4.25), exitCode: 0)
            $0.commits = 1
            $0.changedFiles = ["auth.go", "auth_test.go"]
        }
        try store.updateTask(run: 1, name: "svc-b") {
            $0.start(at: start.addingTimeInterval(0.1), slot: 1)
            $0.finish(.failed, at: start.addingTimeInterval(2.6), exitCode: 3)
            $0.commits = 0
        }
        try store.updateTask(run: 1, name: "late") { $0.finish(.cancelled, at: start, reason: "fail-fast") }
        try store.setRunState(1, .finished, at: start.addingTimeInterval(5))
        return store
    }

    private func status(_ arguments: [String], home: GroveHome) throws -> ProcessResult {
        try Shell.run(
            [try builtBinary(), "status"] + arguments, environment: ["GROVE_HOME": home.path, "NO_COLOR": "1"],
            check: false)
    }

    @Test func jsonIsTheStatusDocumentExactly() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try finishedRun(in: home)
        let expected = try store.statusReport(run: 1)
        for arguments in [["--json"], ["1", "--json"]] {
            let result = try status(arguments, home: home)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.isEmpty)
            #expect(result.stdout == (try expected.json()) + "\n")
            let decoded = try JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
            #expect(decoded == expected)
        }
    }

    @Test func theTableListsEveryTaskWithItsBranch() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        _ = try finishedRun(in: home)
        let result = try status([], home: home)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "run 1 · finished · 3 tasks · wall 5.0 s",
                "task      state      seconds  commits  files  branch",
                "fix-auth  succeeded     4.25        1      2  grove/1/fix-auth",
                "svc-b     failed        2.50        0      0  grove/1/svc-b",
                "late      cancelled     0.00        -      0  grove/1/late",
                "wall 5.0 s · task time 6.8 s · speedup 1.35×",
                "",
                "late: fail-fast",
            ])
    }

    @Test func theLatestRunIsTheDefault() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try finishedRun(in: home)
        try store.createRun(jobs: 1) { run in [task(run.number, "second", position: 0, home: home)] }
        let result = try status([], home: home)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.first?.hasPrefix("run 2 · running · 1 task · wall ") == true)
        #expect(result.lines.contains { $0.hasPrefix("second  queued ") })
    }

    @Test func anUnknownRunIsBadInput() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        _ = try finishedRun(in: home)
        let result = try status(["7"], home: home)
        #expect(result.status == ExitStatus.badInput)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "error: there is no run 7: `grove status` lists the latest run\n")
    }

    @Test func aHomeWithoutADatabaseIsBadInputAndStaysUncreated() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("never-used"))
        for arguments in [[], ["--json"], ["1"]] {
            let result = try status(arguments, home: home)
            #expect(result.status == ExitStatus.badInput)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "error: no run yet in \(home.path): start one with `grove run`\n")
        }
        #expect(!FileManager.default.fileExists(atPath: home.path))
    }

    /// A run whose grove died (its pid is gone) reads as interrupted, its unfinished tasks cancelled.
    @Test func aRunWhoseGroveDiedShowsInterrupted() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try StateStore(home: home)
        try store.createRun(jobs: 2, pid: try reapedPID(), startedAt: start) { run in
            [task(run.number, "a", position: 0, home: home), task(run.number, "b", position: 1, home: home)]
        }
        try store.updateTask(run: 1, name: "a") {
            $0.start(at: start, slot: 0)
            $0.finish(.succeeded, at: start.addingTimeInterval(2), exitCode: 0)
        }
        try store.updateTask(run: 1, name: "b") { $0.start(at: start.addingTimeInterval(1), slot: 1) }
        let table = try status([], home: home)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.lines.first == "run 1 · interrupted · 2 tasks · wall 2.0 s")
        #expect(table.lines.contains { $0.hasPrefix("b     cancelled") })
        let json = try JSONDecoder().decode(
            StatusReport.self, from: Data(try status(["--json"], home: home).stdout.utf8))
        #expect(json.state == .interrupted)
        #expect(json.tasks.map(\.state) == [.succeeded, .cancelled])
    }

    /// The one-shot commands' `--json` is one JSON document on stdout (then one newline): the
    /// whole output parses as one object. The streaming commands end with a summary line instead
    /// (RunCommandTests, MergeCommandTests).
    @Test func oneShotCommandsPrintOneJSONDocument() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        try Shell.run(["git", "init", "-q", "--bare", sandbox.child("remote.git")])
        try repo.git("remote", "add", "origin", sandbox.child("remote.git"))
        let environment = ["GROVE_HOME": sandbox.child("home"), "HOME": sandbox.path]
        func grove(_ arguments: [String]) throws -> ProcessResult {
            try Shell.run([try builtBinary()] + arguments, in: repo.path, environment: environment, check: false)
        }
        let run = try grove(["run", "--count", "2", "--name", "one", "--", "sh", "-c", "echo $GROVE_TASK > t.txt"])
        #expect(run.status == 0, "\(run.stderr)")
        for arguments in [
            ["status", "--json"], ["status", "1", "--json"], ["report", "--json"], ["report", "--format", "json"],
            ["merge", "--plan", "--json"], ["push", "--json"], ["clean", "--dry-run", "--json"],
        ] {
            let result = try grove(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.hasSuffix("}\n") && !result.stdout.dropLast().contains("}\n{"), "\(arguments)")
            let document = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
            #expect(document is [String: Any], "\(arguments): \(result.stdout)")
        }
    }

    /// A pid that certainly names no process: one of ours, already exited and reaped.
    private func reapedPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func theHumanFormRendersWithoutAProcess() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let report = try finishedRun(in: home).statusReport(run: 1)
        let text = Status.render(report, colour: true)
        #expect(text.hasPrefix("run 1 · finished · 3 tasks · wall 5.0 s\n"))
        #expect(text.contains("\u{1B}[31mfailed\u{1B}[0m"))
        #expect(text.hasSuffix("wall 5.0 s · task time 6.8 s · speedup 1.35×\n\nlate: fail-fast\n"))
    }
}
