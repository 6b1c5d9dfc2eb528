import Foundation
import GroveGit
import Synchronization
import TestSupport
import Testing

@testable import GroveCore

/// `grove merge --check CMD`: the check runs in the task's worktree at the rebased candidate;
/// a failure parks the task and puts its branch back; verdicts are cached by (tree, command).
@Suite("Merge check")
struct MergeCheckTests {
    @Test func aFailingCheckLandsNothingAndPutsEveryBranchBack() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one"), .own("two"), .conflicting("three")])
        // Base moved since the run: every candidate is a rebase, so each worktree is moved for
        // its check and must be put back.
        try fixture.repo.commit("meanwhile", files: ["meanwhile.txt": "later\n"])
        let refs = try fixture.repo.refs()
        var files: [String: [String: Data]] = [:]
        for name in ["one", "two", "three"] {
            files[name] = try MergeFixture.snapshot(try fixture.task(run, name).worktree)
        }
        let report = try await fixture.merge(MergeOptions(check: "echo checking $GROVE_TASK; false"))
        #expect(report.outcomes.map(\.result) == [.checkFailed, .checkFailed, .checkFailed])
        #expect(!report.succeeded)
        #expect(try fixture.repo.refs() == refs)
        #expect(try fixture.repo.porcelainStatus().isEmpty)
        for outcome in report.outcomes {
            let task = try fixture.task(run, outcome.task)
            let log = fixture.home.path + "/logs/\(run)/\(outcome.task).check.log"
            #expect(outcome.checkLog == log)
            #expect(outcome.reason?.contains("the check exited 1 on the candidate") == true)
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(text.contains("checking \(outcome.task)\n"))
            #expect(text.hasPrefix("[grove] check: echo checking $GROVE_TASK; false (candidate "))
            // The candidate was rebased: a new commit, not the branch's tip.
            #expect(!text.contains("(candidate \(String((task.headCommit ?? "").prefix(7))),"))
            #expect(try MergeFixture.snapshot(task.worktree) == files[outcome.task])
            #expect(try TestRepository(existing: task.worktree).porcelainStatus().isEmpty)
        }
        try fixture.expectFsckClean()
    }

    @Test func aPassingCheckRunsAtTheCandidateAndLandsEverything() async throws {
        let fixture = try MergeFixture()
        try await fixture.run([.own("one"), .own("two"), .own("three")])
        // Each check sees the tasks landed before it, and HEAD is the candidate.
        let check = """
            test "$(git rev-parse HEAD)" = "$GROVE_CANDIDATE" && test -f one.txt && test -f "$GROVE_TASK.txt" \
            && test -z "$(git status --porcelain)"
            """
        let report = try await fixture.merge(MergeOptions(check: check))
        #expect(report.outcomes.map(\.result) == [.landed, .landed, .landed], "\(report.outcomes.map(\.reason))")
        #expect(report.succeeded)
        #expect(try fixture.tip("main") == report.outcomes.last?.commit)
        #expect(try fixture.repo.porcelainStatus().isEmpty)
        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
    }

    @Test func theSameTreeIsNeverCheckedTwice() async throws {
        let fixture = try MergeFixture()
        try await fixture.run([.own("one"), .own("two")])
        let counter = fixture.sandbox.child("checks")
        let check = "echo $GROVE_TASK >> \(counter); false"
        let first = try await fixture.merge(MergeOptions(check: check))
        #expect(first.outcomes.map(\.result) == [.checkFailed, .checkFailed])
        #expect(first.outcomes.map(\.checkCached) == [false, false])
        // Nothing landed, so the candidates (and their trees) are the same: cached verdicts.
        let second = try await fixture.merge(MergeOptions(check: check))
        #expect(second.outcomes.map(\.result) == [.checkFailed, .checkFailed])
        #expect(second.outcomes.map(\.checkCached) == [true, true])
        #expect(second.outcomes.first?.reason?.contains("failed on this same tree before (exited 1)") == true)
        #expect(try String(contentsOfFile: counter, encoding: .utf8) == "one\ntwo\n")
        // Another command is another verdict.
        let passing = try await fixture.merge(MergeOptions(check: "true"))
        #expect(passing.outcomes.map(\.result) == [.landed, .landed])
    }

    @Test func baseMovingDuringTheCheckPreparesTheTaskAgainOnTheNewTip() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one")])
        let repo = fixture.repo
        let moved = Mutex(false)
        // While the check runs, someone commits to main in the main checkout.
        let observer = MergeEventLog { event in
            guard event.kind == .taskChecking, !moved.withLock({ $0 }) else { return }
            moved.withLock { $0 = true }
            _ = try? repo.commit("outside grove", files: ["outside.txt": "outside\n"])
        }
        let report = try await fixture.merge(MergeOptions(check: "true"), observer: observer)
        let outcome = try #require(report.outcomes.first)
        #expect(outcome.result == .landed, "\(outcome.reason ?? "")")
        #expect(observer.all.filter { $0.kind == .taskChecking }.count == 2)
        #expect(try fixture.repo.output("log", "--format=%s", "-2", "main") == "grove: one (run \(run))\noutside grove")
        #expect(try fixture.repo.porcelainStatus().isEmpty)
        #expect(try fixture.repo.read("one.txt") == "one\n")
    }

    @Test func repositoriesAreCheckedAtTheSameTime() async throws {
        let fixture = try MergeFixture()
        let other = try fixture.sandbox.repository("other")
        try await fixture.run([
            .own("here"), MergeFixture.Task(name: "there", command: "echo there > there.txt", repo: other.path),
        ])
        // Each check marks that it started, then passes only once it sees the other's mark: one
        // after the other, the first would wait in vain (20 s) and fail. No clock is read.
        let marks = fixture.sandbox.child("marks")
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        let check =
            "touch \(marks)/$GROVE_TASK; for i in $(seq 200); do"
            + " [ \"$(ls \(marks) | wc -l)\" -ge 2 ] && exit 0; sleep 0.1; done; exit 1"
        let report = try await fixture.merge(MergeOptions(check: check))
        #expect(report.outcomes.map(\.result) == [.landed, .landed], "\(report.outcomes.map(\.reason))")
    }

    @Test func theCheckGetsTheTasksGroveVariablesAndItsCandidate() async throws {
        let fixture = try MergeFixture()
        let file = fixture.sandbox.child("grove.yaml")
        try """
        base: main
        env: { LOG_LEVEL: debug }
        tasks:
          - name: one
            repo: \(fixture.repo.path)
            instructions: Fix the authentication timeout
            command: "echo one > one.txt"
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let runner = try Runner.start(
            flags: RunFlags(file: file), home: fixture.home, currentDirectory: fixture.repo.path, processorCount: 2)
        let run = try await runner.execute(observer: SilentObserver(), control: RunControl()).run
        let printed = fixture.sandbox.child("check.env")
        let report = try await fixture.merge(MergeOptions(check: "env > \(printed)"))
        let outcome = try #require(report.outcomes.first)
        #expect(outcome.result == .landed, "\(outcome.reason ?? "")")
        let task = try fixture.task(run, "one")
        // grove's own variables, over what the check inherits from grove's environment; no
        // GROVE_SLOT (a check has no slot) and the candidate it runs at.
        let inherited = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("GROVE_") }
        let expected = inherited.merging([
            "GROVE_RUN": String(run), "GROVE_TASK": "one", "GROVE_INSTRUCTIONS": "Fix the authentication timeout",
            "GROVE_REPO": task.repo, "GROVE_BASE": "main", "GROVE_BRANCH": task.branch,
            "GROVE_WORKTREE": task.worktree, "GROVE_CANDIDATE": try #require(outcome.commit),
        ]) { _, grove in grove }
        let lines = try String(contentsOfFile: printed, encoding: .utf8).split(separator: "\n")
        let got = Dictionary(
            lines.filter { $0.hasPrefix("GROVE_") }.map { line in
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        ) { first, _ in first }
        #expect(got == expected)
    }

    @Test func aWorktreeThatCannotTakeTheCheckIsAnError() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one"), .own("two")])
        try FileManager.default.removeItem(atPath: try fixture.task(run, "one").worktree)
        try "local\n".write(
            toFile: try fixture.task(run, "two").worktree + "/README.md", atomically: true, encoding: .utf8)
        let report = try await fixture.merge(MergeOptions(check: "true"))
        #expect(report.outcomes.map(\.result) == [.error, .error])
        #expect(report.outcomes[0].reason?.contains("is gone, and --check runs there") == true)
        #expect(report.outcomes[1].reason?.contains("has uncommitted changes (README.md)") == true)
        #expect(try fixture.tip("grove/\(run)/two") == fixture.task(run, "two").headCommit)
    }
}
