import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// The first checkout of a new worktree written by grove itself (`FreshCheckout`): the git CLI
/// must see exactly what `git worktree add` would have made — every file, mode and link, an index
/// whose stat data needs no refresh — and anything unusual must go through libgit2 instead.
@Suite struct FreshCheckoutTests {
    /// A tree with every kind of entry: nested directories, an empty file, an executable, a
    /// symlink, a larger file and a submodule (gitlink).
    static func varied(_ sandbox: Sandbox) throws -> TestRepository {
        let repo = try sandbox.repository(
            "repo",
            files: [
                "README.md": "hello\n", "empty.txt": "", "src/a/b/c/deep.txt": "deep\n",
                "src/z.txt": String(repeating: "0123456789abcdef\n", count: 20_000), "bin/tool": "#!/bin/sh\necho hi\n",
                "a-b.txt": "sorts before a/\n", "a/inside.txt": "inside\n",
            ])
        try repo.git("update-index", "--chmod=+x", "bin/tool")
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/link", withDestinationPath: "src/a/b")
        try repo.git("add", "link")
        // A gitlink, as a submodule leaves one (the commit need not exist here).
        try repo.git(
            "update-index", "--add", "--cacheinfo", "160000,4b825dc642cb6eb9a060e54bf8d69288fbee4904,vendor/lib")
        try repo.git("commit", "-q", "-m", "every kind of entry")
        try repo.git("branch", "task")
        return repo
    }

    /// Adds a worktree of `task` without files, then writes them the way `grove run` does.
    static func freshWorktree(_ repo: TestRepository, at path: String) throws -> Repository {
        let worktree = try repo.open().addWorktree(at: path, branch: "task", checkout: .none)
        let repository = try worktree.openRepository()
        try repository.checkoutHead(force: true)
        return repository
    }

    @Test func gitSeesTheSameFilesModesLinksAndACleanIndex() throws {
        let sandbox = try Sandbox()
        let repo = try Self.varied(sandbox)
        let path = sandbox.child("wt")
        let repository = try repo.open().addWorktree(at: path, branch: "task", checkout: .none).openRepository()
        let head = try #require(try repository.headCommit())
        // Directly, so a silent fall back to libgit2 cannot pass for the fast path.
        try FreshCheckout.write(repository, head: head)

        #expect(try Shell.git("status", "--porcelain", "--ignore-submodules=none", in: path).output == "")
        #expect(try Shell.git("ls-files", "--stage", in: path).output == repo.output("ls-files", "--stage"))
        // `diff-files` trusts the index's stat data: nothing to refresh means every entry matches.
        #expect(try Shell.git("diff-files", "--name-only", in: path).output == "")
        #expect(try String(contentsOfFile: path + "/src/z.txt", encoding: .utf8).count == 17 * 20_000)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path + "/link") == "src/a/b")
        #expect(FileManager.default.isExecutableFile(atPath: path + "/bin/tool"))
        #expect(!FileManager.default.isExecutableFile(atPath: path + "/README.md"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: path + "/vendor/lib").isEmpty)
        // The same bytes and modes as git's own worktree of the branch.
        let gitPath = sandbox.child("git-wt")
        try repo.git("worktree", "add", "-q", "--detach", gitPath, "task")
        #expect(try Self.listing(path) == Self.listing(gitPath))
        #expect(try repo.output("fsck", "--no-progress", "--no-dangling").isEmpty)
    }

    @Test func aWorkingTreeThatIsNotEmptyIsLeftToLibgit2() throws {
        let sandbox = try Sandbox()
        let repo = try Self.varied(sandbox)
        let path = sandbox.child("wt")
        let repository = try repo.open().addWorktree(at: path, branch: "task", checkout: .none).openRepository()
        try "stray\n".write(toFile: path + "/README.md", atomically: false, encoding: .utf8)
        let head = try #require(try repository.headCommit())
        #expect(throws: FreshCheckout.NotApplicable.self) { try FreshCheckout.write(repository, head: head) }
        // checkoutHead(force:) still writes everything, through libgit2.
        try repository.checkoutHead(force: true)
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
        #expect(try String(contentsOfFile: path + "/README.md", encoding: .utf8) == "hello\n")
    }

