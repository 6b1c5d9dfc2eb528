import Foundation
import GroveCore
import TestSupport
import Testing

/// A `grove merge` killed at any step (`GROVE_FAILPOINT`, SIGKILL as the kernel would deliver
/// it) is finished by the next one: the same final base as an uninterrupted merge, and no
/// branch ever at a commit other than its old or its new one.
@Suite("grove merge recovery")
struct MergeRecoveryTests {
    /// Every failpoint of the queue, in the order one task meets them.
    static let steps = ["prepared", "checking", "checked", "landing", "base-moved", "landed", "cleaning", "cleaned"]

    /// A repository with a finished run of three tasks (plus one that conflicts with the first)
    /// whose base moved after the run, so every candidate is a real rebase.
    struct Scenario {
        let sandbox: Sandbox
        let repo: TestRepository
        let home: String
        let names = ["one", "two", "three", "four"]
        /// Each task branch's tip before any merge.
        var oldTips: [String: String] = [:]

        init(_ label: String = #function) throws {
            sandbox = try Sandbox(label)
            repo = try sandbox.repository("repo", files: ["README.md": "hello\n", "conflict.txt": "line 1\nline 2\n"])
            home = sandbox.child("home")
            let file = sandbox.child("grove.yaml")
            try """
            base: main
            tasks:
              - { name: one, repo: \(repo.path), command: "\(Fixtures.agent("conflict-edit"))" }
              - { name: two, repo: \(repo.path), command: "echo two > two.txt" }
              - { name: three, repo: \(repo.path), command: "\(Fixtures.agent("conflict-edit"))" }
              - { name: four, repo: \(repo.path), command: "echo four > four.txt" }
            """.write(toFile: file, atomically: true, encoding: .utf8)
            let run = try grove(["run", file])
            #expect(run.status == 0, "\(run.stderr)")
            try repo.commit("meanwhile", files: ["meanwhile.txt": "later\n"])
            for name in names { oldTips[name] = try tip(name) }
        }

        var environment: [String: String] { ["GROVE_HOME": home, "HOME": sandbox.path, "NO_COLOR": "1"] }

        func grove(_ arguments: [String], failpoint: String? = nil) throws -> ProcessResult {
            var environment = environment
            if let failpoint { environment["GROVE_FAILPOINT"] = failpoint }
            return try Shell.run([try builtBinary()] + arguments, in: repo.path, environment: environment, check: false)
        }

        func tip(_ name: String) throws -> String? {
            let result = try Shell.run(
                ["git", "-C", repo.path, "rev-parse", "--verify", "-q", "grove/1/\(name)"], check: false)
            return result.status == 0 ? result.output : nil
        }

        /// The journal's rows, read the way a user could (`grove status --json`).
        func merges() throws -> [String: StatusReport.MergeEntry] {
            let result = try grove(["status", "1", "--json"])
            let report = try JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
            return Dictionary(
                uniqueKeysWithValues: report.tasks.compactMap { task in task.merge.map { (task.name, $0) } })
        }

        /// Every task branch is absent (landed and deleted), at its old tip, or at the candidate
        /// the journal names for it.
        func expectBranchesAtOldOrNew(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let journal = try merges()
            for name in names {
                guard let tip = try tip(name) else { continue }
                // The journal names the candidate of a task in flight or landed.
                let allowed = [oldTips[name], journal[name]?.commit]
                #expect(allowed.contains(tip), "\(name) is at \(tip)", sourceLocation: sourceLocation)
            }
        }
    }

    /// The base tree an uninterrupted merge ends with (tree ids depend on content only, so every
    /// scenario must reach this same one).
    static let expectedTree: String = {
        guard let scenario = try? Scenario("reference"),
            let result = try? scenario.grove(["merge", "--check", "true"]), result.status == 1,
            let tree = try? scenario.repo.revParse("main^{tree}")
        else { return "reference merge failed" }
        return tree
    }()

