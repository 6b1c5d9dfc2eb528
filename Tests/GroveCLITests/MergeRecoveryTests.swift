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

    /// What an uninterrupted merge ends with: base's tree (tree ids depend on content only, so
    /// every scenario must reach this same one) and the subjects of the commits it added, in order.
    static let reference: (tree: String, subjects: [String]) = {
        guard let scenario = try? Scenario("reference"),
            let before = try? scenario.repo.revParse("main"),
            let result = try? scenario.grove(["merge", "--check", "true"]), result.status == 1,
            let tree = try? scenario.repo.revParse("main^{tree}"),
            let log = try? scenario.repo.output("log", "--reverse", "--format=%s", "\(before)..main")
        else { return ("reference merge failed", []) }
        return (tree, log.split(separator: "\n").map(String.init))
    }()

    static var expectedTree: String { reference.tree }

    /// Where a merge is killed: a failpoint step, the time it is met (1: the first task to land,
    /// 2: the middle one, 3: the last; `three` conflicts and meets none), and whether the merge
    /// runs a check (without one, `checking` and `checked` are never met).
    struct KillPoint: Sendable, CustomTestStringConvertible {
        var step: String
        var occurrence: Int
        var checked: Bool

        var failpoint: String { "\(step):\(occurrence)" }
        var arguments: [String] { checked ? ["merge", "--check", "true"] : ["merge"] }
        var testDescription: String { failpoint + (checked ? " with --check" : " without a check") }
    }

    /// Every kill point (42) with `GROVE_TEST_LONG=1`; by default, every step met by the middle
    /// task with a check and by the first task without one, plus the last task at a few steps.
    static let killPoints: [KillPoint] = {
        var all: [KillPoint] = []
        for checked in [true, false] {
            for step in steps where checked || !["checking", "checked"].contains(step) {
                for occurrence in 1...3 { all.append(KillPoint(step: step, occurrence: occurrence, checked: checked)) }
            }
        }
        if ProcessInfo.processInfo.environment["GROVE_TEST_LONG"] == "1" { return all }
        return all.filter { point in
            switch point.occurrence {
            case 1: !point.checked
            case 2: point.checked
            default: !point.checked && ["base-moved", "cleaning"].contains(point.step)
            }
        }
    }()

    @Test(arguments: killPoints)
    func aMergeKilledAtAStepIsFinishedByTheNext(point: KillPoint) throws {
        let scenario = try Scenario()
        let oldMain = try scenario.repo.revParse("main")
        let refsBefore = try scenario.repo.refs().split(separator: "\n").map(String.init)
        let killed = try scenario.grove(point.arguments, failpoint: point.failpoint)
        #expect(killed.status == SIGKILL, "\(killed.stderr)")
        #expect(killed.stdout.isEmpty)
        // Killed: every ref is at its old commit or its new one, and no other ref appeared.
        try scenario.expectBranchesAtOldOrNew()
        let candidates = try scenario.merges().values.compactMap(\.commit)
        let main = try scenario.repo.revParse("main")
        #expect(main == oldMain || candidates.contains(main), "main is at \(main)")
        let refsNames = Set(refsBefore.map { $0.split(separator: " ")[0] })
        for line in try scenario.repo.refs().split(separator: "\n") {
            #expect(refsNames.contains(line.split(separator: " ")[0]), "\(line) appeared")
        }

        let rerun = try scenario.grove(point.arguments)
        // `three` rewrites the line `one` rewrote: it conflicts; the others land.
        #expect(rerun.status == 1, "\(rerun.stderr)")
        let journal = try scenario.merges()
        #expect(journal.mapValues(\.result) == ["one": .landed, "two": .landed, "three": .conflict, "four": .landed])
        #expect(journal.values.allSatisfy { $0.step == .cleaned || $0.step == .parked })
        #expect(try scenario.repo.revParse("main^{tree}") == Self.reference.tree)
        // Each task landed exactly once, in order, on a linear base; none was lost.
        let subjects = try scenario.repo.output("log", "--reverse", "--format=%s", "\(oldMain)..main")
        #expect(subjects.split(separator: "\n").map(String.init) == Self.reference.subjects)
        #expect(Self.reference.subjects.count == 3)
        #expect(try scenario.repo.output("rev-list", "--merges", "main").isEmpty)
        try scenario.expectBranchesAtOldOrNew()
        #expect(try scenario.tip("three") == scenario.oldTips["three"])
        #expect(FileManager.default.fileExists(atPath: scenario.home + "/worktrees/1/three"))
        for name in ["one", "two", "four"] {
            #expect(try scenario.tip(name) == nil, "\(name)'s branch")
            #expect(!FileManager.default.fileExists(atPath: scenario.home + "/worktrees/1/\(name)"))
        }
        #expect(try scenario.repo.porcelainStatus().isEmpty)
        #expect(try scenario.repo.output("worktree", "list").split(separator: "\n").count == 2)
        let fsck = try scenario.repo.git("fsck", "--strict", "--no-dangling")
        #expect(!fsck.stderr.contains("error"))
    }

    /// SIGKILL while the task's worktree moved to the candidate for the check: files written,
    /// the branch not moved yet (made here from the state the `checking` failpoint leaves, by
    /// putting the branch back alone). The next merge puts those files back, then checks and
    /// lands the task as usual; the worktree is not left with grove's half-move in it.
    @Test func aWorktreeCutOffOnItsWayToTheCandidateIsPutBack() throws {
        let scenario = try Scenario()
        let killed = try scenario.grove(["merge", "--check", "true"], failpoint: "checking")
        #expect(killed.status == SIGKILL)
        let worktree = TestRepository(existing: scenario.home + "/worktrees/1/one")
        let oldTip = try #require(scenario.oldTips["one"] ?? nil)
        #expect(try scenario.tip("one") != oldTip)
        try scenario.repo.git("update-ref", "refs/heads/grove/1/one", oldTip)
        #expect(try !worktree.porcelainStatus().isEmpty)

        let rerun = try scenario.grove(["merge", "--check", "true"])
        #expect(rerun.status == 1, "\(rerun.stderr)")
        let journal = try scenario.merges()
        #expect(journal.mapValues(\.result) == ["one": .landed, "two": .landed, "three": .conflict, "four": .landed])
        #expect(try scenario.repo.revParse("main^{tree}") == Self.reference.tree)
        #expect(!FileManager.default.fileExists(atPath: worktree.path))
    }

    /// SIGKILL while the task's worktree went back from the candidate after a failed check:
    /// some files back at the old tip, the branch still at the candidate (made here from the
    /// `checking` failpoint's state by writing the old files back alone). The next merge finishes
    /// the way back: the check fails again, and the worktree is clean at its old tip.
    @Test func aWorktreeCutOffOnItsWayBackIsFinished() throws {
        let scenario = try Scenario()
        let killed = try scenario.grove(["merge", "--check", "false"], failpoint: "checking")
        #expect(killed.status == SIGKILL)
        let worktree = TestRepository(existing: scenario.home + "/worktrees/1/one")
        let oldTip = try #require(scenario.oldTips["one"] ?? nil)
        try worktree.git("checkout", oldTip, "--", ".")
        try worktree.git("rm", "-q", "--cached", "meanwhile.txt")
        try FileManager.default.removeItem(atPath: worktree.path + "/meanwhile.txt")
        #expect(try !worktree.porcelainStatus().isEmpty)

        let rerun = try scenario.grove(["merge", "--check", "false"])
        #expect(rerun.status == 1, "\(rerun.stderr)")
        #expect(try scenario.merges()["one"]?.result == .checkFailed)
        #expect(try scenario.tip("one") == oldTip)
        #expect(try worktree.revParse("HEAD") == oldTip)
        #expect(try worktree.porcelainStatus().isEmpty)
    }

    /// SIGKILL while a landed task's clean worktree was being removed, some of its files (its
    /// `.git` file among them) gone and git's entry for it still there (grove removes the files
    /// first): the next merge removes the rest and the entry.
    @Test func aWorktreeCutOffWhileBeingRemovedIsRemoved() throws {
        let scenario = try Scenario()
        let killed = try scenario.grove(["merge"], failpoint: "cleaning")
        #expect(killed.status == SIGKILL)
        let worktree = scenario.home + "/worktrees/1/one"
        try FileManager.default.removeItem(atPath: worktree + "/.git")
        try FileManager.default.removeItem(atPath: worktree + "/README.md")

        let rerun = try scenario.grove(["merge"])
        #expect(rerun.status == 1, "\(rerun.stderr)")
        #expect(!FileManager.default.fileExists(atPath: worktree), "\(rerun.stdout)\(rerun.stderr)")
        #expect(try scenario.tip("one") == nil)
        #expect(try scenario.repo.output("worktree", "list").split(separator: "\n").count == 2)
        #expect(try scenario.repo.revParse("main^{tree}") == Self.reference.tree)
        #expect(FileManager.default.fileExists(atPath: scenario.home + "/worktrees/1/three"))
    }

    /// SIGKILL while the main checkout of base moved to a candidate that only changes a file's
    /// mode, after the mode was written: the next merge puts the mode back, then lands.
    @Test func aModeChangeCutOffInTheMainCheckoutIsPutBack() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository("repo", files: ["tool.sh": "echo tool\n", "README.md": "hello\n"])
        try repo.git("update-index", "--chmod=+x", "tool.sh")
        try repo.git("commit", "-q", "-m", "executable")
        try repo.git("reset", "-q", "--hard")
        let environment = ["GROVE_HOME": sandbox.child("home"), "HOME": sandbox.path, "NO_COLOR": "1"]
        func grove(_ arguments: [String], failpoint: String? = nil) throws -> ProcessResult {
            var environment = environment
            if let failpoint { environment["GROVE_FAILPOINT"] = failpoint }
            return try Shell.run([try builtBinary()] + arguments, in: repo.path, environment: environment, check: false)
        }
        #expect(try grove(["run", "--", "chmod", "-x", "tool.sh"]).status == 0)
        #expect(try grove(["merge"], failpoint: "landing").status == SIGKILL)
        // The file and its index entry were written; base did not move.
        try Shell.run(["chmod", "-x", repo.path + "/tool.sh"])
        try repo.git("update-index", "--chmod=-x", "tool.sh")
        #expect(try repo.porcelainStatus() == "M  tool.sh")

        let rerun = try grove(["merge"])
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        #expect(try repo.porcelainStatus().isEmpty)
        #expect(try repo.output("ls-files", "-s", "tool.sh").hasPrefix("100644 "))
    }

    /// SIGKILL while git wrote base's ref and the main checkout's index leaves their `.lock`
    /// files (made here after the `landing` failpoint, as the dead merge would have): the next
    /// merge removes them, says so, and finishes the queue. A lock file older than the dead
    /// merge's step is someone else's: left alone, and the task cannot land past it.
    @Test func lockFilesADeadMergeLeftAreRemovedAndOthersAreNot() throws {
        let scenario = try Scenario()
        let killed = try scenario.grove(["merge"], failpoint: "landing")
        #expect(killed.status == SIGKILL)
        let git = scenario.repo.path + "/.git"
        try "".write(toFile: git + "/refs/heads/main.lock", atomically: false, encoding: .utf8)
        try "".write(toFile: git + "/index.lock", atomically: false, encoding: .utf8)

        let rerun = try scenario.grove(["merge"])
        #expect(rerun.status == 1, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("removed the lock files it left"), "\(rerun.stderr)")
        #expect(!FileManager.default.fileExists(atPath: git + "/refs/heads/main.lock"))
        #expect(!FileManager.default.fileExists(atPath: git + "/index.lock"))
        #expect(try scenario.repo.revParse("main^{tree}") == Self.reference.tree)
        #expect(try scenario.repo.porcelainStatus().isEmpty)

        // Someone else's lock, from before the step: kept; the landing fails on it.
        let other = try Scenario("otherLock")
        try "".write(toFile: other.repo.path + "/.git/refs/heads/main.lock", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -60)],
            ofItemAtPath: other.repo.path + "/.git/refs/heads/main.lock")
        #expect(try other.grove(["merge"], failpoint: "landing").status == SIGKILL)
        let blocked = try other.grove(["merge"])
        #expect(blocked.status == 1)
        #expect(FileManager.default.fileExists(atPath: other.repo.path + "/.git/refs/heads/main.lock"))
        #expect(blocked.stdout.contains("one    error"), "\(blocked.stdout)")
        #expect(blocked.stdout.contains("main.lock"))
        #expect(blocked.stdout.contains("if no git runs in \(other.repo.path), remove that file"))
        // Left in flight for the next merge, which lands everything once the file is gone.
        #expect(try other.merges()["one"]?.step == .landing)
        try FileManager.default.removeItem(atPath: other.repo.path + "/.git/refs/heads/main.lock")
        #expect(try other.grove(["merge"]).status == 1)
        #expect(try other.repo.revParse("main^{tree}") == Self.reference.tree)
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
