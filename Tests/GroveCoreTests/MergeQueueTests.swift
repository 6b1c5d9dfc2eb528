import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// The merge queue on real runs: branches and worktrees made by `Runner`, landed by
/// `MergeQueue`, and the git CLI as the second opinion on what it did.
@Suite("Merge queue")
struct MergeQueueTests {
    @Test func tenTasksWithTwoConflictsLandEightInOrderOnALinearBase() async throws {
        let fixture = try MergeFixture()
        let names = ["a0", "a1", "c2", "a3", "a4", "c5", "a6", "a7", "c8", "a9"]
        let run = try await fixture.run(
            names.map { $0.hasPrefix("c") ? MergeFixture.Task.conflicting($0) : MergeFixture.Task.own($0) })
        let oldBase = try #require(try fixture.tip("main"))
        var messages: [String: String] = [:]
        var authors: [String: String] = [:]
        for name in names {
            messages[name] = try fixture.repo.output("log", "--format=%B", "main..grove/\(run)/\(name)")
            authors[name] = try fixture.repo.output("log", "--format=%an <%ae> %ad", "main..grove/\(run)/\(name)")
        }
        let parked = ["c5", "c8"]
        var parkedTips: [String: String] = [:]
        var parkedFiles: [String: [String: Data]] = [:]
        for name in parked {
            parkedTips[name] = try fixture.tip("grove/\(run)/\(name)")
            parkedFiles[name] = try MergeFixture.snapshot(try fixture.task(run, name).worktree)
        }

        let report = try await fixture.merge()

        let landed = names.filter { !parked.contains($0) }
        #expect(report.repositories.count == 1)
        let outcomes = try #require(report.repositories.first).tasks
        #expect(outcomes.map(\.task) == names)
        for outcome in outcomes {
            if parked.contains(outcome.task) {
                #expect(outcome.result == .conflict, "\(outcome.task)")
                #expect(outcome.conflicts == ["conflict.txt"])
                #expect(outcome.commit == nil)
                #expect(outcome.reason?.contains("rebase grove/\(run)/\(outcome.task) onto main") == true)
            } else {
                #expect(outcome.result == .landed, "\(outcome.task): \(outcome.reason ?? "")")
                #expect(outcome.commits == 1)
            }
        }
        #expect(!report.succeeded)
        #expect(report.counts == ["landed": 8, "conflict": 2])

        // Base: the 8 task commits on top of the old base, in run order, no merge commit.
        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
        let subjects = try fixture.repo.output("log", "--reverse", "--first-parent", "--format=%s", "\(oldBase)..main")
            .split(separator: "\n").map(String.init)
        #expect(subjects == landed.map { messages[$0]?.split(separator: "\n").first.map(String.init) ?? "?" })
        #expect(try fixture.repo.output("rev-list", "--count", "\(oldBase)..main") == "8")
        #expect(try fixture.repo.output("rev-list", "--count", "--first-parent", "\(oldBase)..main") == "8")
        // Each landed as the commit the report names, authors and messages kept; rebased ones
        // (all but the first, which fast-forwarded) have the merge's committer.
        let landedCommits = try fixture.repo.output("rev-list", "--reverse", "\(oldBase)..main")
            .split(separator: "\n").map(String.init)
        for (index, name) in landed.enumerated() {
            let commit = landedCommits[index]
            #expect(outcomes.first { $0.task == name }?.commit == commit)
            #expect(try fixture.repo.output("log", "-1", "--format=%B", commit) == messages[name])
            #expect(try fixture.repo.output("log", "-1", "--format=%an <%ae> %ad", commit) == authors[name])
            let committer = try fixture.repo.output("log", "-1", "--format=%cn <%ce>", commit)
            #expect(committer == (index == 0 ? "Test User <test@example.com>" : "Merge Bot <merge@example.com>"))
        }
        // The main checkout followed base and is clean; the winning conflict edit is c2's.
        #expect(try fixture.repo.porcelainStatus().isEmpty)
        #expect(try fixture.repo.revParse("HEAD") == fixture.tip("main"))
        for name in landed where name.hasPrefix("a") {
            #expect(try fixture.repo.read("\(name).txt") == "\(name)\n")
        }
        #expect(try fixture.repo.read("conflict.txt").hasPrefix("line 1: changed by agent c2\n"))

        // Landed tasks' worktrees and branches are gone; parked ones are byte for byte as they were.
        let worktrees = try fixture.repo.output("worktree", "list", "--porcelain")
        for name in landed {
            #expect(try fixture.tip("grove/\(run)/\(name)") == nil, "\(name)'s branch")
            let path = try fixture.task(run, name).worktree
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(!worktrees.contains(path + "\n"))
        }
        for name in parked {
            let worktree = try fixture.task(run, name).worktree
            #expect(try fixture.tip("grove/\(run)/\(name)") == parkedTips[name])
            #expect(try MergeFixture.snapshot(worktree) == parkedFiles[name])
            #expect(try TestRepository(existing: worktree).porcelainStatus().isEmpty)
            #expect(worktrees.contains("worktree \(worktree)\n"))
        }
        try fixture.expectFsckClean()

        // The journal holds the results; `grove status` reads them.
        let status = try fixture.store.statusReport(run: run)
        for entry in status.tasks {
            #expect(entry.merge?.result == (parked.contains(entry.name) ? .conflict : .landed))
            #expect(entry.merge?.step == (parked.contains(entry.name) ? .parked : .cleaned))
        }
    }

