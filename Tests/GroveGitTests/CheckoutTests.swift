import Foundation
import GroveBasics
import TestSupport
import Testing

@testable import GroveGit

/// A repository whose `main` is one commit ahead of branch `task`, with `task` checked out in
/// the linked worktree `wt`. The newer commit changes `change.txt`, adds `added.txt` and
/// deletes `delete.txt`; `same.txt` is the same in both.
private struct Fixture {
    let sandbox: Sandbox
    let repo: TestRepository
    let worktreePath: String
    let old: ObjectID
    let new: ObjectID

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository(files: [
            "same.txt": "same\n", "change.txt": "v1\n", "delete.txt": "bye\n",
        ])
        let repository = try repo.open()
        old = try #require(try repository.headCommit())
        try repository.createBranch(named: "task", at: old)
        try repo.write(["change.txt": "v2\n", "dir/added.txt": "added\n"])
        try FileManager.default.removeItem(atPath: repo.path + "/delete.txt")
        new = try #require(ObjectID(hex: try repo.commit("newer")))
        worktreePath = sandbox.child("wt")
        _ = try repository.addWorktree(at: worktreePath, branch: "task")
    }

    func git(_ arguments: String...) throws -> String {
        try Shell.run(["git", "-C", worktreePath] + arguments).output
    }

    func status() throws -> String { try git("status", "--porcelain") }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: worktreePath + "/" + name, encoding: .utf8)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: worktreePath + "/" + name, atomically: false, encoding: .utf8)
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: worktreePath + "/" + name) }

    /// The worktree's files are `new`'s.
    func expectNewFiles(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try read("change.txt") == "v2\n", sourceLocation: sourceLocation)
        #expect(try read("dir/added.txt") == "added\n", sourceLocation: sourceLocation)
        #expect(!exists("delete.txt"), sourceLocation: sourceLocation)
    }

    /// The worktree's files are still `old`'s.
    func expectOldFiles(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try read("delete.txt") == "bye\n", sourceLocation: sourceLocation)
        #expect(!exists("dir/added.txt"), sourceLocation: sourceLocation)
    }
}

@Suite("Checkout")
struct CheckoutTests {
    @Test func movesACleanWorktreeToADescendant() throws {
        let fixture = try Fixture()
        let worktree = try Repository.open(at: fixture.worktreePath)
        try worktree.moveHead(to: fixture.new, message: "grove: fast-forward task")

        try fixture.expectNewFiles()
        #expect(try fixture.read("same.txt") == "same\n")
        #expect(try fixture.status().isEmpty)
        #expect(try fixture.git("rev-parse", "HEAD") == fixture.new.hex)
        #expect(try fixture.repo.revParse("task") == fixture.new.hex)
        #expect(try fixture.git("symbolic-ref", "HEAD") == "refs/heads/task")
        // The index matches too (not just the files).
        #expect(try fixture.git("diff", "--cached", "--name-only").isEmpty)
        #expect(try fixture.repo.output("reflog", "-1", "--format=%gs", "task") == "grove: fast-forward task")
        // main's checkout is not involved.
        #expect(try fixture.repo.porcelainStatus().isEmpty)
    }

    @Test func keepsLocalChangesTheMoveDoesNotTouch() throws {
        let fixture = try Fixture()
        try fixture.write("same.txt", "local edit\n")
        try fixture.write("scratch.txt", "untracked\n")
        try Repository.open(at: fixture.worktreePath).moveHead(to: fixture.new, message: "move")

        #expect(try fixture.read("same.txt") == "local edit\n")
        #expect(try fixture.read("scratch.txt") == "untracked\n")
        #expect(try fixture.read("change.txt") == "v2\n")
        #expect(try fixture.read("dir/added.txt") == "added\n")
        #expect(try fixture.status() == " M same.txt\n?? scratch.txt")
        #expect(try fixture.repo.revParse("task") == fixture.new.hex)
    }

