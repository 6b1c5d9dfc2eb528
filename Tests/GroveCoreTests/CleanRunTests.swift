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
        #expect(try item("work").fix == "grove clean 1 --force")
        for task in ["dirty", "failed"] {
            #expect(try item(task).kind == .dirty)
            #expect(try item(task).worktreeAction == .keep && item(task).branchAction == .keep)
            #expect(try item(task).fix == "grove clean 1 --force")
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