    @Test(arguments: steps)
    func aMergeKilledAtAStepIsFinishedByTheNext(step: String) throws {
        let scenario = try Scenario()
        // The second time the step is met: the first task has landed by then.
        let killed = try scenario.grove(["merge", "--check", "true"], failpoint: step + ":2")
        #expect(killed.status == SIGKILL, "\(killed.stderr)")
        #expect(killed.stdout.isEmpty)
        try scenario.expectBranchesAtOldOrNew()

        let rerun = try scenario.grove(["merge", "--check", "true"])
        // `three` rewrites the line `one` rewrote: it conflicts; the others land.
        #expect(rerun.status == 1, "\(rerun.stderr)")
        let journal = try scenario.merges()
        #expect(journal.mapValues(\.result) == ["one": .landed, "two": .landed, "three": .conflict, "four": .landed])
        #expect(journal.values.allSatisfy { $0.step == .cleaned || $0.step == .parked })
        #expect(try scenario.repo.revParse("main^{tree}") == Self.expectedTree)
        try scenario.expectBranchesAtOldOrNew()
        #expect(try scenario.tip("three") == scenario.oldTips["three"])
        for name in ["one", "two", "four"] {
            #expect(try scenario.tip(name) == nil, "\(name)'s branch")
            #expect(!FileManager.default.fileExists(atPath: scenario.home + "/worktrees/1/\(name)"))
        }
        #expect(try scenario.repo.porcelainStatus().isEmpty)
        #expect(try scenario.repo.output("rev-list", "--merges", "main").isEmpty)
        #expect(try scenario.repo.output("worktree", "list").split(separator: "\n").count == 2)
        let fsck = try scenario.repo.git("fsck", "--no-dangling")
        #expect(!fsck.stderr.contains("error"))
    }

    /// Killed before base moved, and base moved outside grove meanwhile: the task is prepared
    /// again on the new tip, even when the next merge is of another run.
    @Test func aTaskCutOffBeforeLandingIsPreparedAgainOnTheNewBase() throws {
        let scenario = try Scenario()
        let killed = try scenario.grove(["merge", "--check", "true"], failpoint: "landing")
        #expect(killed.status == SIGKILL)
        #expect(try scenario.merges()["one"]?.step == .landing)
        try scenario.repo.commit("outside grove", files: ["outside.txt": "outside\n"])
        let outside = try scenario.repo.revParse("main")

        // A new run's merge finds run 1's journal row first: nothing of run 1 landed, so its
        // branch goes back to where it was and the row is forgotten.
        let second = try scenario.grove(["run", "--name", "later", "--", "sh", "-c", "echo later > later.txt"])
        #expect(second.status == 0, "\(second.stderr)")
        let other = try scenario.grove(["merge", "2"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(other.stderr.contains("[one] recovered: an interrupted merge had not landed it"))
        #expect(try scenario.merges()["one"] == nil)
        #expect(try scenario.tip("one") == scenario.oldTips["one"])

        let rerun = try scenario.grove(["merge", "1"])
        #expect(rerun.status == 1, "\(rerun.stderr)")
        #expect(
            try scenario.merges().mapValues(\.result) == [
                "one": .landed, "two": .landed, "three": .conflict, "four": .landed,
            ])
        // Run 2's task, then run 1's three that apply.
        #expect(try scenario.repo.output("rev-list", "--count", "\(outside)..main") == "4")
        #expect(try scenario.repo.porcelainStatus().isEmpty)
    }

    /// SIGKILL while a check runs: its process group is ended by grove's watchdog, and the next
    /// merge puts the branch back and lands the task.
    @Test func aMergeKilledDuringItsCheckEndsTheOrphanedCheck() throws {
        let scenario = try Scenario()
        let marker = "7\(Int.random(in: 10_000...99_999))"
        let merge = try BackgroundProcess(
            [try builtBinary(), "merge", "--check", "sleep \(marker)"], in: scenario.repo.path,
            environment: scenario.environment)
        #expect(eventually { !ProcessTable.running(withArgument: marker).isEmpty })
        merge.send(SIGKILL)
        _ = merge.wait()
        // grove's watchdog ends the check's group once grove is gone.
        #expect(eventually(within: .seconds(5)) { ProcessTable.running(withArgument: marker).isEmpty })
        try scenario.expectBranchesAtOldOrNew()

        let rerun = try scenario.grove(["merge", "--check", "true"])
        #expect(rerun.status == 1, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("[one] recovered"))
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        #expect(try scenario.repo.revParse("main^{tree}") == Self.expectedTree)
        #expect(try scenario.repo.porcelainStatus().isEmpty)
    }
}
