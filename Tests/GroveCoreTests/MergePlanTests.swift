import Foundation
import GroveGit
import TestSupport
import Testing

@testable import GroveCore

/// `grove merge --plan` and `--order planned`: predictions made in memory, compared with what
/// the real queue then meets.
@Suite("Merge plan")
struct MergePlanTests {
    /// Everything a plan must not change: refs, files of every checkout, the object database.
    static func state(_ fixture: MergeFixture, worktrees: [String]) throws -> [String] {
        var parts = [try fixture.repo.refs(), try fixture.repo.output("count-objects", "-v")]
        parts.append(
            try FileManager.default.subpathsOfDirectory(atPath: fixture.repo.path + "/.git/objects").sorted()
                .joined(separator: "\n"))
        for directory in [fixture.repo.path] + worktrees {
            let files = try MergeFixture.snapshot(directory)
            parts.append(
                files.keys.sorted().map { "\($0) \(files[$0]?.base64EncodedString() ?? "")" }.joined(separator: "\n"))
            parts.append(try TestRepository(existing: directory).porcelainStatus())
        }
        return parts
    }

    @Test func planChangesNothingAndPredictsExactlyWhatTheQueueMeets() async throws {
        let fixture = try MergeFixture()
        let names = ["a0", "c1", "a2", "c3", "b4", "n5", "c6", "a7"]
        let run = try await fixture.run(
            names.map { name in
                switch name.first {
                case "c": .conflicting(name)
                case "b": MergeFixture.Task(name: name, command: "echo task > README.md")
                case "n": .idle(name)
                default: .own(name)
                }
            })
        // Base moved since the run, and rewrote the file b4 rewrote.
        try fixture.repo.commit("base edit", files: ["README.md": "base\n"])
        let worktrees = try names.map { try fixture.task(run, $0).worktree }
        let before = try Self.state(fixture, worktrees: worktrees)

        let queue = try MergeQueue.prepare(
            options: MergeOptions(committer: MergeFixture.committer), store: try fixture.store, home: fixture.home)
        let plan = try await queue.plan()
        #expect(try Self.state(fixture, worktrees: worktrees) == before)

        let tasks = try #require(plan.repositories.first).tasks
        #expect(tasks.map(\.task) == names)
        let byName = Dictionary(uniqueKeysWithValues: tasks.map { ($0.task, $0) })
        #expect(byName["b4"]?.mergesWithBase == false)
        #expect(byName["b4"]?.baseConflicts == ["README.md"])
        #expect(byName["a0"]?.mergesWithBase == true)
        #expect(byName["a0"]?.paths == ["a0.txt"])
        #expect(byName["c1"]?.sharesPathsWith == ["c3": ["conflict.txt"], "c6": ["conflict.txt"]])
        #expect(byName["c1"]?.conflictsWith == ["c3": ["conflict.txt"], "c6": ["conflict.txt"]])
        #expect(byName["a2"]?.sharesPathsWith == [:])
        #expect(byName["n5"]?.commits == 0)

        let report = try await fixture.merge()
        let outcomes = report.outcomes
        #expect(outcomes.map(\.task) == tasks.map(\.task))
        #expect(outcomes.map(\.result) == tasks.map(\.predicted))
        #expect(outcomes.map(\.conflicts) == tasks.map(\.predictedConflicts))
        #expect(
            outcomes.map(\.result) == [
                .landed, .landed, .landed, .conflict, .conflict, .nothingToLand, .conflict, .landed,
            ])
    }

    @Test func orderPlannedLandsTheTasksThatConflictWithNobodyFirst() async throws {
        let fixture = try MergeFixture()
        try await fixture.run([.conflicting("c1"), .own("a2"), .conflicting("c3"), .own("a4")])
        let oldBase = try #require(try fixture.tip("main"))
        let options = MergeOptions(order: .planned, committer: MergeFixture.committer)
        let plan = try await MergeQueue.prepare(options: options, store: try fixture.store, home: fixture.home).plan()
        let predicted = try #require(plan.repositories.first).tasks
        #expect(predicted.map(\.task) == ["a2", "a4", "c1", "c3"])
        #expect(predicted.map(\.predicted) == [.landed, .landed, .landed, .conflict])

        let report = try await fixture.merge(options)
        #expect(report.outcomes.map(\.task) == ["a2", "a4", "c1", "c3"])
        #expect(report.outcomes.map(\.result) == predicted.map(\.predicted))
        let subjects = try fixture.repo.output("log", "--reverse", "--format=%s", "\(oldBase)..main")
        #expect(subjects == "grove: a2 (run 1)\ngrove: a4 (run 1)\nc1: rewrite conflict.txt line 1")
    }
}
