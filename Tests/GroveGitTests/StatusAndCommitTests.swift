import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// git's own answer, `git status --porcelain --untracked-files=all`, in GroveGit's terms.
private func gitStatusEntries(in path: String) throws -> Set<WorktreeStatus.Entry> {
    var entries: Set<WorktreeStatus.Entry> = []
    let lines = try Shell.git("status", "--porcelain", "--untracked-files=all", in: path).lines
    for line in lines {
        let code = String(line.prefix(2))
        var file = String(line.dropFirst(3))
        if let arrow = file.range(of: " -> ") { file = String(file[arrow.upperBound...]) }
        let change: WorktreeStatus.Change
        switch code {
        case "??": change = .untracked
        case "DD", "AU", "UD", "UA", "DU", "AA", "UU": change = .conflicted
        case _ where code.first == "R" || code.last == "R": change = .renamed
        case _ where code.first == "A": change = .added
        case _ where code.contains("D"): change = .deleted
        case _ where code.contains("T"): change = .typeChanged
        default: change = .modified
        }
        entries.insert(WorktreeStatus.Entry(path: file, change: change))
    }
    return entries
}

/// `git fsck` finds nothing wrong (dangling objects aside).
private func expectFsckClean(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try Shell.run(["git", "-C", path, "fsck", "--no-dangling", "--no-progress"], check: false)
    #expect(
        result.status == 0 && result.output.isEmpty && result.stderr.isEmpty,
        "git fsck: \(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
}

private func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }

/// Makes a real merge conflict on `conflict.txt` with the git CLI.
private func makeMergeConflict(_ repo: TestRepository) throws {
    try repo.commit("base", files: ["conflict.txt": "base\n"])
    try repo.git("checkout", "-q", "-b", "other")
    try repo.commit("theirs", files: ["conflict.txt": "theirs\n"])
    try repo.git("checkout", "-q", "main")
    try repo.commit("ours", files: ["conflict.txt": "ours\n"])
    let merge = try Shell.git("merge", "other", in: repo.path, check: false)
    #expect(merge.status != 0, "the merge should have stopped on a conflict")
}

@Suite("Status")
struct StatusTests {
    @Test func aFreshCheckoutIsClean() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n", "dir/b.txt": "b\n"])
        let status = try repo.open().status()
        #expect(status.isClean)
        #expect(status.entries.isEmpty)
        #expect(try repo.porcelainStatus().isEmpty)
    }

    @Test func reportsEachKindOfChangeLikeGit() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: [
            "modified.txt": "one\n", "deleted.txt": "gone soon\n", "staged-deleted.txt": "x\n",
            "staged-modified.txt": "s\n", "old-name.txt": "a file with enough content to be a rename\n",
            "link-later.txt": "will be a symlink\n", ".gitignore": "*.log\nbuild/\n",
        ])
        try repo.write([
            "modified.txt": "two\n",
            "added.txt": "new and staged\n",
            "staged-modified.txt": "s2\n",
            "untracked.txt": "u\n",
            "notes/deep/inner.txt": "inside an untracked folder\n",
            "notes/top.txt": "t\n",
            "debug.log": "ignored\n",
            "build/out.o": "ignored too\n",
            "logs/only-ignored.log": "a folder of ignored files is not listed\n",
        ])
        // git lists no empty folders.
        try FileManager.default.createDirectory(atPath: repo.path + "/empty/inner", withIntermediateDirectories: true)
        try repo.git("add", "added.txt", "staged-modified.txt")
        try remove(repo.path + "/deleted.txt")
        try repo.git("rm", "-q", "staged-deleted.txt")
        try repo.git("mv", "old-name.txt", "new-name.txt")
        try remove(repo.path + "/link-later.txt")
        try FileManager.default.createSymbolicLink(
            atPath: repo.path + "/link-later.txt", withDestinationPath: "modified.txt")

        let status = try repo.open().status()
        let expected: [WorktreeStatus.Entry] = [
            .init(path: "added.txt", change: .added),
            .init(path: "deleted.txt", change: .deleted),
            .init(path: "link-later.txt", change: .typeChanged),
            .init(path: "modified.txt", change: .modified),
            .init(path: "new-name.txt", change: .renamed),
            .init(path: "notes/deep/inner.txt", change: .untracked),
            .init(path: "notes/top.txt", change: .untracked),
            .init(path: "staged-deleted.txt", change: .deleted),
            .init(path: "staged-modified.txt", change: .modified),
            .init(path: "untracked.txt", change: .untracked),
        ]
        #expect(status.entries == expected)
        #expect(Set(status.entries) == (try gitStatusEntries(in: repo.path)))
        #expect(!status.isClean)
        #expect(status.paths(.untracked) == ["notes/deep/inner.txt", "notes/top.txt", "untracked.txt"])
        #expect(status.paths(.deleted) == ["deleted.txt", "staged-deleted.txt"])
        // Ignored files are never listed.
        #expect(!status.entries.contains { $0.path.hasSuffix(".log") || $0.path.hasPrefix("build") })
        #expect(!status.entries.contains { $0.path.hasPrefix("empty") || $0.path.hasPrefix("logs") })
    }

    /// `git rm --cached`: git prints `D  f` and `?? f`; one entry per path says deleted.
    @Test func anUntrackedButStillPresentFileIsDeleted() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n", "b.txt": "b\n"])
        try repo.git("rm", "-q", "--cached", "a.txt")
        #expect(try repo.porcelainStatus() == "D  a.txt\n?? a.txt")
        #expect(try repo.open().status().entries == [.init(path: "a.txt", change: .deleted)])
    }

    @Test func aMergeConflictIsConflicted() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try makeMergeConflict(repo)
        let status = try repo.open().status()
        #expect(status.entries == [.init(path: "conflict.txt", change: .conflicted)])
        #expect(Set(status.entries) == (try gitStatusEntries(in: repo.path)))
        #expect(try repo.porcelainStatus() == "UU conflict.txt")
    }

    @Test func statusOfALinkedWorktreeIsItsOwn() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let repository = try repo.open()
        try repository.createBranch(named: "task", at: try #require(try repository.headCommit()))
        let worktree = try repository.addWorktree(at: sandbox.child("wt"), branch: "task")
        try "changed\n".write(toFile: sandbox.child("wt/README.md"), atomically: true, encoding: .utf8)
        try "new\n".write(toFile: sandbox.child("wt/new.txt"), atomically: true, encoding: .utf8)

        let status = try worktree.openRepository().status()
        #expect(
            status.entries == [.init(path: "README.md", change: .modified), .init(path: "new.txt", change: .untracked)])
        #expect(Set(status.entries) == (try gitStatusEntries(in: sandbox.child("wt"))))
        #expect(try repository.status().isClean)
        #expect(try repo.porcelainStatus().isEmpty)
    }
}

