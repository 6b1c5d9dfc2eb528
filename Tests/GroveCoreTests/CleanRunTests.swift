import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// `grove clean RUN` after a real `grove run` (Runner): what is removed, what is kept and why,
/// and what git says afterwards.
@Suite("Clean RUN")
struct CleanRunTests {
    let sandbox: Sandbox
    let home: GroveHome
    let repo: TestRepository

    init() throws {
        sandbox = try Sandbox()
        home = GroveHome(path: sandbox.child("home"))
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
    }

    /// Runs a task file of `name: command` tasks in the repository and returns the stored run.
    func run(_ tasks: KeyValuePairs<String, String>) async throws -> StatusReport {
        let lines = tasks.map { "  - name: \($0.key)\n    command: \"\($0.value)\"" }.joined(separator: "\n")
        let file = repo.path + "/grove.yaml"
        try "tasks:\n\(lines)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let runner = try Runner.start(
            flags: RunFlags(file: file), home: home, currentDirectory: repo.path, processorCount: 2)
        let report = try await runner.execute(observer: SilentObserver(), control: RunControl())
        try FileManager.default.removeItem(atPath: file)
        return report
    }

    func clean(
        _ run: Int? = nil, dryRun: Bool = false, force: Bool = false,
        beforeActing: (@Sendable (String, [CleanItem]) -> Void)? = nil
    ) async throws -> CleanReport {
        let options = RunCleanOptions(run: run, dryRun: dryRun, force: force, currentDirectory: sandbox.path)
        let cleaner = try RunCleaner.prepare(options: options, store: try StateStore(home: home), home: home)
        return await cleaner.execute(beforeActing: beforeActing)
    }

    /// The linked worktrees git lists, by directory name, sorted.
    func linked() throws -> [String] {
        try repo.output("worktree", "list", "--porcelain").split(separator: "\n")
            .filter { $0.hasPrefix("worktree ") }.dropFirst()
            .map { ($0 as NSString).lastPathComponent }.sorted()
    }

    func groveBranches() throws -> [String] {
        try repo.output("for-each-ref", "--format=%(refname:short)", "refs/heads/grove").split(separator: "\n")
            .map(String.init)
    }

    /// Every kind of task end: landed, no commits, unmerged, pushed, dirty after success,
    /// failed with leftovers, and a worktree deleted by hand.
    func finishedRun() async throws -> StatusReport {
        let report = try await run([
            "landed": "echo landed > landed.txt", "idle": "true", "work": "echo work > work.txt",
            "pushed": "echo pushed > pushed.txt", "dirty": "echo dirty > dirty.txt",
            "failed": "echo half > half.txt; exit 3", "gone": "true",
        ])
        #expect(report.tasks.filter { $0.state == .succeeded }.count == 6)
        try repo.git("merge", "-q", "--ff-only", "grove/1/landed")
        let origin = sandbox.child("origin.git")
        try Shell.run(["git", "init", "-q", "--bare", origin])
        try repo.git("remote", "add", "origin", origin)
        try repo.git("push", "-q", "origin", "grove/1/pushed")
        try "scratch\n".write(
            toFile: home.worktree(run: 1, task: "dirty") + "/scratch.txt", atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: home.worktree(run: 1, task: "gone"))
        return report
    }

    @Test func removesWhatIsSafeAndKeepsAndExplainsTheRest() async throws {
        _ = try await finishedRun()
        let report = try await clean(1)
        let byTask = Dictionary(uniqueKeysWithValues: report.items.map { ($0.branch ?? "?", $0) })
        func item(_ task: String) throws -> CleanItem { try #require(byTask["grove/1/\(task)"]) }

        #expect(try item("landed").kind == .merged)
        #expect(try item("idle").kind == .empty)
        #expect(try item("pushed").kind == .pushed)
        #expect(try item("gone").kind == .missing)
        for task in ["landed", "idle", "pushed"] {
            #expect(try item(task).worktreeAction == .remove && item(task).branchAction == .delete)
        }
        #expect(try item("gone").worktreeAction == .prune && item("gone").branchAction == .delete)
        // Clean worktree, commits nowhere else: the worktree goes, the branch stays.
        #expect(try item("work").kind == .unmerged)
        #expect(try item("work").worktreeAction == .remove)
        #expect(try item("work").branchAction == .keep)
        #expect(try item("work").reason?.contains("1 commit in neither main nor a remote") == true)
        // The safe next step first, --force last.
        #expect(
            try item("work").fix
                == "land it with `grove merge 1`, or delete it and its 1 commit with `grove clean 1 --force`")
        for task in ["dirty", "failed"] {
            #expect(try item(task).kind == .dirty)
            #expect(try item(task).worktreeAction == .keep && item(task).branchAction == .keep)
            let path = home.worktree(run: 1, task: task)
            #expect(
                try item(task).fix
                    == "commit what is worth keeping in \(path), then `grove merge 1`; `grove clean 1 --force` discards it"
            )
        }
        #expect(try item("failed").reason?.contains("half.txt") == true)
        #expect(report.cleaned == false)
        #expect(try StateStore(home: home).run(number: 1)?.cleanedAt == nil)

        // git agrees, and nothing was lost.
        #expect(try linked() == ["dirty", "failed"])
        #expect(try groveBranches() == ["grove/1/dirty", "grove/1/failed", "grove/1/work"])
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/work") == "grove: work (run 1)")
        #expect(FileManager.default.fileExists(atPath: home.worktree(run: 1, task: "dirty") + "/scratch.txt"))
        #expect(FileManager.default.fileExists(atPath: home.worktree(run: 1, task: "failed") + "/half.txt"))
        #expect(try repo.output("ls-remote", "origin").contains("refs/heads/grove/1/pushed"))

        // --force takes the rest; the run is then marked cleaned and its directory is gone.
        let forced = try await clean(1, force: true)
        #expect(forced.cleaned == true)
        #expect(!forced.items.contains { $0.keepsSomething })
        #expect(try linked().isEmpty)
        #expect(try groveBranches().isEmpty)
        #expect(try StateStore(home: home).run(number: 1)?.cleanedAt != nil)
        #expect(!FileManager.default.fileExists(atPath: home.worktrees + "/1"))
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: repo.path + "/.git/worktrees")) ?? []
        #expect(entries.isEmpty)
        #expect(try Shell.run(["git", "-C", repo.path, "fsck", "--no-dangling"], check: false).status == 0)
    }

    /// A task whose commit main took under another id (cherry-picked after main moved on):
    /// git cherry marks it `-`, so clean removes it without --force and says why.
    @Test func aTaskWhoseChangesAreAlreadyInMainIsRemovedWithoutForce() async throws {
        _ = try await run([
            "picked": "echo picked > picked.txt", "kept": "echo kept > kept.txt",
            "amend": "git commit -q --amend -m 'amended start'",
        ])
        try repo.commit("main moves on", files: ["main.txt": "main\n"])
        try repo.git("cherry-pick", "grove/1/picked")
        // The second opinion: every commit `-` for picked, `+` for kept.
        #expect(try repo.output("cherry", "main", "grove/1/picked").hasPrefix("- "))
        #expect(try repo.output("cherry", "main", "grove/1/kept").hasPrefix("+ "))
        // amend rewrote main's own commit (same change, new message): git cherry says `-`, but
        // the branch no longer holds its start, so it has no own commits to judge that way: kept.
        #expect(try repo.output("cherry", "main", "grove/1/amend").hasPrefix("- "))

        let report = try await clean(1)
        let picked = try #require(report.items.first { $0.branch == "grove/1/picked" })
        #expect(picked.kind == .merged)
        #expect(picked.worktreeAction == .remove && picked.branchAction == .delete && picked.done)
        #expect(picked.reason?.contains("its changes are already in main") == true)
        let kept = try #require(report.items.first { $0.branch == "grove/1/kept" })
        #expect(kept.kind == .unmerged && kept.branchAction == .keep)
        let amend = try #require(report.items.first { $0.branch == "grove/1/amend" })
        #expect(amend.kind == .unmerged && amend.branchAction == .keep)
        #expect(try groveBranches() == ["grove/1/amend", "grove/1/kept"])
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/amend") == "amended start")
        #expect(try linked().isEmpty)
    }

    /// `grove merge`'s nothing_to_land counts only for the tip it judged: a branch that got a
    /// commit since is judged again (and kept), one that did not goes, saying so. Main got both
    /// tasks' changes in two commits of its own, so git cherry marks them `+` all the same.
    @Test func grovesNothingToLandVerdictCountsOnlyWhileTheBranchHasNotMoved() async throws {
        _ = try await run([
            "still": "echo a > a.txt; echo b > b.txt", "moved": "echo a > a.txt; echo b > b.txt",
        ])
        try repo.commit("add a", files: ["a.txt": "a\n"])
        try repo.commit("add b", files: ["b.txt": "b\n"])
        let store = try StateStore(home: home)
        for task in ["still", "moved"] {
            #expect(try repo.output("cherry", "main", "grove/1/\(task)").hasPrefix("+ "))
            var record = MergeRecord(
                run: 1, task: task, repo: repo.path, base: "main", branch: "grove/1/\(task)", step: .parked)
            record.result = .nothingToLand
            try store.saveMerge(record)
        }
        let moved = home.worktree(run: 1, task: "moved")
        try "later\n".write(toFile: moved + "/later.txt", atomically: false, encoding: .utf8)
        try Shell.git("add", "later.txt", in: moved)
        try Shell.git("commit", "-q", "-m", "later work", in: moved)

        let report = try await clean(1)
        let still = try #require(report.items.first { $0.branch == "grove/1/still" })
        #expect(still.kind == .merged && still.branchAction == .delete && still.done)
        #expect(still.reason?.contains("grove merge found nothing to land") == true)
        #expect(still.saysWhy)
        let kept = try #require(report.items.first { $0.branch == "grove/1/moved" })
        #expect(kept.kind == .unmerged && kept.branchAction == .keep)
        #expect(try groveBranches() == ["grove/1/moved"])
        #expect(try repo.output("log", "-1", "--format=%s", "grove/1/moved") == "later work")
    }

    /// The folder a killed `worktree add` leaves is grove's: an empty one, or one holding only
    /// a `.git` file and the checkout's files, registered with git or not, is removed when no
    /// attempt of its task ever ran. A folder holding anything else is an orphan: kept whole.
    @Test func aHalfMadeWorktreeIsRemovedAndAnOrphanWithUserFilesIsKept() async throws {
        _ = try await run(["empty": "true", "checkout": "true", "cut": "true", "user": "true", "ran": "true"])
        let store = try StateStore(home: home)
        for task in ["empty", "checkout", "cut", "user"] {
            _ = try store.updateTask(run: 1, name: task) { $0.attempts = 0 }
        }
        func path(_ task: String) -> String { home.worktree(run: 1, task: task) }
        // Unregistered: killed right after the folder was made, and after `.git` and part of
        // the checkout were written (the admin entry never completed).
        for task in ["empty", "checkout", "user", "ran"] {
            try repo.git("worktree", "remove", "--force", path(task))
            try FileManager.default.createDirectory(atPath: path(task), withIntermediateDirectories: true)
        }
        for task in ["checkout", "user", "ran"] {
            try FileManager.default.createDirectory(
                atPath: repo.path + "/.git/worktrees/\(task)", withIntermediateDirectories: true)
            try "gitdir: \(repo.path)/.git/worktrees/\(task)\n".write(
                toFile: path(task) + "/.git", atomically: false, encoding: .utf8)
            try "hello\n".write(toFile: path(task) + "/README.md", atomically: false, encoding: .utf8)
        }
        try "my notes\n".write(toFile: path("user") + "/notes.txt", atomically: false, encoding: .utf8)
        // Registered, cut off mid-checkout: no index yet, the file not written.
        try FileManager.default.removeItem(atPath: path("cut") + "/README.md")
        try? FileManager.default.removeItem(atPath: repo.path + "/.git/worktrees/cut/index")
        #expect(try Shell.git("status", "--porcelain", in: path("cut")).output != "")

        let report = try await clean(1)
        func item(_ task: String) throws -> CleanItem {
            try #require(report.items.first { $0.branch == "grove/1/\(task)" })
        }
        for task in ["empty", "checkout", "cut"] {
            #expect(try item(task).kind == .halfMade, "\(task)")
            #expect(try item(task).worktreeAction == .remove && item(task).done, "\(task)")
            #expect(try item(task).reason?.contains("half-made") == true)
            #expect(!FileManager.default.fileExists(atPath: path(task)), "\(task)")
        }
        // User files, or a task that ran there: never deleted.
        for task in ["user", "ran"] {
            #expect(try item(task).kind == .orphan, "\(task)")
            #expect(try item(task).worktreeAction == .keep, "\(task)")
        }
        #expect(try String(contentsOfFile: path("user") + "/notes.txt", encoding: .utf8) == "my notes\n")
        #expect(FileManager.default.fileExists(atPath: path("ran") + "/README.md"))
        // git agrees: no linked worktree left, nothing prunable, the half-made ones' branches gone.
        #expect(try linked().isEmpty)
        #expect(try repo.output("worktree", "prune", "-n", "-v").isEmpty)
        #expect(try groveBranches() == ["grove/1/ran", "grove/1/user"])
    }

    /// A grove killed while it wrote a task branch's ref leaves `<ref>.lock`: git refuses to
    /// delete the branch until it is gone. clean removes it (StaleLocks' rule) and the branch.
    @Test func aStaleLockOnATaskBranchIsRemovedAndTheBranchDeleted() async throws {
        _ = try await run(["landed": "echo landed > landed.txt"])
        try repo.git("merge", "-q", "--ff-only", "grove/1/landed")
        let lock = repo.path + "/.git/refs/heads/grove/1/landed.lock"
        try (try repo.revParse("grove/1/landed") + "\n").write(toFile: lock, atomically: false, encoding: .utf8)
        // The second opinion: git cannot write the ref while the lock is there.
        let tip = try repo.revParse("grove/1/landed")
        let refused = try Shell.run(
            ["git", "-C", repo.path, "update-ref", "refs/heads/grove/1/landed", tip, tip], check: false)
        #expect(refused.status != 0 && refused.stderr.contains(".lock"))

        let report = try await clean(1)
        let item = try #require(report.items.first)
        #expect(item.error == nil)
        #expect(item.branchAction == .delete && item.done)
        #expect(item.reason?.contains("removed the lock file a killed grove left in its way") == true)
        #expect(!FileManager.default.fileExists(atPath: lock))
        #expect(try groveBranches().isEmpty)
        #expect(report.cleaned == true)
    }

    @Test func aDryRunChangesNothingAndPlansWhatTheRealOneDoes() async throws {
        _ = try await finishedRun()
        let before = [try repo.output("worktree", "list", "--porcelain"), try repo.refs()]
        let files = try snapshot(of: repo.path).merging(try snapshot(of: home.worktrees)) { $1 }
        let dry = try await clean(1, dryRun: true, force: true)
        #expect([try repo.output("worktree", "list", "--porcelain"), try repo.refs()] == before)
        #expect(try snapshot(of: repo.path).merging(try snapshot(of: home.worktrees)) { $1 } == files)
        #expect(dry.cleaned == false)
        #expect(try StateStore(home: home).run(number: 1)?.cleanedAt == nil)
        let real = try await clean(1, force: true)
        #expect(dry.items.map(\.kind) == real.items.map(\.kind))
        #expect(dry.totals == real.totals)
    }

    @Test func aTaskWorktreeThatBecomesDirtyAfterTheScanIsKept() async throws {
        _ = try await run(["a": "true", "b": "true"])
        let path = home.worktree(run: 1, task: "a")
        let report = try await clean(1) { _, _ in
            try? "late\n".write(toFile: path + "/late.txt", atomically: false, encoding: .utf8)
        }
        let item = try #require(report.items.first { $0.branch == "grove/1/a" })
        #expect(item.kind == .dirty)
        #expect(item.worktreeAction == .keep && item.branchAction == .keep)
        #expect(try String(contentsOfFile: path + "/late.txt", encoding: .utf8) == "late\n")
        #expect(try linked() == ["a"])
        #expect(try groveBranches() == ["grove/1/a"])
        #expect(report.cleaned == false)
    }

    @Test func aRunStillGoingOnOrUnknownIsRefusedAndNothingChanges() async throws {
        _ = try await run(["a": "true"])
        let store = try StateStore(home: home)
        #expect(throws: StateError.self) {
            _ = try RunCleaner.prepare(options: RunCleanOptions(run: 9), store: store, home: home)
        }
        // A run whose grove is alive (this process) is still running.
        let live = try store.createRun(jobs: 1)
        let error = try #require(throws: CleanInputError.self) {
            _ = try RunCleaner.prepare(options: RunCleanOptions(run: live.number), store: store, home: home)
        }
        #expect(error.message.contains("run \(live.number) is still running"))
        #expect(try linked() == ["a"])
    }

    @Test func theLatestRunIsTheDefaultAndAnEmptyRunIsCleanedAtOnce() async throws {
        _ = try await run(["a": "true"])
        _ = try await run(["b": "true"])
        let report = try await clean()
        #expect(report.run == 2)
        #expect(report.cleaned == true)
        #expect(try linked() == ["a"])
    }
}
