import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// `grove merge` for pipelines (`depends_on`): dependencies land first, a dependent brings only
/// its own commits, and one whose dependency did not land is parked as `blocked`, untouched.
@Suite("Merge pipelines")
struct MergePipelineTests {
    /// A task of a pipeline run: the files its one commit writes (nil: it makes no commit).
    struct Step {
        var name: String
        var dependsOn: [String] = []
        var files: [String: String]?
    }

    /// The diamond a → b, a → c, b + c → d. b rewrites a's file and d rewrites b's, so replaying a
    /// dependency's original commits again on top of what landed would conflict.
    static let diamond = [
        Step(name: "a", files: ["a.txt": "a\n"]),
        Step(name: "b", dependsOn: ["a"], files: ["a.txt": "a, then b\n", "b.txt": "b\n"]),
        Step(name: "c", dependsOn: ["a"], files: ["c.txt": "c\n"]),
        Step(name: "d", dependsOn: ["b", "c"], files: ["b.txt": "b, then d\n", "d.txt": "d\n"]),
    ]

    /// Builds a finished run straight in the state store, in `steps`' order, its branches and
    /// worktrees made with git as `grove run` makes them for a pipeline: a task without
    /// dependencies from main, one with a dependency from its tip, one with several from a
    /// `git merge --no-ff` of their tips; `base_commit` is where each started.
    static func makeRun(_ fixture: MergeFixture, _ steps: [Step]) throws -> Int {
        let store = try fixture.store
        let home = fixture.home
        let repo = fixture.repo
        let run = try store.createRun(jobs: 2) { run in
            steps.enumerated().map { position, step in
                var task = TaskRecord(
                    run: run.number, name: step.name, position: position, repo: repo.path, base: "main",
                    branch: "grove/\(run.number)/\(step.name)",
                    worktree: home.worktree(run: run.number, task: step.name), command: ["/bin/sh", "-c", "true"],
                    log: home.logs + "/\(run.number)/\(step.name).log")
                task.dependsOn = step.dependsOn
                return task
            }
        }.number
        var made = Set<String>()
        var left = steps
        while !left.isEmpty {
            let index = try #require(left.firstIndex { $0.dependsOn.allSatisfy(made.contains) })
            let step = left.remove(at: index)
            let worktree = home.worktree(run: run, task: step.name)
            let from = step.dependsOn.first.map { "grove/\(run)/\($0)" } ?? "main"
            try repo.git("worktree", "add", "-q", "-b", "grove/\(run)/\(step.name)", worktree, from)
            let checkout = TestRepository(existing: worktree)
            for other in step.dependsOn.dropFirst() {
                try checkout.git(
                    "merge", "-q", "--no-ff", "-m", "merge \(other) into \(step.name)'s start", "grove/\(run)/\(other)")
            }
            let start = try checkout.revParse("HEAD")
            if let files = step.files { try checkout.commit("task \(step.name)", files: files) }
            let tip = try checkout.revParse("HEAD")
            try store.updateTask(run: run, name: step.name) {
                $0.baseCommit = start
                $0.headCommit = tip
                $0.prepare()
                $0.start()
                $0.finish(.succeeded, exitCode: 0)
                $0.commits = step.files == nil ? 0 : 1
            }
            made.insert(step.name)
        }
        try store.setRunState(run, .finished)
        return run
    }

    /// Merge options with a committer stamped now. `MergeFixture.committer`'s time is fixed when
    /// the test process first uses it, and rebased commits dated before the commits beneath them
    /// can cut libgit2's revision walk short (its date-based "slop"), so hidden commits get
    /// replayed.
    static func options(order: MergeOptions.Order = .run) -> MergeOptions {
        MergeOptions(order: order, committer: Signature(name: "Merge Bot", email: "merge@example.com"))
    }

    /// How many times each subject appears in main's history.
    static func subjectCounts(_ fixture: MergeFixture) throws -> [String: Int] {
        let subjects = try fixture.repo.output("log", "--format=%s", "main").split(separator: "\n").map(String.init)
        return Dictionary(subjects.map { ($0, 1) }, uniquingKeysWith: +)
    }

    /// The task branches of a run and where they point.
    static func branches(_ fixture: MergeFixture, run: Int) throws -> String {
        try fixture.repo.output("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/grove/\(run)/")
    }