    @Test func aSymlinkNamedLikeGitsOwnFilesIsLeftToLibgit2() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/.gitignore", withDestinationPath: "README.md")
        try repo.git("add", ".gitignore")
        try repo.git("commit", "-q", "-m", "a linked .gitignore")
        try repo.git("branch", "task")
        let path = sandbox.child("wt")
        let repository = try repo.open().addWorktree(at: path, branch: "task", checkout: .none).openRepository()
        #expect(throws: FreshCheckout.NotApplicable.self) {
            try FreshCheckout.write(repository, head: try #require(try repository.headCommit()))
        }
    }

    @Test(arguments: [".git", ".GIT", ".git. ", "git~1", "a\\b", "c:d"])
    func namesLibgit2MightRefuseAreNotPlain(_ name: String) {
        #expect(!FreshCheckout.isPlainName(name))
    }

    @Test(arguments: [".gitignore", ".github", "README.md", "git", "naïve.txt", "a b", "-dash"])
    func ordinaryNamesArePlain(_ name: String) {
        #expect(FreshCheckout.isPlainName(name))
    }

    @Test func aTreeWithAttributesIsCheckedOutByLibgit2WithItsFilters() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(
            "repo", files: [".gitattributes": "*.txt text eol=crlf\n", "a.txt": "one\ntwo\n"])
        try repo.git("branch", "task")
        let path = sandbox.child("wt")
        _ = try Self.freshWorktree(repo, at: path)
        #expect(try String(contentsOfFile: path + "/a.txt", encoding: .utf8) == "one\r\ntwo\r\n")
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
    }

    @Test func anUntouchedWorktreeIsUnchangedAndCreatingThenDeletingAFileLeavesItSo() throws {
        let sandbox = try Sandbox()
        let repo = try Self.varied(sandbox)
        let path = sandbox.child("wt")
        let repository = try repo.open().addWorktree(at: path, branch: "task", checkout: .none).openRepository()
        let snapshot = try FreshCheckout.write(repository, head: try #require(try repository.headCommit()))
        #expect(repository.isUnchanged(since: snapshot))
        try "scratch\n".write(toFile: path + "/src/scratch.txt", atomically: false, encoding: .utf8)
        #expect(!repository.isUnchanged(since: snapshot))
        try FileManager.default.removeItem(atPath: path + "/src/scratch.txt")
        #expect(repository.isUnchanged(since: snapshot))
    }

    /// Each change a task can make to its worktree: the snapshot must not call it unchanged (a
    /// full status then finds it and grove commits it).
    @Test(arguments: [
        "same-size edit", "new file", "new ignored file", "deleted file", "mode change", "file becomes directory",
        "index rewritten", "commit made", "file in a submodule folder", "symlink retargeted",
    ])
    func everyChangeIsSeen(_ change: String) throws {
        let sandbox = try Sandbox()
        let repo = try Self.varied(sandbox)
        let path = sandbox.child("wt")
        let repository = try repo.open().addWorktree(at: path, branch: "task", checkout: .none).openRepository()
        let snapshot = try FreshCheckout.write(repository, head: try #require(try repository.headCommit()))
        let fileManager = FileManager.default
        switch change {
        case "same-size edit": try "HELLO\n".write(toFile: path + "/README.md", atomically: false, encoding: .utf8)
        case "new file": try "x".write(toFile: path + "/a/new.txt", atomically: false, encoding: .utf8)
        case "new ignored file":
            try "*.log\n".write(toFile: repo.path + "/.git/info/exclude", atomically: false, encoding: .utf8)
            try "log".write(toFile: path + "/build.log", atomically: false, encoding: .utf8)
        case "deleted file": try fileManager.removeItem(atPath: path + "/src/a/b/c/deep.txt")
        case "mode change": try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path + "/README.md")
        case "file becomes directory":
            try fileManager.removeItem(atPath: path + "/empty.txt")
            try fileManager.createDirectory(atPath: path + "/empty.txt", withIntermediateDirectories: false)
        case "index rewritten": try Shell.git("update-index", "--really-refresh", in: path)
        case "commit made": try Shell.git("commit", "-q", "--allow-empty", "-m", "empty", in: path)
        case "file in a submodule folder":
            try "x".write(toFile: path + "/vendor/lib/x", atomically: false, encoding: .utf8)
        case "symlink retargeted":
            try fileManager.removeItem(atPath: path + "/link")
            try fileManager.createSymbolicLink(atPath: path + "/link", withDestinationPath: "src/a/b/c")
        default: Issue.record("unknown change \(change)")
        }
        #expect(!repository.isUnchanged(since: snapshot))
    }

    /// Every path under `root` (outside `.git`) with its type, permission bits and contents.
    static func listing(_ root: String) throws -> [String] {
        let fileManager = FileManager.default
        var lines: [String] = []
        let enumerator = fileManager.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            if relative == ".git" || relative.hasPrefix(".git/") { continue }
            let full = root + "/" + relative
            let attributes = try fileManager.attributesOfItem(atPath: full)
            let type = attributes[.type] as? FileAttributeType
            let permissions = (attributes[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
            var line = "\(relative) \(type?.rawValue ?? "?")"
            if type == .typeSymbolicLink {
                line += " -> " + (try fileManager.destinationOfSymbolicLink(atPath: full))
            } else if type == .typeRegular {
                line +=
                    " \(permissions) "
                    + String(decoding: try Data(contentsOf: URL(fileURLWithPath: full)), as: UTF8.self)
            }
            lines.append(line)
        }
        return lines.sorted()
    }
}