@Suite("Committing leftovers")
struct CommitAllTests {
    @Test func commitsAdditionsModificationsAndDeletionsButNotIgnoredFiles() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: [
            "keep.txt": "keep\n", "change.txt": "v1\n", "remove.txt": "bye\n", ".gitignore": "*.log\n",
        ])
        let before = try repo.revParse("HEAD")
        try repo.write([
            "change.txt": "v2\n", "new.txt": "new\n", "dir/nested/deep.txt": "deep\n", "agent.log": "noise\n",
            ".env.example": "dotfiles too\n", ".github/ci.yml": "and dot folders\n",
        ])
        // A mode change is a change (core.filemode).
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.path + "/keep.txt")
        try remove(repo.path + "/remove.txt")
        let message = "task: leftovers\n\nWhat the agent left behind.\n"

        let repository = try repo.open()
        let id = try #require(try repository.commitAll(message: message))

        #expect(id.hex == (try repo.revParse("HEAD")))
        #expect(id.hex == (try repo.revParse("main")))
        #expect(try repo.revParse("HEAD~1") == before)
        #expect(
            try repo.output("show", "--name-status", "--format=", "HEAD").components(separatedBy: "\n") == [
                "A\t.env.example", "A\t.github/ci.yml", "M\tchange.txt", "A\tdir/nested/deep.txt",
                "M\tkeep.txt", "A\tnew.txt", "D\tremove.txt",
            ])
        #expect(try repo.output("ls-tree", "HEAD", "keep.txt").hasPrefix("100755 "))
        #expect(try !repo.output("ls-tree", "-r", "--name-only", "HEAD").contains("agent.log"))
        #expect(try repo.output("log", "-1", "--format=%B") == message.trimmingCharacters(in: .newlines))
        #expect(try repository.commit(id).message == message)
        #expect(try repository.commit(id).parents.map(\.hex) == [before])
        // The working tree is clean afterwards; the ignored file is still there, ignored.
        #expect(try repo.porcelainStatus().isEmpty)
        #expect(try repository.status().isClean)
        #expect(try repo.read("agent.log") == "noise\n")
        // The identity comes from the repository's config (user.name / user.email).
        #expect(
            try repo.output("log", "-1", "--format=%an <%ae>|%cn <%ce>")
                == "Test User <test@example.com>|Test User <test@example.com>")
        try expectFsckClean(repo.path)
    }

    @Test func picksUpWhatTheGitCLIStaged() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let repository = try repo.open()
        // Read the index once, then let git change it behind libgit2's back.
        #expect(try repository.status().isClean)
        try repo.write(["staged.txt": "s\n"])
        try repo.git("add", "staged.txt")
        let id = try #require(try repository.commitAll(message: "staged by git"))
        #expect(try repo.output("show", "--name-status", "--format=", id.hex) == "A\tstaged.txt")
        #expect(try repo.porcelainStatus().isEmpty)
    }

    @Test func aCleanTreeCommitsNothing() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.write(["ignored.log": "x\n"])
        try repo.write([".git/info/exclude": "*.log\n"])
        let before = try repo.refs()
        let repository = try repo.open()
        #expect(try repository.commitAll(message: "nothing") == nil)
        #expect(try repo.refs() == before)
        #expect(try repo.output("rev-list", "--count", "HEAD") == "1")

        // And a second commitAll right after a real one also commits nothing.
        try repo.write(["a.txt": "a\n"])
        #expect(try repository.commitAll(message: "one") != nil)
        let after = try repo.refs()
        #expect(try repository.commitAll(message: "two") == nil)
        #expect(try repo.refs() == after)
    }

    @Test func explicitAuthorAndCommitterAreUsed() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.write(["a.txt": "a\n"])
        let author = Signature(name: "Agent Smith", email: "agent@example.com")
        let committer = Signature(name: "grove bot", email: "bot@example.com")
        _ = try #require(try repo.open().commitAll(message: "by agent", author: author, committer: committer))
        #expect(
            try repo.output("log", "-1", "--format=%an <%ae>|%cn <%ce>")
                == "Agent Smith <agent@example.com>|grove bot <bot@example.com>")
    }

    @Test func defaultSignatureComesFromConfig() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let signature = try repo.open().defaultSignature()
        #expect(signature.name == "Test User")
        #expect(signature.email == "test@example.com")
        #expect(abs(signature.time.timeIntervalSinceNow) < 60)
    }

    /// No `user.name` / `user.email` anywhere (the sandbox hides the host's config from libgit2):
    /// grove still commits, as `grove <grove@localhost>`. Also the first commit of a repository.
    @Test func withoutAnyIdentityFallsBackToGrove() throws {
        let sandbox = try Sandbox()
        let path = sandbox.child("bare-identity")
        try Shell.run(["git", "init", "-q", "-b", "main", path])
        #expect(try Shell.git("config", "user.name", in: path, check: false).status != 0)
        try "first\n".write(toFile: path + "/a.txt", atomically: true, encoding: .utf8)

        let repository = try Repository.open(at: path)
        #expect(repository.isHeadUnborn)
        let signature = try repository.defaultSignature()
        #expect(signature.name == Signature.fallbackName && signature.email == Signature.fallbackEmail)
        let id = try #require(try repository.commitAll(message: "first"))
        #expect(
            try Shell.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", in: path).output
                == "grove <grove@localhost>|grove <grove@localhost>")
        #expect(try Shell.git("rev-parse", "main", in: path).output == id.hex)
        #expect(try Shell.git("rev-list", "--count", "HEAD", in: path).output == "1")
        #expect(try repository.commit(id).parents.isEmpty)
        #expect(try Shell.git("status", "--porcelain", in: path).output.isEmpty)
    }

    @Test func inALinkedWorktreeItMovesThatWorktreesBranch() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let repository = try repo.open()
        let main = try #require(try repository.headCommit())
        try repository.createBranch(named: "task", at: main)
        let path = sandbox.child("wt")
        _ = try repository.addWorktree(at: path, branch: "task")
        try "work\n".write(toFile: path + "/work.txt", atomically: true, encoding: .utf8)
        try "changed\n".write(toFile: path + "/README.md", atomically: true, encoding: .utf8)

        let worktreeRepository = try Repository.open(at: path)
        let id = try #require(try worktreeRepository.commitAll(message: "task work"))
        #expect(try repo.revParse("task") == id.hex)
        #expect(try repo.revParse("main") == main.hex)
        #expect(try Shell.git("rev-parse", "HEAD", in: path).output == id.hex)
        #expect(try Shell.git("status", "--porcelain", in: path).output.isEmpty)
        #expect(
            try Shell.git("show", "--name-status", "--format=", "HEAD", in: path).lines == [
                "M\tREADME.md", "A\twork.txt",
            ])
        // The main checkout is untouched.
        #expect(try repo.porcelainStatus().isEmpty)
        #expect(try repo.read("README.md") == "hello\n")
        try expectFsckClean(repo.path)
    }

    @Test func refusesInAConflictedIndexAndChangesNothing() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try makeMergeConflict(repo)
        try repo.write(["other.txt": "untracked\n"])
        let refs = try repo.refs()
        let status = try repo.porcelainStatus()

        let error = try #require(throws: GitError.self) { try repo.open().commitAll(message: "oops") }
        #expect(error.code == -10)  // GIT_EUNMERGED
        #expect(error.message.contains("conflict"))
        #expect(error.message.contains(repo.path))
        #expect(try repo.refs() == refs)
        #expect(try repo.porcelainStatus() == status)
        // git still sees the merge in progress.
        #expect(FileManager.default.fileExists(atPath: repo.path + "/.git/MERGE_HEAD"))
    }
}