    @Test(arguments: ["modified", "deleted", "untracked in the way"])
    func refusesToOverwriteLocalChangesAndChangesNothing(kind: String) throws {
        let fixture = try Fixture()
        let conflicting: String
        switch kind {
        case "modified":
            conflicting = "change.txt"
            try fixture.write("change.txt", "local v1.5\n")
        case "deleted":
            // Modified locally, deleted by the move.
            conflicting = "delete.txt"
            try fixture.write("delete.txt", "still needed\n")
        default:
            conflicting = "dir/added.txt"
            try FileManager.default.createDirectory(
                atPath: fixture.worktreePath + "/dir", withIntermediateDirectories: true)
            try fixture.write("dir/added.txt", "mine\n")
        }
        let localText = try fixture.read(conflicting)
        let status = try fixture.status()
        let refs = try fixture.repo.refs()

        let worktree = try Repository.open(at: fixture.worktreePath)
        let error = try #require(throws: CheckoutConflictError.self) {
            try worktree.moveHead(to: fixture.new, message: "move")
        }
        #expect(error.paths == [conflicting])
        #expect(canonicalPath(error.worktree) == canonicalPath(fixture.worktreePath))
        #expect(error.localizedDescription.contains(conflicting))

        // Nothing changed: the local edit, the other files, the index, the branch.
        #expect(try fixture.read(conflicting) == localText)
        #expect(try fixture.status() == status)
        #expect(try fixture.repo.refs() == refs)
        #expect(try fixture.git("rev-parse", "HEAD") == fixture.old.hex)
        #expect(try fixture.read("same.txt") == "same\n")
        if conflicting != "change.txt" { #expect(try fixture.read("change.txt") == "v1\n") }
        if conflicting != "delete.txt" { #expect(try fixture.read("delete.txt") == "bye\n") }
        if conflicting != "dir/added.txt" { #expect(!fixture.exists("dir/added.txt")) }

        // git refuses the same move.
        #expect(try Shell.git("merge", "--ff-only", "main", in: fixture.worktreePath, check: false).status != 0)
    }

    @Test func keepsStagedChangesTheMoveDoesNotTouch() throws {
        let fixture = try Fixture()
        try fixture.write("same.txt", "staged edit\n")
        _ = try fixture.git("add", "same.txt")
        try Repository.open(at: fixture.worktreePath).moveHead(to: fixture.new, message: "move")
        try fixture.expectNewFiles()
        #expect(try fixture.status() == "M  same.txt")
        #expect(try fixture.git("show", ":same.txt") == "staged edit")
    }

    @Test func refusesToOverwriteAStagedChange() throws {
        let fixture = try Fixture()
        try fixture.write("change.txt", "staged v1.5\n")
        _ = try fixture.git("add", "change.txt")
        let refs = try fixture.repo.refs()
        let error = try #require(throws: CheckoutConflictError.self) {
            try Repository.open(at: fixture.worktreePath).moveHead(to: fixture.new, message: "move")
        }
        #expect(error.paths == ["change.txt"])
        #expect(try fixture.status() == "M  change.txt")
        #expect(try fixture.git("show", ":change.txt") == "staged v1.5")
        #expect(try fixture.repo.refs() == refs)
        try fixture.expectOldFiles()
    }

    @Test func refusesToMoveDuringAnUnresolvedMerge() throws {
        let fixture = try Fixture()
        // A real conflict in the worktree: its branch and a side branch both change same.txt.
        _ = try fixture.git("checkout", "-q", "-b", "side")
        try fixture.write("same.txt", "side\n")
        _ = try fixture.git("commit", "-q", "-am", "side")
        _ = try fixture.git("checkout", "-q", "task")
        try fixture.write("same.txt", "task\n")
        _ = try fixture.git("commit", "-q", "-am", "task")
        #expect(try Shell.git("merge", "side", in: fixture.worktreePath, check: false).status != 0)
        let status = try fixture.status()
        let refs = try fixture.repo.refs()

        let error = try #require(throws: CheckoutConflictError.self) {
            try Repository.open(at: fixture.worktreePath).moveHead(to: fixture.new, message: "move")
        }
        #expect(error.paths == ["same.txt"])
        #expect(error.localizedDescription.contains("same.txt"))
        #expect(try fixture.status() == status)
        #expect(try fixture.repo.refs() == refs)
    }