    @Test func eachRepositoryHasItsOwnQueue() async throws {
        let fixture = try MergeFixture()
        let other = try fixture.sandbox.repository("other", files: ["conflict.txt": "line 1\nline 2\n"])
        try await fixture.run([
            .conflicting("here-1"),
            MergeFixture.Task(name: "there-1", command: Fixtures.agent("conflict-edit"), repo: other.path),
            .conflicting("here-2"),
            MergeFixture.Task(name: "there-2", command: "echo there > there.txt", repo: other.path),
        ])
        let report = try await fixture.merge()
        #expect(report.repositories.map(\.repo) == [fixture.repo.path, other.path])
        #expect(report.repositories[0].tasks.map(\.task) == ["here-1", "here-2"])
        #expect(report.repositories[0].tasks.map(\.result) == [.landed, .conflict])
        // The other repository's conflict.txt is its own: its tasks do not conflict with these.
        #expect(report.repositories[1].tasks.map(\.result) == [.landed, .landed])
        #expect(try other.read("there.txt") == "there\n")
        #expect(try other.porcelainStatus().isEmpty)
    }

    @Test func tasksWithoutCommitsHaveNothingToLandAndFailedTasksAreNotQueued() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.idle("idle"), .failing("broken"), .own("works")])
        let brokenTip = try fixture.tip("grove/\(run)/broken")
        let report = try await fixture.merge()
        let outcomes = report.outcomes
        #expect(outcomes.map(\.task) == ["idle", "works"])
        #expect(outcomes.map(\.result) == [.nothingToLand, .landed])
        #expect(report.notQueued.map(\.task) == ["broken"])
        #expect(report.notQueued.first?.state == .failed)
        #expect(report.succeeded)
        // A failed task's worktree and branch stay as they were.
        #expect(try fixture.tip("grove/\(run)/broken") == brokenTip)
        #expect(FileManager.default.fileExists(atPath: try fixture.task(run, "broken").worktree))
    }

    @Test func onConflictStopParksTheConflictAndStopsTheQueue() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.conflicting("first"), .conflicting("second"), .own("third")])
        let thirdTip = try fixture.tip("grove/\(run)/third")
        let report = try await fixture.merge(MergeOptions(onConflict: .stop))
        #expect(report.outcomes.map(\.result) == [.landed, .conflict, .notReached])
        #expect(report.repositories.first?.stopped?.contains("--on-conflict stop") == true)
        #expect(try fixture.tip("grove/\(run)/third") == thirdTip)
        #expect(try fixture.store.merge(run: run, task: "third") == nil)

        // The next merge goes on: the landed task is reported as landed earlier.
        let again = try await fixture.merge()
        #expect(again.outcomes.map(\.result) == [.landed, .conflict, .landed])
        #expect(again.outcomes.map(\.earlier) == [true, false, false])
    }

    @Test func aLocalChangeOnAPathTheLandingChangesStopsTheQueueBeforeAnythingMoves() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one"), .conflicting("two")])
        // conflict.txt is the second task's; README.md nobody's.
        try fixture.repo.write(["conflict.txt": "edited by hand\n", "README.md": "mine too\n"])

        let report = try await fixture.merge()
        // The first lands beside both changes; the second would overwrite one and stops.
        #expect(report.outcomes.map(\.result) == [.landed, .notReached])
        let stopped = try #require(report.repositories.first?.stopped)
        #expect(
            stopped
                == "landing two would overwrite local changes (conflict.txt) in \(fixture.repo.path), where main is"
                + " checked out; commit or stash them, then run `grove merge` again")
        #expect(try fixture.repo.read("conflict.txt") == "edited by hand\n")
        #expect(try fixture.repo.read("README.md") == "mine too\n")
        #expect(try fixture.repo.read("one.txt") == "one\n")
        #expect(try fixture.repo.porcelainStatus() == " M README.md\n M conflict.txt")
        #expect(try fixture.tip("main") == report.outcomes.first?.commit)
        #expect(try fixture.store.merge(run: run, task: "two") == nil)
        #expect(try fixture.tip("grove/\(run)/two") != nil)

        // An untracked file the landing would write stops it too, with nothing moved.
        try fixture.repo.git("checkout", "conflict.txt")
        let second = try await fixture.run([.own("three")], file: "second.yaml")
        try fixture.repo.write(["three.txt": "mine\n"])
        let refsBefore = try fixture.repo.refs()
        let blocked = try await fixture.merge(MergeOptions(run: second))
        #expect(blocked.outcomes.map(\.result) == [.notReached])
        #expect(
            blocked.repositories.first?.stopped?.contains(
                "would overwrite untracked files (three.txt) in \(fixture.repo.path), where main is checked out;"
                    + " move or remove them, then run `grove merge` again") == true)
        #expect(try fixture.repo.refs() == refsBefore)
        #expect(try fixture.repo.read("three.txt") == "mine\n")

        // Out of the way, both land; the hand edit of README.md is still there.
        try FileManager.default.removeItem(atPath: fixture.repo.path + "/three.txt")
        #expect(try await fixture.merge(MergeOptions(run: run)).outcomes.map(\.result) == [.landed, .landed])
        #expect(try await fixture.merge(MergeOptions(run: second)).outcomes.map(\.result) == [.landed])
        #expect(try fixture.repo.porcelainStatus() == " M README.md")
    }

    /// The user's changes beside the landing — edited, staged, staged then edited again, deleted,
    /// untracked — are kept exactly, as `git merge --ff-only` keeps them in a twin clone.
    @Test func landingKeepsTheUsersOtherChangesAsGitMergeFastForwardDoes() async throws {
        let fixture = try MergeFixture(
            files: ["README.md": "hello\n", "staged.txt": "s\n", "twice.txt": "t\n", "gone.txt": "g\n"])
        try await fixture.run([.own("one"), .own("two")])
        let twin = fixture.sandbox.child("twin")
        try Shell.run(["git", "clone", "-q", fixture.repo.path, twin])
        let local = """
            echo edited >> README.md && echo staged >> staged.txt && git add staged.txt \\
              && echo again >> twice.txt && git add twice.txt && echo more >> twice.txt \\
              && rm gone.txt && echo scratch > notes.txt
            """
        try Shell.run(["sh", "-c", local], in: fixture.repo.path)
        try Shell.run(["sh", "-c", local], in: twin)

        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.landed, .landed], "\(report.outcomes.map(\.reason))")
        try Shell.git("fetch", "-q", "origin", "main", in: twin)
        try Shell.git("merge", "-q", "--ff-only", "FETCH_HEAD", in: twin)

        let status = try fixture.repo.output("status", "--porcelain", "--untracked-files=all")
        #expect(status == " M README.md\n D gone.txt\nM  staged.txt\nMM twice.txt\n?? notes.txt")
        #expect(status == (try Shell.git("status", "--porcelain", "--untracked-files=all", in: twin).output))
        #expect(
            try fixture.repo.output("ls-files", "--stage") == (try Shell.git("ls-files", "--stage", in: twin).output))
        #expect(try MergeFixture.snapshot(fixture.repo.path) == MergeFixture.snapshot(twin))
        #expect(try fixture.repo.output("diff", "--cached") == (try Shell.git("diff", "--cached", in: twin).output))
    }

    @Test func keepMovesTheBranchAndItsWorktreeToTheLandedCommit() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one"), .own("two")])
        let report = try await fixture.merge(MergeOptions(keep: true))
        #expect(report.outcomes.map(\.result) == [.landed, .landed])
        for outcome in report.outcomes {
            let worktree = TestRepository(existing: try fixture.task(run, outcome.task).worktree)
            #expect(try fixture.tip("grove/\(run)/\(outcome.task)") == outcome.commit)
            #expect(try worktree.revParse("HEAD") == outcome.commit)
            #expect(try worktree.porcelainStatus().isEmpty)
        }
        #expect(try fixture.tip("main") == report.outcomes.last?.commit)
    }

    /// Base checked out twice (`git worktree add --force`): a local change in the way in the
    /// second stops the landing before the first moves; one beside it stays in both.
    @Test func aLocalChangeInASecondCheckoutOfBaseStopsTheLandingBeforeAnythingMoves() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.conflicting("one")])
        let second = fixture.sandbox.child("second")
        try fixture.repo.git("worktree", "add", "-q", "--force", second, "main")
        let other = TestRepository(existing: second)
        try other.write(["conflict.txt": "edited in the second checkout\n", "README.md": "beside\n"])
        try fixture.repo.write(["README.md": "beside too\n"])
        let refs = try fixture.repo.refs()

        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.notReached])
        #expect(
            report.repositories.first?.stopped
                == "landing one would overwrite local changes (conflict.txt) in \(second), where main is checked out;"
                + " commit or stash them, then run `grove merge` again")
        #expect(try fixture.repo.refs() == refs)
        #expect(try fixture.repo.porcelainStatus() == " M README.md")
        #expect(try other.porcelainStatus() == " M README.md\n M conflict.txt")

        try other.git("checkout", "conflict.txt")
        #expect(try await fixture.merge(MergeOptions(run: run)).outcomes.map(\.result) == [.landed])
        for checkout in [fixture.repo, other] {
            #expect(try checkout.revParse("HEAD") == fixture.tip("main"))
            #expect(try checkout.porcelainStatus() == " M README.md")
            #expect(try checkout.read("conflict.txt").hasPrefix("line 1: changed by agent one\n"))
        }
    }

    @Test func aBaseNotCheckedOutMovesAsARefAndALinkedCheckoutOfItFollows() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one"), .own("two")])
        try fixture.repo.git("switch", "-q", "-c", "side")
        let report = try await fixture.merge()
        #expect(report.outcomes.map(\.result) == [.landed, .landed])
        #expect(try fixture.tip("main") == report.outcomes.last?.commit)
        // The main checkout is on another branch: untouched.
        #expect(try fixture.repo.output("symbolic-ref", "--short", "HEAD") == "side")
        #expect(try fixture.repo.porcelainStatus().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.repo.path + "/one.txt"))

        // A linked worktree that has base checked out is updated like `git merge --ff-only`.
        let mainWorktree = fixture.sandbox.child("main-wt")
        try fixture.repo.git("worktree", "add", "-q", mainWorktree, "main")
        let second = try await fixture.run([.own("three")], file: "second.yaml")
        let more = try await fixture.merge(MergeOptions(run: second))
        #expect(more.outcomes.map(\.result) == [.landed])
        let linked = TestRepository(existing: mainWorktree)
        #expect(try linked.revParse("HEAD") == fixture.tip("main"))
        #expect(try linked.porcelainStatus().isEmpty)
        #expect(try linked.read("three.txt") == "three\n")
        _ = run
    }

    @Test func aTaskWorktreeWithUncommittedWorkIsKeptAndSaysSo() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one")])
        let worktree = try fixture.task(run, "one").worktree
        try "unsaved\n".write(toFile: worktree + "/scratch.txt", atomically: true, encoding: .utf8)
        let report = try await fixture.merge()
        let outcome = try #require(report.outcomes.first)
        #expect(outcome.result == .landed)
        #expect(outcome.reason?.contains("kept: it has uncommitted changes (scratch.txt)") == true)
        #expect(report.succeeded)
        // Nothing lost: the worktree stays, its branch follows base, the file is still there.
        #expect(try String(contentsOfFile: worktree + "/scratch.txt", encoding: .utf8) == "unsaved\n")
        #expect(try fixture.tip("grove/\(run)/one") == outcome.commit)
        #expect(try TestRepository(existing: worktree).porcelainStatus() == "?? scratch.txt")
    }

    @Test func mergingAgainChangesNothingAndReportsTheEarlierLandings() async throws {
        let fixture = try MergeFixture()
        try await fixture.run([.own("one"), .conflicting("two"), .conflicting("three")])
        let first = try await fixture.merge()
        #expect(first.outcomes.map(\.result) == [.landed, .landed, .conflict])
        let refs = try fixture.repo.refs()
        let again = try await fixture.merge()
        #expect(again.outcomes.map(\.result) == [.landed, .landed, .conflict])
        #expect(again.outcomes.map(\.earlier) == [true, true, false])
        #expect(again.outcomes.map(\.commit) == first.outcomes.map(\.commit))
        #expect(try fixture.repo.refs() == refs)
    }

    @Test func badInputIsRefusedBeforeAnythingChanges() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run([.own("one")])
        let store = try fixture.store
        #expect(throws: StateError.noSuchRun(7)) {
            _ = try MergeQueue.prepare(options: MergeOptions(run: 7), store: store, home: fixture.home)
        }
        #expect(throws: MergeInputError.self) {
            _ = try MergeQueue.prepare(options: MergeOptions(check: "  "), store: store, home: fixture.home)
        }
        try fixture.repo.git("branch", "-q", "-m", "main", "trunk")
        let error = #expect(throws: MergeInputError.self) {
            _ = try MergeQueue.prepare(options: MergeOptions(run: run), store: store, home: fixture.home)
        }
        #expect(error?.message.contains("its base main no longer exists") == true)
    }
}
