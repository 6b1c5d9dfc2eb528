import Foundation
import GroveCore
import TestSupport
import Testing

@testable import GroveCLI

/// `grove merge` as a user runs it: the built binary after a `grove run`, its table, its JSON,
/// its exit statuses, and `grove status` showing what it did.
@Suite("grove merge")
struct MergeCommandTests {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n", "conflict.txt": "line 1\nline 2\n"])
        home = sandbox.child("home")
    }

    var environment: [String: String] { ["GROVE_HOME": home, "HOME": sandbox.path, "NO_COLOR": "1"] }

    func grove(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        try Shell.run(
            [try builtBinary()] + arguments, in: repo.path, environment: environment.merging(extra) { $1 },
            check: false)
    }

    /// A run of two tasks that land and two that rewrite the same line (the second conflicts).
    func runWithOneConflict() throws {
        let writes = try grove([
            "run", "--count", "2", "--name", "note", "--", "sh", "-c", "echo $GROVE_TASK > $GROVE_TASK.txt",
        ])
        #expect(writes.status == 0, "\(writes.stderr)")
        let edits = try grove(["run", "--count", "2", "--name", "edit", "--", Fixtures.agent("conflict-edit")])
        #expect(edits.status == 0, "\(edits.stderr)")
    }

    @Test func aRunThatLandsCompletelyExitsZeroAndPrintsItsTable() throws {
        try runWithOneConflict()
        let result = try grove(["merge", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let main = String(try repo.revParse("main").prefix(7))
        let before = String(try repo.revParse("main~1").prefix(7))
        #expect(
            result.lines == [
                "\(repo.path) → main",
                "task    result  commit   conflicting paths",
                "note-1  landed  \(before)",
                "note-2  landed  \(main)",
                "",
                "run 1: 2 landed",
            ])
        #expect(result.stderr.contains("grove: [note-2] landed as \(main) (1 commit)"))
        #expect(try repo.porcelainStatus().isEmpty)
    }

    @Test func aConflictExitsOneNamesItsPathsAndStatusShowsTheResults() throws {
        try runWithOneConflict()
        let result = try grove(["merge"])
        #expect(result.status == 1)
        let lines = result.lines
        #expect(lines.count >= 5)
        #expect(lines[1] == "task    result    commit   conflicting paths")
        #expect(lines[2].hasPrefix("edit-1  landed    "))
        #expect(lines[3] == "edit-2  conflict           conflict.txt")
        #expect(lines[4].hasPrefix("  edit-2: commit "))
        #expect(lines[4].hasSuffix("rebase grove/2/edit-2 onto main yourself, then run `grove merge` again"))
        #expect(lines.last == "run 2: 1 landed, 1 conflict")

        let status = try grove(["status"])
        #expect(status.lines[1].hasSuffix("branch          merge"))
        #expect(status.lines[2].hasSuffix("grove/2/edit-1  landed"))
        #expect(status.lines[3].hasSuffix("grove/2/edit-2  conflict"))
        let json = try JSONDecoder().decode(StatusReport.self, from: Data(try grove(["status", "--json"]).stdout.utf8))
        #expect(json.tasks.map { $0.merge?.result } == [.landed, .conflict])
        #expect(json.tasks.last?.merge?.conflicts == ["conflict.txt"])
        #expect(json.tasks.first?.merge?.commit == (try repo.revParse("main")))
        // Run 1 was never merged: its status has the merge key, null.
        let first = try grove(["status", "1", "--json"]).stdout
        #expect(first.contains("\"merge\":null"))
    }

    @Test func jsonPrintsOneEventPerLine() throws {
        try runWithOneConflict()
        let result = try grove(["merge", "--json"])
        #expect(result.status == 1)
        let events = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(events.first?["event"] as? String == "merge_started")
        let merged = try #require(events.dropLast().last)
        #expect(merged["event"] as? String == "merge_finished")
        #expect(merged["counts"] as? [String: Int] == ["landed": 1, "conflict": 1])
        let finished = events.filter { $0["event"] as? String == "task_finished" }
        #expect(finished.map { $0["result"] as? String } == ["landed", "conflict"])
        #expect(finished.last?["conflicts"] as? [String] == ["conflict.txt"])
        #expect(result.stderr.isEmpty)

        // The last line: the run as `grove status --json` shows it after the merge.
        #expect(events.last?["event"] as? String == "summary")
        let last = try #require(result.stdout.split(separator: "\n").last)
        let summary = try JSONDecoder().decode(StatusReport.self, from: Data(last.utf8))
        let status = try JSONDecoder().decode(
            StatusReport.self, from: Data(try grove(["status", "2", "--json"]).stdout.utf8))
        #expect(summary == status)
        #expect(summary.tasks.map { $0.merge?.result } == [.landed, .conflict])
    }

    /// A second grove (here: this test process holds the lock) makes `grove merge` exit 3
    /// naming the holder's pid; a lock whose holder died is taken over.
    @Test func aHeldLockExitsThreeNamingTheHolderAndAStaleOneIsTakenOver() throws {
        try runWithOneConflict()
        let refs = try repo.refs()
        let common = try repo.open().commonDirectory
        let lock = try RepositoryLock.acquire(commonDirectory: common, repository: repo.path)
        let locked = try grove(["merge"])
        #expect(locked.status == ExitStatus.locked)
        #expect(locked.stderr.hasPrefix("error: \(repo.path) is locked by another grove (pid \(getpid()))"))
        #expect(locked.stdout.isEmpty)
        #expect(try repo.refs() == refs)
        lock.release()

        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        try "\(dead.processIdentifier)\n".write(toFile: lock.path, atomically: true, encoding: .utf8)
        let merged = try grove(["merge", "1"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lock.path))
    }

    /// Two groves at once: the second exits 3 naming the first's pid, and changes nothing.
    @Test func aSecondGroveMergeExitsThreeWhileTheFirstHoldsTheLock() throws {
        try runWithOneConflict()
        let lockFile = try repo.open().commonDirectory + "/grove.lock"
        let first = try BackgroundProcess(
            [try builtBinary(), "merge", "1", "--check", "sleep 1"], in: repo.path, environment: environment)
        #expect(eventually { FileManager.default.fileExists(atPath: lockFile) })
        let refs = try repo.refs()
        let second = try grove(["merge", "1"])
        #expect(second.status == ExitStatus.locked)
        #expect(second.stderr.contains("locked by another grove (pid \(first.pid))"))
        #expect(second.stderr.contains("wait for it to finish"))
        #expect(try repo.refs() == refs)
        let done = first.wait()
        #expect(done.status == 0, "\(done.stderr)")
        #expect(done.stdout.contains("run 1: 2 landed"))
    }

    /// Ctrl-C during a check ends the check's process group, puts the branch back, lands
    /// nothing more, and exits 130; the next merge goes on.
    @Test func ctrlCDuringACheckStopsTheQueueAndExits130() throws {
        try runWithOneConflict()
        try repo.commit("meanwhile", files: ["meanwhile.txt": "later\n"])
        let tip = try repo.revParse("grove/1/note-1")
        let main = try repo.revParse("main")
        let marker = "6\(Int.random(in: 10_000...99_999))"
        let merge = try BackgroundProcess(
            [try builtBinary(), "merge", "1", "--check", "sleep \(marker)"], in: repo.path, environment: environment)
        #expect(eventually { !ProcessTable.running(withArgument: marker).isEmpty })
        merge.send(SIGINT)
        let result = merge.wait()
        #expect(result.status == ExitStatus.interrupted, "\(result.stderr)")
        #expect(result.stdout.contains("note-1  not_reached"))
        #expect(result.stdout.contains("interrupted during note-1's check"))
        #expect(ProcessTable.running(withArgument: marker).isEmpty)
        #expect(try repo.revParse("grove/1/note-1") == tip)
        #expect(try repo.revParse("main") == main)
        #expect(try TestRepository(existing: home + "/worktrees/1/note-1").porcelainStatus().isEmpty)
        let again = try grove(["merge", "1"])
        #expect(again.status == 0, "\(again.stderr)")
    }

    @Test func aFailingCheckExitsOneAndLandsNothing() throws {
        try runWithOneConflict()
        let before = try repo.revParse("main")
        let result = try grove(["merge", "1", "--check", "false"])
        #expect(result.status == 1)
        #expect(result.lines[2].hasPrefix("note-1  check_failed"))
        #expect(result.lines[3].hasPrefix("note-2  check_failed"))
        #expect(result.stdout.contains("the check exited 1 on the candidate"))
        #expect(try repo.revParse("main") == before)
        let passing = try grove(["merge", "1", "--check", "true"])
        #expect(passing.status == 0, "\(passing.stderr)")
    }

    @Test func planPrintsTheOrderAndPredictionsAndChangesNothing() throws {
        try runWithOneConflict()
        let refs = try repo.refs()
        let plan = try grove(["merge", "--plan"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(
            plan.lines == [
                "\(repo.path) → main (order: run)",
                "#  task    commits  with base  predicted               shares paths with",
                "1  edit-1        1  clean      landed                  edit-2: conflict.txt (conflict)",
                "2  edit-2        1  clean      conflict: conflict.txt  edit-1: conflict.txt (conflict)",
                "",
                "run 2 plan: 1 landed, 1 conflict predicted; nothing was changed",
            ])
        let json = try grove(["merge", "--plan", "--json"])
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["run"] as? Int == 2)
        #expect(try repo.refs() == refs)
        #expect(try repo.porcelainStatus().isEmpty)

        let useless = try grove(["merge", "--plan", "--keep", "--check", "true"])
        #expect(useless.status == ExitStatus.badInput)
        #expect(useless.stderr.contains("--plan changes nothing, so --check and --keep would do nothing with it"))
    }

    @Test func pushSendsEachBaseToItsRemoteOnceItsQueueIsDone() throws {
        let remote = sandbox.child("remote.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        try repo.git("remote", "add", "origin", remote)
        try repo.git("push", "-q", "origin", "main")
        try runWithOneConflict()

        let missing = try grove(["merge", "--push", "upstream"])
        #expect(missing.status == ExitStatus.badInput)
        #expect(missing.stderr.contains("has no remote upstream to push main to"))
        let notARun = try grove(["merge", "origin"])
        #expect(notARun.status == ExitStatus.badInput)
        #expect(notARun.stderr.contains("'origin' is not a run number; to push to a remote, write --push origin"))

        let pushed = try grove(["merge", "1", "--push"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("  push main → origin: pushed\n"))
        #expect(try Shell.git("rev-parse", "main", in: remote).output == (try repo.revParse("main")))

        // The remote moved on meanwhile: the push is refused (never forced), the landing stands.
        let other = sandbox.child("other")
        try Shell.run(["git", "clone", "-q", remote, other])
        try Shell.git("commit", "-q", "--allow-empty", "-m", "elsewhere", in: other)
        try Shell.git("push", "-q", "origin", "main", in: other)
        let remoteTip = try Shell.git("rev-parse", "main", in: remote).output
        let refused = try grove(["merge", "--push", "origin"])
        #expect(refused.status == 1)
        #expect(
            refused.stdout.contains(
                "push main → origin: rejected (fetch first: origin has commits main lacks; fetch them,"
                    + " bring main up to date, then push it yourself)"))
        #expect(try Shell.git("rev-parse", "main", in: remote).output == remoteTip)
        #expect(try repo.output("log", "-1", "--format=%s", "main") == "edit-1: rewrite conflict.txt line 1")
    }

    /// Each push outcome under its wire name, in the `base_pushed` event and in the table.
    @Test func pushOutcomesKeepTheirNamesInJSONAndTheTable() throws {
        let remote = sandbox.child("remote.git")
        try Shell.run(["git", "init", "-q", "--bare", "-b", "main", remote])
        try repo.git("remote", "add", "origin", remote)
        try repo.git("push", "-q", "origin", "main")
        try runWithOneConflict()
        func pushEvent(_ result: ProcessResult) throws -> [String: Any] {
            let events = try result.stdout.split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            return try #require(events.first { $0["event"] as? String == "base_pushed" })
        }

        let pushed = try grove(["merge", "1", "--push", "--json"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let first = try pushEvent(pushed)
        #expect(first["result"] as? String == "pushed")
        #expect(first["base"] as? String == "main")
        #expect(first["reason"] == nil)

        let again = try grove(["merge", "1", "--push", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try pushEvent(again)["result"] as? String == "up_to_date")
        let table = try grove(["merge", "1", "--push"])
        #expect(table.stdout.contains("  push main → origin: up_to_date\n"))

        let other = sandbox.child("other")
        try Shell.run(["git", "clone", "-q", remote, other])
        try Shell.git("commit", "-q", "--allow-empty", "-m", "elsewhere", in: other)
        try Shell.git("push", "-q", "origin", "main", in: other)
        let refused = try grove(["merge", "1", "--push", "--json"])
        #expect(refused.status == 1)
        let rejected = try pushEvent(refused)
        #expect(rejected["result"] as? String == "rejected")
        #expect((rejected["reason"] as? String)?.hasPrefix("fetch first: origin has commits main lacks") == true)
    }

    /// A hand edit the landing does not touch (a Makefile) is no reason to refuse, as it is none
    /// for `git merge --ff-only` in a twin clone; one it touches stops the merge with one message.
    @Test func aLocalChangeBesideTheLandingIsKeptAndOneInItsWayIsNamedOnce() throws {
        try repo.commit("a Makefile", files: ["Makefile": "all:\n"])
        let twin = sandbox.child("twin")
        try Shell.run(["git", "clone", "-q", repo.path, twin])
        try runWithOneConflict()
        for directory in [repo.path, twin] {
            try "all: test\n".write(toFile: directory + "/Makefile", atomically: false, encoding: .utf8)
            try Shell.git("add", "Makefile", in: directory)
            try "all: test lint\n".write(toFile: directory + "/Makefile", atomically: false, encoding: .utf8)
        }
        try "mine\n".write(toFile: repo.path + "/conflict.txt", atomically: false, encoding: .utf8)
        let mainBefore = try repo.revParse("main")

        // Run 1's tasks add note-1.txt and note-2.txt: they land beside both edits.
        let landed = try grove(["merge", "1"])
        #expect(landed.status == 0, "\(landed.stderr)")
        #expect(landed.stdout.hasSuffix("run 1: 2 landed\n"))
        try Shell.git("fetch", "-q", "origin", "main", in: twin)
        try Shell.git("merge", "-q", "--ff-only", "FETCH_HEAD", in: twin)
        try "mine\n".write(toFile: twin + "/conflict.txt", atomically: false, encoding: .utf8)
        #expect(try repo.porcelainStatus() == "MM Makefile\n M conflict.txt")
        #expect(try repo.porcelainStatus() == (try Shell.git("status", "--porcelain", in: twin).output))
        #expect(try repo.output("diff", "--cached") == (try Shell.git("diff", "--cached", in: twin).output))
        #expect(try repo.read("Makefile") == "all: test lint\n")
        #expect(try repo.revParse("main") != mainBefore)

        // Run 2's first task rewrites conflict.txt, which has the user's edit: stopped, once.
        let mainAfter = try repo.revParse("main")
        let stopped = try grove(["merge", "2"])
        #expect(stopped.status == 1)
        let message =
            "landing edit-1 would overwrite local changes (conflict.txt) in \(repo.path), where main is checked out;"
            + " commit or stash them, then run `grove merge` again"
        #expect(stopped.stdout.components(separatedBy: message).count == 2, "\(stopped.stdout)")
        #expect(stopped.stdout.contains("  stopped: \(message)\n"))
        #expect(stopped.stderr.components(separatedBy: message).count == 2, "\(stopped.stderr)")
        #expect(try repo.revParse("main") == mainAfter)
        #expect(try repo.read("conflict.txt") == "mine\n")
        // git refuses the same landing (edit-1 on top of main) in the twin, for the same file.
        let tree = try repo.output("merge-tree", "--write-tree", "main", "grove/2/edit-1")
        let candidate = try repo.output("commit-tree", tree, "-p", "main", "-m", "edit-1")
        try repo.git("branch", "candidate", candidate)
        try Shell.git("fetch", "-q", repo.path, "candidate", in: twin)
        let refused = try Shell.git("merge", "--ff-only", "FETCH_HEAD", in: twin, check: false)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\tconflict.txt\n"))
    }

    @Test func badInputExitsTwoAndChangesNothing() throws {
        // No home yet: nothing is created.
        let none = try grove(["merge"])
        #expect(none.status == ExitStatus.badInput)
        #expect(none.stderr == "error: no run yet in \(home): start one with `grove run`\n")
        #expect(!FileManager.default.fileExists(atPath: home))

        try runWithOneConflict()
        let refs = try repo.refs()
        let unknown = try grove(["merge", "7"])
        #expect(unknown.status == ExitStatus.badInput)
        #expect(unknown.stderr == "error: there is no run 7: `grove status` lists the latest run\n")
        let badPolicy = try grove(["merge", "--on-conflict", "maybe"])
        #expect(badPolicy.status == ExitStatus.badInput)
        let emptyCheck = try grove(["merge", "--check", ""])
        #expect(emptyCheck.status == ExitStatus.badInput)
        #expect(emptyCheck.stderr == "error: --check needs a command, e.g. --check \"make test\"\n")
        #expect(try repo.refs() == refs)
    }
}