    @Test func movesADetachedHead() throws {
        let fixture = try Fixture()
        _ = try fixture.git("checkout", "-q", "--detach")
        let worktree = try Repository.open(at: fixture.worktreePath)
        #expect(try worktree.headBranchName() == nil)

        try worktree.moveHead(to: fixture.new, message: "move detached")
        try fixture.expectNewFiles()
        #expect(try fixture.status().isEmpty)
        #expect(try fixture.git("rev-parse", "HEAD") == fixture.new.hex)
        #expect(try Shell.git("symbolic-ref", "-q", "HEAD", in: fixture.worktreePath, check: false).status != 0)
        // The branch it was detached from stays where it was.
        #expect(try fixture.repo.revParse("task") == fixture.old.hex)
    }

    @Test func movingToWhereHeadAlreadyIsDoesNothing() throws {
        let fixture = try Fixture()
        try fixture.write("same.txt", "local\n")
        let refs = try fixture.repo.refs()
        try Repository.open(at: fixture.worktreePath).moveHead(to: fixture.old, message: "noop")
        #expect(try fixture.repo.refs() == refs)
        #expect(try fixture.status() == " M same.txt")
    }

    @Test func syncsAWorktreeWhoseBranchMovedUnderneathIt() throws {
        let fixture = try Fixture()
        try fixture.write("same.txt", "local edit\n")
        try fixture.repo.git("update-ref", "refs/heads/task", fixture.new.hex, fixture.old.hex)
        // Without a sync git sees the reverse of the move as staged changes.
        let stale = try fixture.status()
        #expect(stale.contains("D  dir/added.txt"))
        #expect(stale.contains("M  change.txt"))

        try Repository.open(at: fixture.worktreePath).syncWorkingTree(from: fixture.old)
        try fixture.expectNewFiles()
        #expect(try fixture.read("same.txt") == "local edit\n")
        #expect(try fixture.status() == " M same.txt")
        #expect(try fixture.git("rev-parse", "HEAD") == fixture.new.hex)

        // Syncing again (HEAD is where the files are now) changes nothing.
        try Repository.open(at: fixture.worktreePath).syncWorkingTree(from: fixture.new)
        #expect(try fixture.status() == " M same.txt")
    }

    @Test func syncRefusesToOverwriteLocalChanges() throws {
        let fixture = try Fixture()
        try fixture.write("change.txt", "local\n")
        try fixture.repo.git("update-ref", "refs/heads/task", fixture.new.hex, fixture.old.hex)
        let status = try fixture.status()

        let error = try #require(throws: CheckoutConflictError.self) {
            try Repository.open(at: fixture.worktreePath).syncWorkingTree(from: fixture.old)
        }
        #expect(error.paths == ["change.txt"])
        #expect(try fixture.read("change.txt") == "local\n")
        try fixture.expectOldFiles()
        #expect(try fixture.status() == status)
    }

    @Test func checkoutHeadRestoresFiles() throws {
        let fixture = try Fixture()
        try FileManager.default.removeItem(atPath: fixture.worktreePath + "/same.txt")
        try fixture.write("change.txt", "local\n")
        let worktree = try Repository.open(at: fixture.worktreePath)

        // Safe: recreates what is missing, keeps what was edited.
        try worktree.checkoutHead(force: false)
        #expect(try fixture.read("same.txt") == "same\n")
        #expect(try fixture.status() == " M change.txt")

        // Forced: back to HEAD exactly.
        try worktree.checkoutHead(force: true)
        #expect(try fixture.read("change.txt") == "v1\n")
        #expect(try fixture.status().isEmpty)
    }
}
