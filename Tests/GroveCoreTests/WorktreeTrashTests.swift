import Foundation
import TestSupport
import Testing

@testable import GroveCore

/// Landed tasks' worktrees are moved to `$GROVE_HOME/trash/<pid>` and deleted in the
/// background: by the time `grove merge` returns they are gone, and what a killed grove left
/// there is deleted by the next merge — never a live grove's.
@Suite struct WorktreeTrashTests {
    @Test func landedWorktreesAreGoneAndTheTrashIsEmptyWhenTheMergeReturns() async throws {
        let fixture = try MergeFixture()
        let run = try await fixture.run((1...6).map { MergeFixture.Task.own("t\($0)") })
        let worktrees = try (1...6).map { try fixture.task(run, "t\($0)").worktree }
        #expect(worktrees.allSatisfy { FileManager.default.fileExists(atPath: $0) })

        let report = try await fixture.merge()
        #expect(report.counts["landed"] == 6)
        #expect(worktrees.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(!FileManager.default.fileExists(atPath: fixture.home.path + "/trash"))
        #expect(
            try fixture.repo.output("worktree", "list", "--porcelain").components(separatedBy: "worktree ").count == 2)
        #expect(try fixture.repo.output("worktree", "prune", "-n", "-v").isEmpty)
        #expect(try fixture.repo.output("ls-tree", "--name-only", "main").contains("t6.txt"))
        try fixture.expectFsckClean()
    }

    @Test func aDeadGrovesTrashIsSweptAndALiveOnesIsLeftAlone() async throws {
        let fixture = try MergeFixture()
        try await fixture.run([.own("a")])
        let trash = fixture.home.path + "/trash"
        // A pid that is not running (a child that already ended) and this test's own parent, alive.
        let ended = try Shell.run(["sh", "-c", "echo $$"]).output
        let alive = String(getppid())
        for pid in [ended, alive] {
            try FileManager.default.createDirectory(
                atPath: trash + "/\(pid)/1-old/src", withIntermediateDirectories: true)
            try "left\n".write(toFile: trash + "/\(pid)/1-old/src/file.txt", atomically: false, encoding: .utf8)
        }

        _ = try await fixture.merge()
        #expect(!FileManager.default.fileExists(atPath: trash + "/" + ended))
        #expect(FileManager.default.fileExists(atPath: trash + "/\(alive)/1-old/src/file.txt"))
    }
}