    @Test func theDiamondLandsDependenciesFirstWithLinearHistoryAndNoDuplicatedCommits() async throws {
        let fixture = try MergeFixture()
        let run = try Self.makeRun(fixture, Self.diamond)
        // Base moved since: a is rebased, so b, c and d start from commits base will not have.
        try fixture.repo.commit("base moved", files: ["base.txt": "base\n"])
        let oldBase = try #require(try fixture.tip("main"))

        let report = try await fixture.merge(Self.options())

        let outcomes = try #require(report.repositories.first).tasks
        #expect(outcomes.map(\.task) == ["a", "b", "c", "d"])
        for outcome in outcomes {
            #expect(outcome.result == .landed, "\(outcome.task): \(outcome.reason ?? "")")
            #expect(outcome.commits == 1, "\(outcome.task)")
        }
        #expect(report.succeeded)
        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
        #expect(try fixture.repo.output("rev-list", "--count", "\(oldBase)..main") == "4")
        let subjects = try fixture.repo.output("log", "--reverse", "--format=%s", "\(oldBase)..main")
        #expect(subjects == "task a\ntask b\ntask c\ntask d")
        let counts = try Self.subjectCounts(fixture)
        for name in ["a", "b", "c", "d"] { #expect(counts["task \(name)"] == 1, "task \(name)") }
        #expect(counts.keys.allSatisfy { !$0.hasPrefix("merge ") })
        // Each landed as the commit the report names; the final tree has every change.
        #expect(outcomes.last?.commit == (try fixture.tip("main")))
        #expect(try fixture.repo.read("a.txt") == "a, then b\n")
        #expect(try fixture.repo.read("b.txt") == "b, then d\n")
        #expect(try fixture.repo.read("c.txt") == "c\n")
        #expect(try fixture.repo.read("d.txt") == "d\n")
        #expect(try fixture.repo.read("base.txt") == "base\n")
        #expect(try fixture.repo.porcelainStatus().isEmpty)
        #expect(try Self.branches(fixture, run: run).isEmpty)
        try fixture.expectFsckClean()
    }

    @Test func dependenciesGoFirstEvenWhenTheRunListsThemLater() async throws {
        let fixture = try MergeFixture()
        let steps = [
            Step(name: "d", dependsOn: ["b", "c"], files: ["b.txt": "b, then d\n", "d.txt": "d\n"]),
            Step(name: "c", dependsOn: ["a"], files: ["c.txt": "c\n"]),
            Step(name: "solo", files: ["solo.txt": "solo\n"]),
            Step(name: "b", dependsOn: ["a"], files: ["a.txt": "a, then b\n", "b.txt": "b\n"]),
            Step(name: "a", files: ["a.txt": "a\n"]),
            Step(name: "e", dependsOn: ["a"], files: nil),
        ]
        let run = try Self.makeRun(fixture, steps)
        let order = ["solo", "a", "c", "b", "d", "e"]

        // --plan shows the order the queue takes (and changes nothing).
        let refs = try fixture.repo.refs()
        let queue = try MergeQueue.prepare(
            options: Self.options(), store: try fixture.store, home: fixture.home)
        #expect(queue.queues.first?.tasks.map(\.name) == order)
        let plan = try #require(try await queue.plan().repositories.first)
        #expect(plan.tasks.map(\.task) == order)
        #expect(plan.tasks.map(\.predicted) == [.landed, .landed, .landed, .landed, .landed, .nothingToLand])
        let byName = Dictionary(uniqueKeysWithValues: plan.tasks.map { ($0.task, $0) })
        // A dependent's commits and paths are its own, not its dependencies'.
        #expect(byName["d"]?.commits == 1)
        #expect(byName["d"]?.paths == ["b.txt", "d.txt"])
        #expect(byName["b"]?.paths == ["a.txt", "b.txt"])
        #expect(byName["e"]?.commits == 0)
        #expect(try fixture.repo.refs() == refs)
        let planned = try await fixture.merge(Self.options(order: .planned))
        #expect(planned.outcomes.map(\.task) == order, "--order planned keeps dependencies first")
        #expect(planned.outcomes.map(\.result) == plan.tasks.map(\.predicted))
        let e = try #require(planned.outcomes.last)
        #expect(e.reason == "it has no commits of its own beyond its dependencies'")

        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
        let subjects = try fixture.repo.output("log", "--reverse", "--format=%s", "main")
        #expect(subjects == "initial\ntask solo\ntask a\ntask c\ntask b\ntask d")
        #expect(try fixture.repo.read("a.txt") == "a, then b\n")
        #expect(try fixture.repo.read("b.txt") == "b, then d\n")
        #expect(try fixture.tip("grove/\(run)/d") == nil)
        try fixture.expectFsckClean()
    }

    @Test func aDependencyThatDoesNotLandBlocksItsDependentsUntouchedUntilItLands() async throws {
        let fixture = try MergeFixture()
        var steps = Self.diamond
        steps[0].files?["conflict.txt"] = "line 1: a\nline 2\nline 3\n"
        steps.append(Step(name: "solo", files: ["solo.txt": "solo\n"]))
        let run = try Self.makeRun(fixture, steps)
        try fixture.repo.commit("base edit", files: ["conflict.txt": "line 1: main\nline 2\nline 3\n"])
        let before = try Self.branches(fixture, run: run)
        var files: [String: [String: Data]] = [:]
        for name in ["a", "b", "c", "d"] {
            files[name] = try MergeFixture.snapshot(try fixture.task(run, name).worktree)
        }

        // The plan predicts it.
        let queue = try MergeQueue.prepare(
            options: Self.options(), store: try fixture.store, home: fixture.home)
        let plan = try #require(try await queue.plan().repositories.first)
        #expect(plan.tasks.map(\.task) == ["a", "b", "c", "d", "solo"])
        #expect(plan.tasks.map(\.predicted) == [.conflict, .blocked, .blocked, .blocked, .landed])

        let report = try await fixture.merge(Self.options())

        let outcomes = try #require(report.repositories.first).tasks
        #expect(outcomes.map(\.task) == ["a", "b", "c", "d", "solo"])
        #expect(outcomes.map(\.result) == [.conflict, .blocked, .blocked, .blocked, .landed])
        #expect(outcomes.map(\.result) == plan.tasks.map(\.predicted))
        #expect(outcomes[0].conflicts == ["conflict.txt"])
        let once = "once a lands, run `grove merge` again"
        #expect(outcomes[1].reason == "its dependency a was not landed (conflict); \(once)")
        #expect(outcomes[2].reason == "its dependency a was not landed (conflict); \(once)")
        #expect(outcomes[3].reason == "its dependency b was not landed (blocked: a was not landed, conflict); \(once)")
        #expect(plan.tasks[3].reason == outcomes[3].reason)
        #expect(!report.succeeded)
        #expect(report.counts == ["conflict": 1, "blocked": 3, "landed": 1])
        // Their branches and worktrees are as they were; the independent task landed.
        let untouched = before.split(separator: "\n").filter { !$0.contains("/solo ") }.joined(separator: "\n")
        #expect(try Self.branches(fixture, run: run) == untouched)
        for name in ["a", "b", "c", "d"] {
            #expect(try MergeFixture.snapshot(try fixture.task(run, name).worktree) == files[name], "\(name)")
        }
        #expect(try fixture.repo.read("solo.txt") == "solo\n")
        let status = try fixture.store.statusReport(run: run).tasks
        #expect(status.map { $0.merge?.result } == [.conflict, .blocked, .blocked, .blocked, .landed])
        #expect(status.first { $0.name == "d" }?.merge?.step == .parked)

        // The user settles a's conflict by hand; the next merge lands a, then its dependents.
        let a = TestRepository(existing: try fixture.task(run, "a").worktree)
        _ = try Shell.run(["git", "-C", a.path, "rebase", "main"], check: false)
        try a.write(["conflict.txt": "line 1: main and a\nline 2\nline 3\n"])
        try a.git("add", "conflict.txt")
        try Shell.run(["git", "-C", a.path, "-c", "core.editor=true", "rebase", "--continue"])

        let again = try await fixture.merge(Self.options())
        let retried = try #require(again.repositories.first).tasks
        #expect(retried.map(\.task) == ["a", "b", "c", "d", "solo"])
        #expect(retried.map(\.result) == [.landed, .landed, .landed, .landed, .landed])
        #expect(retried.map(\.earlier) == [false, false, false, false, true])
        #expect(again.succeeded)
        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
        let counts = try Self.subjectCounts(fixture)
        for name in ["a", "b", "c", "d", "solo"] { #expect(counts["task \(name)"] == 1, "task \(name)") }
        #expect(try fixture.repo.read("conflict.txt") == "line 1: main and a\nline 2\nline 3\n")
        #expect(try fixture.repo.read("a.txt") == "a, then b\n")
        #expect(try fixture.repo.read("b.txt") == "b, then d\n")
        #expect(try fixture.repo.read("c.txt") == "c\n")
        #expect(try Self.branches(fixture, run: run).isEmpty)
        try fixture.expectFsckClean()
    }

    @Test func aDependentWhoseOwnCommitConflictsSaysHowToRebaseJustThoseAndLandsOnceItDid() async throws {
        let fixture = try MergeFixture()
        var steps = Self.diamond
        steps[1].files?["conflict.txt"] = "line 1: b\nline 2\nline 3\n"
        let run = try Self.makeRun(fixture, steps)
        try fixture.repo.commit("base edit", files: ["conflict.txt": "line 1: main\nline 2\nline 3\n"])
        let bTip = try fixture.tip("grove/\(run)/b")

        let report = try await fixture.merge(Self.options())

        let outcomes = try #require(report.repositories.first).tasks
        #expect(outcomes.map(\.task) == ["a", "b", "c", "d"])
        #expect(outcomes.map(\.result) == [.landed, .conflict, .landed, .blocked])
        #expect(outcomes[1].conflicts == ["conflict.txt"])
        #expect(
            outcomes[3].reason == "its dependency b was not landed (conflict); once b lands, run `grove merge` again")
        #expect(try fixture.tip("grove/\(run)/b") == bTip)
        // The reason's command replays b's own commit only (a's landed already, rebased).
        let reason = try #require(outcomes[1].reason)
        let command = try #require(reason.split(separator: "`").first { $0.hasPrefix("git -C ") })
        let start = try #require(try fixture.task(run, "b").baseCommit)
        #expect(command.hasSuffix(" rebase --onto main \(start.prefix(7))"))
        _ = try Shell.run(["/bin/sh", "-c", String(command)], check: false)
        let b = TestRepository(existing: try fixture.task(run, "b").worktree)
        try b.write(["conflict.txt": "line 1: main and b\nline 2\nline 3\n"])
        try b.git("add", "conflict.txt")
        try Shell.run(["git", "-C", b.path, "-c", "core.editor=true", "rebase", "--continue"])
        #expect(try b.output("rev-list", "--count", "main..HEAD") == "1")

        let again = try await fixture.merge(Self.options())
        let retried = try #require(again.repositories.first).tasks
        #expect(retried.map(\.result) == [.landed, .landed, .landed, .landed])
        #expect(retried.map(\.earlier) == [true, false, true, false])
        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
        let counts = try Self.subjectCounts(fixture)
        for name in ["a", "b", "c", "d"] { #expect(counts["task \(name)"] == 1, "task \(name)") }
        #expect(try fixture.repo.read("conflict.txt") == "line 1: main and b\nline 2\nline 3\n")
        #expect(try fixture.repo.read("b.txt") == "b, then d\n")
        #expect(try fixture.repo.read("d.txt") == "d\n")
        try fixture.expectFsckClean()
    }

    @Test func aMergeThatDiedMidPipelineIsFinishedAndItsDependentsLand() async throws {
        let fixture = try MergeFixture()
        let run = try Self.makeRun(fixture, Self.diamond)
        let store = try fixture.store
        let oldBase = try #require(try fixture.tip("main"))
        let aTip = try #require(try fixture.tip("grove/\(run)/a"))
        let bTip = try #require(try fixture.tip("grove/\(run)/b"))
        // As a merge killed after a's landing moved base (its journal says `landing`) and
        // another killed after preparing b (a candidate, nothing moved) would leave it.
        try fixture.repo.git("merge", "-q", "--ff-only", "grove/\(run)/a")
        func row(_ task: String, _ step: MergeStep, oldBase: String, tip: String) -> MergeRecord {
            var record = MergeRecord(
                run: run, task: task, repo: fixture.repo.path, base: "main", branch: "grove/\(run)/\(task)", step: step)
            record.oldBase = oldBase
            record.oldTip = tip
            record.candidate = tip
            record.commits = 1
            return record
        }
        try store.saveMerge(row("a", .landing, oldBase: oldBase, tip: aTip))
        try store.saveMerge(row("b", .prepared, oldBase: aTip, tip: bTip))

        let events = MergeEventLog()
        let report = try await fixture.merge(Self.options(), observer: events)

        let recovered = events.all.filter { $0.kind == .taskRecovered }
        #expect(recovered.count == 2)
        #expect(recovered.first { $0.task == "a" }?.result == .task(.landed), "an interrupted merge had landed a")
        #expect(recovered.first { $0.task == "b" }.map { $0.result == nil } == true, "b is tried again")
        let outcomes = try #require(report.repositories.first).tasks
        #expect(outcomes.map(\.task) == ["a", "b", "c", "d"])
        #expect(outcomes.map(\.result) == [.landed, .landed, .landed, .landed])
        #expect(try fixture.repo.output("rev-list", "--merges", "main").isEmpty)
        let subjects = try fixture.repo.output("log", "--reverse", "--format=%s", "main")
        #expect(subjects == "initial\ntask a\ntask b\ntask c\ntask d")
        #expect(try Self.branches(fixture, run: run).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: try fixture.task(run, "a").worktree))
        #expect(try store.inFlightMerges(repo: fixture.repo.path).isEmpty)
        try fixture.expectFsckClean()
    }
}
