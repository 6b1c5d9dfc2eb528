import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// The GroveGit pieces the merge queue leans on: finding checkouts of a branch, reading config,
/// a status without untracked files, and a move that insists on where HEAD is.
@Suite("Merge support")
struct MergeSupportTests {
    @Test func checkoutsOfABranchAgreeWithGitWorktreeList() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let repository = try repo.open()
        let main = try #require(try repository.headCommit())
        try repository.createBranch(named: "side", at: main)
        try repository.createBranch(named: "other", at: main)
        let sidePath = sandbox.child("side-wt")
        _ = try repository.addWorktree(at: sidePath, branch: "side")
        #expect(try repository.checkouts(of: "main") == [repo.path])
        #expect(try repository.checkouts(of: "side") == [sidePath])
        #expect(try repository.checkouts(of: "other").isEmpty)
        // From inside the linked worktree the answer is the same.
        #expect(try Repository.open(at: sidePath).checkouts(of: "main") == [repo.path])
        // A worktree whose directory is gone has nothing checked out.
        try FileManager.default.removeItem(atPath: sidePath)
        #expect(try repository.checkouts(of: "side").isEmpty)
    }

    @Test func configStringReadsWhatGitConfigSet() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.git("config", "branch.main.remote", "upstream")
        #expect(try repo.open().configString("branch.main.remote") == "upstream")
        #expect(try repo.open().configString("branch.nope.remote") == nil)
    }

    @Test func statusWithoutUntrackedFilesListsOnlyTrackedChanges() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.write(["README.md": "changed\n", "new.txt": "new\n"])
        let repository = try repo.open()
        #expect(try repository.status().entries.map(\.path) == ["README.md", "new.txt"])
        #expect(try repository.status(includeUntracked: false).entries.map(\.path) == ["README.md"])
    }

    @Test func moveHeadExpectingAnotherTipChangesNothing() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        let second = try #require(ObjectID(hex: try repo.commit("second", files: ["b.txt": "b\n"])))
        try repo.git("reset", "-q", "--hard", first.hex)
        let error = try #require(throws: ReferenceMovedError.self) {
            try repo.open().moveHead(to: second, expecting: second, message: "move")
        }
        #expect(error.actual == first)
        #expect(try repo.revParse("main") == first.hex)
        try repo.open().moveHead(to: second, expecting: first, message: "move")
        #expect(try repo.revParse("main") == second.hex)
        #expect(try repo.read("b.txt") == "b\n")
        #expect(try repo.porcelainStatus().isEmpty)
    }
}
