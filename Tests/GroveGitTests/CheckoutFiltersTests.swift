import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// A worktree's checkout skips libgit2's filters only when nothing could filter: attributes
/// anywhere in the tree (here a nested `eol=crlf` and an `ident`) or `core.autocrlf` keep them.
@Suite struct CheckoutFiltersTests {
    /// Adds a worktree on a new branch at HEAD and checks it out as grove does; returns its path.
    func checkout(_ repo: TestRepository, _ sandbox: Sandbox, name: String) throws -> String {
        let repository = try repo.open()
        let head = try #require(try repository.headCommit())
        _ = try repository.createBranch(named: name, at: head)
        let path = sandbox.child(name)
        let worktree = try repository.addWorktree(at: path, branch: name, name: name, checkout: .none)
        try worktree.openRepository().checkoutHead(force: true)
        return path
    }

    @Test func aPlainTreeNeedsNoFiltersAndChecksOutTheSame() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "one\ntwo\n", "dir/b.txt": "b\n"])
        #expect(try repo.open().checkoutMayFilter(try #require(try repo.open().headCommit())) == false)
        let path = try checkout(repo, sandbox, name: "plain")
        #expect(try String(contentsOfFile: path + "/a.txt", encoding: .utf8) == "one\ntwo\n")
        #expect(try TestRepository(existing: path).porcelainStatus() == "")
    }

    @Test func nestedAttributesStillApply() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: [
            "a.txt": "one\ntwo\n", "deep/er/.gitattributes": "*.txt text eol=crlf\nid.txt ident\n",
            "deep/er/c.txt": "x\ny\n", "deep/er/id.txt": "$Id$\n",
        ])
        #expect(try repo.open().checkoutMayFilter(try #require(try repo.open().headCommit())) == true)
        let path = try checkout(repo, sandbox, name: "filtered")
        #expect(try String(contentsOfFile: path + "/deep/er/c.txt", encoding: .utf8) == "x\r\ny\r\n")
        #expect(try String(contentsOfFile: path + "/deep/er/id.txt", encoding: .utf8).hasPrefix("$Id: "))
        #expect(try TestRepository(existing: path).porcelainStatus() == "")
    }

    @Test func autocrlfAndInfoAttributesKeepFilters() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "one\n"])
        let head = try #require(try repo.open().headCommit())
        try repo.git("config", "core.autocrlf", "true")
        #expect(try repo.open().checkoutMayFilter(head) == true)
        try repo.git("config", "core.autocrlf", "false")
        #expect(try repo.open().checkoutMayFilter(head) == false)
        try FileManager.default.createDirectory(atPath: repo.path + "/.git/info", withIntermediateDirectories: true)
        try "*.txt ident\n".write(toFile: repo.path + "/.git/info/attributes", atomically: true, encoding: .utf8)
        #expect(try repo.open().checkoutMayFilter(head) == true)
    }
}
