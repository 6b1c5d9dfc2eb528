import Clibgit2
import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// The path-by-path in-memory rebase (`PathRebase`), checked against `git rebase` on the same
/// commits, and the cases it must hand to libgit2's three-way merge.
@Suite struct PathRebaseTests {
    static let committer = RebaseAndMergeTests.committer

    /// `main` with nested directories, a script and a doc tree; `task` branches off with four
    /// commits touching every kind of entry (add deep, edit, delete a whole directory, mode
    /// change, symlink, a commit that changes nothing main lacks); `main` then changes other
    /// paths, one of them the same way the task does.
    static func branched(_ sandbox: Sandbox) throws -> TestRepository {
        let repo = try sandbox.repository(
            "repo",
            files: [
                "README.md": "hello\n", "src/a.txt": "a\n", "src/deep/b.txt": "b\n", "src/deep/other.txt": "o\n",
                "docs/c.md": "c\n", "docs/more/d.md": "d\n", "tools/run.sh": "#!/bin/sh\necho run\n",
                "shared.txt": "before\n",
            ])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.write(["src/deep/new/x.txt": "x\n", "src/a.txt": "A\n"])
        try RebaseAndMergeTests.commit(
            repo, "add x, edit a", author: "Alice <alice@example.com>", date: "1600000000 +0200")
        try repo.git("rm", "-q", "-r", "docs")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.path + "/src/deep/b.txt")
        try repo.git("add", "src/deep/b.txt")
        try repo.git("commit", "-q", "-m", "drop docs, make b executable")
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/link", withDestinationPath: "src/a.txt")
        try repo.write(["tools/run.sh": "#!/bin/sh\necho run fast\n", "shared.txt": "after\n"])
        try RebaseAndMergeTests.commit(
            repo, "link, faster run", author: "Bob <bob@example.com>", date: "1600000100 -0500")
        try repo.git("checkout", "-q", "main")
        try repo.commit(
            "main moves on",
            files: [
                "README.md": "hello, world\n", "other/e.txt": "e\n", "src/deep/other.txt": "O\n",
                "shared.txt": "after\n",
            ])
        return repo
    }

    @Test func replaysEveryKindOfChangeWithoutAMergeAndGitAgrees() throws {
        let sandbox = try Sandbox()
        let repo = try Self.branched(sandbox)
        let repository = try repo.open()
        let tip = try RebaseAndMergeTests.id(repo.revParse("task"))
        let onto = try RebaseAndMergeTests.id(repo.revParse("main"))
        let committerRaw = try Self.committer.makeRaw()
        defer { git_signature_free(committerRaw) }

        // Directly: no commit of this branch needs a three-way merge.
        let outcome = try PathRebase.rebase(
            tip, onto: onto, upstream: onto, committer: UnsafePointer(committerRaw), in: repository)
        guard case .rebased(let newTip, let commits) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        #expect(commits.count == 3)
        let git = try RebaseAndMergeTests.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(git.status == 0)
        let gitCommits = try Shell.git("rev-list", "--reverse", "origin/main..HEAD", in: git.clone).lines
        #expect(gitCommits.count == commits.count)
        for (ours, theirs) in zip(commits, gitCommits) {
            #expect(
                try repository.commit(ours).tree.hex == Shell.git("rev-parse", theirs + "^{tree}", in: git.clone).output
            )
            let format = "--format=%an <%ae> %at%n%B"
            #expect(
                try repo.output("show", "-s", format, ours.hex)
                    == Shell.git("show", "-s", format, theirs, in: git.clone).output)
        }
        #expect(try repo.output("ls-tree", newTip.hex, "link").hasPrefix("120000 blob"))
        #expect(try repo.output("ls-tree", newTip.hex, "src/deep/b.txt").hasPrefix("100755 blob"))
        #expect(try repo.output("ls-tree", "-r", "--name-only", newTip.hex, "docs").isEmpty)
        #expect(try repo.output("fsck", "--no-progress", "--no-dangling").isEmpty)

        // And through the public entry point, the same trees.
        guard
            case .rebased(let publicTip, _) = try repository.rebaseInMemory(tip, onto: onto, committer: Self.committer)
        else {
            Issue.record("rebaseInMemory did not rebase")
            return
        }
        #expect(try repository.commit(publicTip).tree == repository.commit(newTip).tree)
    }

    @Test func aCommitMainAlreadyHasIsDropped() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository("repo", files: ["a.txt": "a\n", "b.txt": "b\n"])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit("same as main will", files: ["a.txt": "A\n"])
        try repo.commit("own change", files: ["b.txt": "B\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("main makes the same edit", files: ["a.txt": "A\n"])
        let repository = try repo.open()
        let committerRaw = try Self.committer.makeRaw()
        defer { git_signature_free(committerRaw) }
        let onto = try RebaseAndMergeTests.id(repo.revParse("main"))
        let outcome = try PathRebase.rebase(
            try RebaseAndMergeTests.id(repo.revParse("task")), onto: onto, upstream: onto,
            committer: UnsafePointer(committerRaw), in: repository)
        guard case .rebased(let tip, let commits) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        #expect(commits.count == 1)
        #expect(try repo.output("log", "--format=%s", "main.." + tip.hex) == "own change")
        #expect(try repo.output("show", tip.hex + ":a.txt") == "A")
    }

    /// Both sides changed the same file, or a file became a directory: the path-by-path replay
    /// steps aside, and `rebaseInMemory` still merges (or reports the conflict) through libgit2.
    @Test(arguments: ["both edit one file", "file becomes a directory"])
    func whatNeedsAMergeIsLeftToLibgit2(_ kind: String) throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository("repo", files: ["a.txt": "1\n2\n3\n4\n5\n6\n7\n8\n", "f": "file\n"])
        try repo.git("checkout", "-q", "-b", "task")
        if kind == "both edit one file" {
            try repo.commit("task edits the top", files: ["a.txt": "ONE\n2\n3\n4\n5\n6\n7\n8\n"])
        } else {
            try repo.git("rm", "-q", "f")
            try repo.commit("f becomes a directory", files: ["f/inner.txt": "inner\n"])
        }
        try repo.git("checkout", "-q", "main")
        try repo.commit("main edits the bottom", files: ["a.txt": "1\n2\n3\n4\n5\n6\n7\nEIGHT\n"])
        let repository = try repo.open()
        let committerRaw = try Self.committer.makeRaw()
        defer { git_signature_free(committerRaw) }
        let tip = try RebaseAndMergeTests.id(repo.revParse("task"))
        let onto = try RebaseAndMergeTests.id(repo.revParse("main"))
        if kind == "both edit one file" {
            #expect(throws: PathRebase.NotTrivial.self) {
                try PathRebase.rebase(
                    tip, onto: onto, upstream: onto, committer: UnsafePointer(committerRaw), in: repository)
            }
        }
        guard case .rebased(let newTip, _) = try repository.rebaseInMemory(tip, onto: onto, committer: Self.committer)
        else {
            Issue.record("expected libgit2 to merge")
            return
        }
        let git = try RebaseAndMergeTests.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(git.status == 0)
        #expect(try repository.commit(newTip).tree.hex == Shell.git("rev-parse", "HEAD^{tree}", in: git.clone).output)
    }
}
