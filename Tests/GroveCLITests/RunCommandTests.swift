import Foundation
import GroveCore
import TestSupport
import Testing

/// `grove run` driven as a user would: the built binary, real repositories, real processes,
/// `grove status --json` from another process, and the git CLI as the second opinion.
@Suite("grove run")
struct RunCommandTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
    }

    @Test func eightSleepsWithEightJobsShowASpeedupAboveFour() throws {
        let result = try grove(["run", "--count", "8", "--name", "nap", "-j", "8", "--", "sleep", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("nap-8"))
        #expect(result.stdout.contains("speedup"))
        let report = try status()
        #expect(report.tasks.count == 8)
        #expect(report.tasks.allSatisfy { $0.state == .succeeded })
        // Run one after the other, the tasks would take 8 s.
        #expect(report.speedup > 4, "wall \(report.wallSeconds) s, speedup \(report.speedup)")
    }

    /// `grove status` in another process while the run writes: never more than `-j` running.
    @Test func statusFromAnotherProcessNeverShowsMoreThanJobsRunning() throws {
        let run = try BackgroundProcess(
            [try builtBinary(), "run", "--count", "6", "--name", "pair", "-j", "2", "--", "sleep", "0.4"],
            in: repo.path, environment: environment)
        var polls = 0
        var sawRunning = false
        while run.isRunning {
            let result = try grove(["status", "--json"])
            if result.status == 0,
                let report = try? JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
            {
                polls += 1
                let active = report.tasks.filter { $0.state == .running || $0.state == .preparing }.count
                #expect(active <= 2, "status showed \(active) tasks at once")
                if active > 0 { sawRunning = true }
            }
        }
        let finished = run.wait()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(polls > 0)
        #expect(sawRunning)
        #expect(try status().tasks.allSatisfy { $0.state == .succeeded })
    }

    @Test func anAgentsUncommittedEditIsCommittedAndGitAgreesWithStatus() throws {
        let result = try grove(["run", "--name", "agent", "--", Fixtures.agent("edit-no-commit")])
        #expect(result.status == 0, "\(result.stderr)")
        let task = try #require(try status().tasks.first)
        #expect(task.state == .succeeded)
        #expect(task.commits == 1)
        #expect(try repo.output("rev-list", "--count", "main..\(task.branch)") == "1")
        let changed = try repo.output("diff", "--name-only", "main...\(task.branch)").split(separator: "\n")
        #expect(Set(changed.map(String.init)) == Set(task.changedFiles))
        let worktrees = try repo.output("worktree", "list", "--porcelain")
        #expect(
            worktrees.contains(
                "worktree \(task.worktree)\nHEAD \(try repo.revParse(task.branch))\nbranch refs/heads/\(task.branch)"))
        #expect(try TestRepository(existing: task.worktree).porcelainStatus().isEmpty)
    }

    @Test func aFailedTaskMakesTheExitStatusOne() throws {
        let result = try grove(["run", "--name", "bad", "--", "sh", "-c", "exit 3"])
        #expect(result.status == 1)
        #expect(try status().tasks.first?.exitCode == 3)
    }

    @Test func aTimeoutEndsTheTaskAndItsGroup() throws {
        let marker = "5\(Int.random(in: 10_000...99_999))"
        let result = try grove(
            ["run", "--name", "slow", "--timeout", "1s", "--", "sh", "-c", "sleep \(marker) & sleep \(marker)"])
        #expect(result.status == 1)
        #expect(try status().tasks.first?.state == .timedOut)
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
    }

    @Test func jsonPrintsOneEventPerLineAndNothingElse() throws {
        let result = try grove(["run", "--json", "--count", "2", "--name", "js", "--", "true"])
        #expect(result.status == 0)
        let events = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(events.first?["event"] as? String == "run_started")
        #expect(events.dropLast().last?["event"] as? String == "run_finished")
        #expect(events.last?["event"] as? String == "summary")
        #expect(events.filter { $0["event"] as? String == "task_finished" }.count == 2)
        #expect(events.dropLast().allSatisfy { $0["run"] as? Int == 1 && $0["time"] is Double })
    }

    /// `run --json` ends with one summary line: the `status --json` document of the run, with
    /// `"event": "summary"` added (and only that).
    @Test func jsonEndsWithTheRunsStatusDocument() throws {
        let result = try grove(["run", "--json", "--count", "2", "--name", "sum", "--", "sh", "-c", "exit 0"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let last = try #require(lines.last)
        let summary = try JSONDecoder().decode(StatusReport.self, from: Data(last.utf8))
        let status = try grove(["status", "1", "--json"])
        #expect(summary == (try JSONDecoder().decode(StatusReport.self, from: Data(status.stdout.utf8))))
        #expect(summary.tasks.map(\.name) == ["sum-1", "sum-2"])
        var object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object.removeValue(forKey: "event") as? String == "summary")
        let statusObject = try #require(
            try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(NSDictionary(dictionary: object).isEqual(to: statusObject))
        #expect(lines.dropLast().allSatisfy { !$0.contains("\"summary\"") })
    }

    /// `retry --json` ends the same way, also when there is nothing to retry (then it is its only line).
    @Test func retryJSONEndsWithTheRunsStatusDocument() throws {
        let marker = sandbox.child("second-time")
        let run = try grove([
            "run", "--name", "flaky", "--", "sh", "-c", "test -e \(marker) || { touch \(marker); exit 3; }",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let retried = try grove(["retry", "--json"])
        #expect(retried.status == 0, "\(retried.stderr)")
        let lines = retried.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count > 1)
        let summary = try JSONDecoder().decode(StatusReport.self, from: Data((lines.last ?? "").utf8))
        #expect(summary == (try status(1)))
        #expect(summary.tasks.map(\.state) == [.succeeded])
        #expect(lines.last?.contains("\"event\":\"summary\"") == true)

        let nothing = try grove(["retry", "--json"])
        #expect(nothing.status == 0, "\(nothing.stderr)")
        #expect(nothing.stdout.split(separator: "\n").count == 1)
        #expect(try JSONDecoder().decode(StatusReport.self, from: Data(nothing.stdout.utf8)) == summary)
        #expect(nothing.stderr.contains("nothing to retry"))
    }

    /// A checkout with uncommitted changes to tracked files: one warning for its repository (not
    /// one per task) naming the base and commit the tasks start from; the tasks do not see the
    /// change. A repository with only untracked files, and a clean one, get no warning.
    @Test func uncommittedChangesWarnOncePerRepository() throws {
        let clean = try sandbox.repository("clean", files: ["a.txt": "a\n"])
        let untracked = try sandbox.repository("untracked", files: ["a.txt": "a\n"])
        try "scratch\n".write(toFile: untracked.path + "/scratch.txt", atomically: false, encoding: .utf8)
        try "edited\n".write(toFile: repo.path + "/README.md", atomically: false, encoding: .utf8)
        let main = try repo.revParse("main")

        let result = try grove(["run", "--count", "3", "--name", "d", "--", "sh", "-c", "cat README.md > seen.txt"])
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("uncommitted changes") }
        #expect(warnings.count == 1, "\(result.stderr)")
        let warning = String(warnings.first ?? "")
        #expect(warning.hasPrefix("grove: warning: \(repo.path) has uncommitted changes (1 path)"))
        #expect(
            warning.contains(
                "tasks start from main at \(main.prefix(7)); your uncommitted changes are not in their worktrees"))
        #expect(try repo.output("show", "grove/1/d-2:seen.txt") == "hello")

        let others = try grove(
            ["run", "--repo", clean.path, "--repo", untracked.path, "--", "true"], in: sandbox.path)
        #expect(others.status == 0, "\(others.stderr)")
        #expect(!others.stderr.contains("uncommitted"), "\(others.stderr)")
    }

    /// `--copy PATH` (repeatable) brings files from the checkout into each worktree, as `copy:` does.
    @Test func copyFlagsBringFilesIntoEachWorktree() throws {
        try repo.write([".env": "SECRET=1\n", "config/local.json": "{\"debug\": true}\n"])
        let result = try grove([
            "run", "--count", "2", "--name", "cp", "--copy", ".env", "--copy", "config", "--", "sh", "-c",
            "cat .env config/local.json > seen.txt",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        for task in ["cp-1", "cp-2"] {
            #expect(try repo.output("show", "grove/1/\(task):seen.txt") == "SECRET=1\n{\"debug\": true}")
        }
    }

    /// Ctrl-C: every task's processes end, the run is `interrupted`, grove exits 130.
    @Test func sigintEndsEveryTaskAndExits130() throws {
        let marker = "4\(Int.random(in: 10_000...99_999))"
        let run = try BackgroundProcess(
            [
                try builtBinary(), "run", "--count", "3", "--name", "stop", "-j", "2", "--", "sh", "-c",
                "sleep \(marker) & sleep \(marker)",
            ],
            in: repo.path, environment: environment)
        // Wait until both tasks' processes (two sleeps each) are up.
        #expect(eventually { ProcessTable.running(withArgument: marker).count == 4 })
        run.send(SIGINT)
        let result = run.wait()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        let report = try status()
        #expect(report.state == .interrupted)
        #expect(report.tasks.map(\.state) == [.cancelled, .cancelled, .cancelled])
    }

    /// A second Ctrl-C does not wait for the grace period of a task that ignores SIGTERM.
    @Test func aSecondSigintKillsAtOnce() throws {
        let marker = "3\(Int.random(in: 10_000...99_999))"
        let run = try BackgroundProcess(
            [try builtBinary(), "run", "--name", "stubborn", "--", "sh", "-c", "trap '' TERM; sleep \(marker)"],
            in: repo.path, environment: environment)
        #expect(eventually { ProcessTable.running(withArgument: marker).count == 1 })
        let start = ContinuousClock.now
        run.send(SIGINT)
        usleep(200_000)
        run.send(SIGINT)
        let result = run.wait()
        #expect(result.status == 130)
        // Well inside the 5 s grace the first Ctrl-C alone would have given.
        #expect(ContinuousClock.now - start < .seconds(4))
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
    }

    /// SIGTERM to grove is handled like Ctrl-C.
    @Test func sigtermIsHandledLikeCtrlC() throws {
        let marker = "2\(Int.random(in: 10_000...99_999))"
        let run = try BackgroundProcess(
            [try builtBinary(), "run", "--name", "termed", "--", "sh", "-c", "sleep \(marker)"],
            in: repo.path, environment: environment)
        #expect(eventually { ProcessTable.running(withArgument: marker).count == 1 })
        run.send(SIGTERM)
        #expect(run.wait().status == 130)
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        #expect(try status().state == .interrupted)
    }

    // Bad input (exit 2, one line, nothing created) is covered by BadInputTests.

    /// Groves started at the same moment in a new home all create, migrate and use its database:
    /// switching the new file to WAL takes a lock that SQLite's busy handler does not wait for.
    @Test func runsStartedTogetherInANewHomeAllSucceed() throws {
        for round in 0..<3 {
            // A home and a repository per round: run numbers start at 1 in each home.
            let home = sandbox.child("together-\(round)")
            let fresh = try sandbox.repository("together-repo-\(round)")
            let runs = try (0..<6).map { index in
                try BackgroundProcess(
                    [try builtBinary(), "run", "--name", "r\(index)", "--", "true"], in: fresh.path,
                    environment: ["GROVE_HOME": home, "HOME": sandbox.path])
            }
            for run in runs {
                let result = run.wait()
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
    }
}
