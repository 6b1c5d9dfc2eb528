import Foundation
import GroveCore
import TestSupport
import Testing

/// Execution strategies driven as a user would: `--retries`, `--first`, `depends_on` pipelines
/// and `grove retry`, with the built binary, real processes and the git CLI as the second opinion.
@Suite("execution strategies")
struct StrategyCommandTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
    }

    func events(_ result: ProcessResult) -> [[String: Any]] {
        result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func writeTasks(_ yaml: String) throws -> String {
        let file = repo.path + "/grove.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        try repo.git("add", "grove.yaml")
        try repo.git("commit", "-q", "-m", "tasks")
        return file
    }

    // MARK: Retries

    @Test func aFlakyTaskSucceedsOnItsSecondAttemptAndTheFirstIsKept() throws {
        let counter = sandbox.child("counter")
        let result = try grove(
            ["run", "--name", "flaky", "--retries", "2", "--", Fixtures.agent("flaky")],
            environment: ["FLAKY_COUNTER": counter])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("[flaky] attempt 1 failed (exit 1); trying again (attempt 2)"), "\(result.stderr)")
        let task = try #require(try status().tasks.first)
        #expect(task.state == .succeeded)
        #expect(task.attempts.map(\.number) == [1, 2])
        #expect(task.attempts.map(\.state) == [.failed, .succeeded])
        #expect(task.attempts[0].exitCode == 1)
        let saved = try #require(task.attempts[0].savedRef)
        #expect(saved == "refs/grove/attempts/1/flaky/1")
        // The first attempt's uncommitted work is in its saved ref, not on the branch.
        #expect(try repo.output("show", "\(saved):half-done.txt") == "half-done work of attempt 1")
        #expect(try repo.output("show", "\(saved):attempts.txt") == "attempt 1")
        #expect(
            try Shell.run(["git", "-C", repo.path, "cat-file", "-e", "\(task.branch):half-done.txt"], check: false)
                .status != 0)
        #expect(try repo.output("show", "\(task.branch):attempts.txt") == "attempt 2")
        #expect(try repo.output("rev-list", "--count", "main..\(task.branch)") == "1")
        let firstLog = try String(contentsOfFile: task.attempts[0].log, encoding: .utf8)
        #expect(task.attempts[0].log.hasSuffix("/logs/1/flaky.1.log"))
        #expect(firstLog.contains("attempt 1 fails"))
        #expect(try String(contentsOfFile: task.log, encoding: .utf8).contains("attempt 2 succeeds"))
    }

    @Test func withoutRetriesTheFirstFailureStands() throws {
        let result = try grove(
            ["run", "--name", "flaky", "--", Fixtures.agent("flaky")],
            environment: ["FLAKY_COUNTER": sandbox.child("c")])
        #expect(result.status == 1)
        let task = try #require(try status().tasks.first)
        #expect(task.state == .failed)
        #expect(task.attempts.map(\.number) == [1])
    }

    /// A task that deletes its worktree's `.git`, with grove's home inside another repository
    /// (a dotfiles repository at `$HOME`, say): neither concluding nor retrying the task may find
    /// that enclosing repository and stage, commit or reset anything there.
    @Test func aWorktreeWithoutItsGitNeverReachesAnEnclosingRepository() throws {
        let outer = try sandbox.repository("outer", files: ["dotfile": "mine\n"])
        try "untracked\n".write(toFile: outer.path + "/notes.txt", atomically: true, encoding: .utf8)
        let before = [try outer.revParse("HEAD"), try outer.refs()]
        let result = try Shell.run(
            [
                try builtBinary(), "run", "--name", "vandal", "--retries", "1", "--", "sh", "-c",
                "rm -f .git; echo x > new.txt; exit 1",
            ], in: repo.path, environment: ["GROVE_HOME": outer.path + "/grove-home", "HOME": sandbox.path],
            check: false)
        #expect(result.status == 1)
        #expect(try outer.output("diff", "--cached", "--name-only") == "")
        #expect([try outer.revParse("HEAD"), try outer.refs()] == before)
        #expect(try outer.porcelainStatus().split(separator: "\n").allSatisfy { $0.hasPrefix("??") })
        let report = try JSONDecoder().decode(
            StatusReport.self,
            from: Data(
                try Shell.run(
                    [try builtBinary(), "status", "--json"],
                    environment: ["GROVE_HOME": outer.path + "/grove-home", "HOME": sandbox.path]
                ).stdout.utf8))
        #expect(report.tasks[0].state == .failed)
    }

    // MARK: First N

    @Test func theFirstOfFiveVariantsWinsAndTheOthersAreCancelled() throws {
        // Variant k sleeps k seconds (and a unique fraction, to find leftovers in the process table).
        let fraction = String(format: "%06d", Int.random(in: 1..<999_999))
        let started = Date()
        let result = try grove([
            "run", "--count", "5", "--name", "race", "-j", "5", "--first", "1", "--json", "--", "sh", "-c",
            "sleep \"${GROVE_TASK##*-}.\(fraction)\"",
        ])
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(elapsed < 4, "took \(elapsed) s")
        let tasks = try status().tasks
        #expect(tasks.map(\.state) == [.succeeded, .cancelled, .cancelled, .cancelled, .cancelled])
        for task in tasks.dropFirst() {
            #expect(
                task.reason?.hasPrefix("first-n:") == true || task.reason?.contains("first-n:") == true,
                "\(task.reason ?? "-")")
        }
        #expect(events(result).contains { $0["event"] as? String == "run_stopping" })
        for seconds in 1...5 {
            #expect(ProcessTable.running(withArgument: "\(seconds).\(fraction)").isEmpty)
        }
    }

    @Test func firstNCountsSucceededTasksAsAThreshold() throws {
        let result = try grove([
            "run", "--count", "4", "--name", "some", "-j", "1", "--first", "2", "--", "sh", "-c",
            "[ \"$GROVE_TASK\" != some-1 ]",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let states = try status().tasks.map(\.state)
        #expect(states == [.failed, .succeeded, .succeeded, .cancelled])
        #expect(try grove(["run", "--count", "2", "--first", "3", "--", "true"]).status == 2)
    }

    // MARK: Pipelines

    static let diamond = """
        jobs: 4
        tasks:
          - name: a
            command: ["sh", "-c", "echo a > a.txt; sleep 0.3"]
          - name: b
            depends_on: [a]
            command: ["sh", "-c", "test -f a.txt && echo b > b.txt; sleep 1"]
          - name: c
            depends_on: [a]
            command: ["sh", "-c", "test -f a.txt && echo c > c.txt; sleep 1"]
          - name: d
            depends_on: [b, c]
            command: ["sh", "-c", "test -f b.txt && test -f c.txt && echo d > d.txt"]
          - name: solo
            command: ["sh", "-c", "echo solo > solo.txt"]
        """

    @Test func aDiamondRunsInOrderWithTheMiddleConcurrentAndMergesLinearly() throws {
        let file = try writeTasks(Self.diamond)
        let result = try grove(["run", file, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        var time: [String: [String: Double]] = [:]
        for event in events(result) {
            guard let task = event["task"] as? String, let kind = event["event"] as? String,
                let at = event["time"] as? Double
            else { continue }
            time[task, default: [:]][kind] = at
        }
        func at(_ task: String, _ kind: String) -> Double { time[task]?[kind] ?? .nan }
        #expect(at("b", "task_preparing") >= at("a", "task_finished"))
        #expect(at("c", "task_preparing") >= at("a", "task_finished"))
        #expect(at("d", "task_preparing") >= max(at("b", "task_finished"), at("c", "task_finished")))
        // b and c overlap: each started before the other finished.
        #expect(
            at("b", "task_started") < at("c", "task_finished") && at("c", "task_started") < at("b", "task_finished"))
        let tasks = try status().tasks
        #expect(tasks.allSatisfy { $0.state == .succeeded })
        #expect(tasks.first { $0.name == "d" }?.dependsOn == ["b", "c"])
        // d's branch holds everything, each task's own commit once.
        #expect(try repo.output("show", "grove/1/d:d.txt") == "d")
        #expect(try repo.output("show", "grove/1/d:a.txt") == "a")

        let merge = try grove(["merge"])
        #expect(merge.status == 0, "\(merge.stdout)\(merge.stderr)")
        #expect(try repo.output("rev-list", "--merges", "main") == "")
        let subjects = try repo.output("log", "--format=%s", "main").split(separator: "\n").map(String.init)
        for name in ["a", "b", "c", "d", "solo"] {
            #expect(subjects.filter { $0 == "grove: \(name) (run 1)" }.count == 1, "\(subjects)")
        }
        #expect(try repo.output("show", "main:d.txt") == "d")
        #expect(try Shell.run(["git", "-C", repo.path, "fsck", "--no-progress"]).status == 0)
    }

    @Test func aFailingRootSkipsItsDependentsWhileOthersRun() throws {
        let file = try writeTasks(Self.diamond.replacingOccurrences(of: "echo a > a.txt; sleep 0.3", with: "exit 7"))
        let result = try grove(["run", file])
        #expect(result.status == 1)
        let tasks = Dictionary(uniqueKeysWithValues: try status().tasks.map { ($0.name, $0) })
        #expect(tasks["a"]?.state == .failed)
        #expect(tasks["solo"]?.state == .succeeded)
        for name in ["b", "c"] {
            #expect(tasks[name]?.state == .skipped)
            #expect(tasks[name]?.reason == "not started: its dependency a failed")
        }
        #expect(tasks["d"]?.state == .skipped)
        #expect(tasks["d"]?.reason?.hasPrefix("not started: its dependency b was skipped") == true)
        #expect(result.stdout.contains("skipped"))
        #expect(
            try Shell.run(["git", "-C", repo.path, "rev-parse", "--verify", "-q", "grove/1/b"], check: false).status
                != 0)
    }

    @Test func aCycleAndACrossRepositoryDependencyAreBadInput() throws {
        let cycle = try writeTasks(
            """
            command: "true"
            tasks:
              - {name: x, depends_on: [z]}
              - {name: y, depends_on: [x]}
              - {name: z, depends_on: [y]}
            """)
        let result = try grove(["run", cycle])
        #expect(result.status == 2)
        #expect(result.stderr.contains("depends_on makes a cycle (") && result.stderr.contains("→"), "\(result.stderr)")
        let other = try sandbox.repository("other")
        let across = try writeTasks(
            """
            command: "true"
            tasks:
              - {name: here}
              - {name: there, repo: \(other.path), depends_on: [here]}
            """)
        let refused = try grove(["run", across])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("which runs in another repository"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home + "/worktrees"))
    }

    // MARK: grove retry

    @Test func retryRunsTheFailedTasksAgainInTheSameRun() throws {
        let gate = sandbox.child("gate")
        let file = try writeTasks(
            """
            tasks:
              - name: gated
                command: ["sh", "-c", "echo tried >> tries.txt; test -f \(gate)"]
              - name: after
                depends_on: [gated]
                command: ["sh", "-c", "echo after > after.txt"]
              - name: fine
                command: ["sh", "-c", "echo fine > fine.txt"]
            """)
        let first = try grove(["run", file])
        #expect(first.status == 1)
        #expect(try status().tasks.map(\.state) == [.failed, .skipped, .succeeded])
        _ = FileManager.default.createFile(atPath: gate, contents: Data())

        let retry = try grove(["retry"])
        #expect(retry.status == 0, "\(retry.stderr)")
        let report = try status()
        #expect(report.run == 1)
        #expect(report.tasks.map(\.state) == [.succeeded, .succeeded, .succeeded])
        let gated = report.tasks[0]
        #expect(gated.attempts.map(\.number) == [1, 2])
        #expect(gated.attempts[0].state == .failed)
        // The first attempt's leftovers are saved; the branch starts over from base.
        let saved = try #require(gated.attempts[0].savedRef)
        #expect(try repo.output("show", "\(saved):tries.txt") == "tried")
        #expect(try repo.output("show", "grove/1/gated:tries.txt") == "tried")
        #expect(try repo.output("show", "grove/1/after:after.txt") == "after")
        #expect(try repo.output("rev-list", "--count", "main..grove/1/fine") == "1")
        #expect(try grove(["retry"]).stderr.contains("nothing to retry"))
        let bad = try grove(["retry", "--task", "fine"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("succeeded; there is nothing to retry"))
        #expect(try grove(["retry", "--task", "nope"]).status == 2)
    }
}
