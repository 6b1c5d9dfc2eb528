import Foundation
import GroveBasics
import Synchronization
import TestSupport
import Testing

@testable import GroveGit

/// One entry of `git worktree list --porcelain`.
private struct ListedWorktree: Equatable {
    var path = ""
    var head: String?
    var branch: String?
    var detached = false
    /// nil when not locked; the reason ("" when none) when locked.
    var locked: String?
    var prunable: String?
}

/// What git thinks the worktrees are; the first one is the main checkout.
private func gitWorktreeList(_ repo: TestRepository) throws -> [ListedWorktree] {
    var listed: [ListedWorktree] = []
    for block in try repo.git("worktree", "list", "--porcelain").stdout.components(separatedBy: "\n\n") {
        let lines = block.split(separator: "\n").map(String.init)
        guard !lines.isEmpty else { continue }
        var entry = ListedWorktree()
        for line in lines {
            let (key, value) = line.split(separator: " ", maxSplits: 1).map(String.init).pair
            switch key {
            case "worktree": entry.path = canonicalPath(value ?? "")
            case "HEAD": entry.head = value
            case "branch": entry.branch = value
            case "detached": entry.detached = true
            case "locked": entry.locked = value ?? ""
            case "prunable": entry.prunable = value ?? ""
            default: break
            }
        }
        listed.append(entry)
    }
    return listed
}

/// Linked worktrees only, as git lists them.
private func gitLinkedWorktrees(_ repo: TestRepository) throws -> [ListedWorktree] {
    Array(try gitWorktreeList(repo).dropFirst())
}

/// `git fsck` finds nothing wrong (dangling objects aside).
private func expectFsckClean(_ repo: TestRepository, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try Shell.run(["git", "-C", repo.path, "fsck", "--no-dangling", "--no-progress"], check: false)
    #expect(result.status == 0, "git fsck: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(
        result.output.isEmpty && result.stderr.isEmpty, "git fsck: \(result.stdout)\(result.stderr)",
        sourceLocation: sourceLocation)
}

/// The entries of `<repo>/.git/worktrees`, sorted (empty when the folder does not exist).
private func adminEntries(_ repo: TestRepository) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: repo.path + "/.git/worktrees")) ?? []).sorted()
}

private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

private struct NoHead: Error {}

/// Lets `count` threads go on only once all of them have arrived.
private final class Barrier: Sendable {
    private let arrived = Mutex(0)
    private let gate = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) { self.count = count }

    func wait() {
        let all = arrived.withLock { value -> Bool in
            value += 1
            return value == count
        }
        if all { for _ in 0..<count { gate.signal() } }
        gate.wait()
    }
}

extension Array where Element == String {
    fileprivate var pair: (String, String?) { (first ?? "", count > 1 ? self[1] : nil) }
}

/// A repository with a couple of files and `branch` created at main's tip.
private func repositoryWithBranch(
    _ sandbox: Sandbox, branches: [String] = ["task"]
) throws -> (TestRepository, Repository) {
    let repo = try sandbox.repository(files: ["README.md": "hello\n", "src/app.swift": "print(1)\n"])
    let repository = try repo.open()
    let head = try #require(try repository.headCommit())
    for branch in branches { try repository.createBranch(named: branch, at: head) }
    return (repo, repository)
}

@Suite("Worktrees")
struct WorktreeTests {
    @Test func addsAWorktreeOnABranchThatGitAgreesWith() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox, branches: ["task/1"])
        // `wts/` does not exist yet: missing parent directories are created.
        let path = sandbox.child("wts/task-1")
        let worktree = try repository.addWorktree(at: path, branch: "task/1")

        #expect(worktree.name == "task-1")
        #expect(canonicalPath(worktree.path) == canonicalPath(path))
        #expect(worktree.validationProblem == nil)
        #expect(worktree.isValid)
        #expect(!worktree.isPrunable)
        #expect(try worktree.lockReason() == nil)

        let listed = try gitLinkedWorktrees(repo)
        #expect(
            listed == [
                ListedWorktree(path: canonicalPath(path), head: try repo.revParse("main"), branch: "refs/heads/task/1")
            ])
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
        #expect(try Shell.git("rev-parse", "--abbrev-ref", "HEAD", in: path).output == "task/1")
        #expect(
            canonicalPath(try Shell.git("rev-parse", "--absolute-git-dir", in: path).output)
                == canonicalPath(repo.path + "/.git/worktrees/task-1"))
        #expect(try String(contentsOfFile: path + "/README.md", encoding: .utf8) == "hello\n")
        #expect(try String(contentsOfFile: path + "/src/app.swift", encoding: .utf8) == "print(1)\n")
        #expect(try Shell.git("ls-files", in: path).lines == ["README.md", "src/app.swift"])
        try expectFsckClean(repo)

        // All three lookups find it.
        #expect(try repository.worktrees().map(\.name) == ["task-1"])
        #expect(try repository.worktree(named: "task-1")?.path == worktree.path)
        #expect(try repository.worktree(atPath: path)?.name == "task-1")
        #expect(try repository.worktree(atPath: path + "/")?.name == "task-1")
    }

    @Test func lookupsOfUnknownWorktreesGiveNil() throws {
        let sandbox = try Sandbox()
        let (_, repository) = try repositoryWithBranch(sandbox)
        #expect(try repository.worktrees().isEmpty)
        #expect(try repository.worktree(named: "nope") == nil)
        #expect(try repository.worktree(atPath: sandbox.child("nope")) == nil)
        _ = try repository.addWorktree(at: sandbox.child("wt"), branch: "task")
        #expect(try repository.worktree(named: "nope") == nil)
        #expect(try repository.worktree(atPath: sandbox.path) == nil)
    }

    @Test func createsDeepParentDirectories() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("a/b/c/wt")
        _ = try repository.addWorktree(at: path, branch: "task")
        #expect(try gitLinkedWorktrees(repo).map(\.path) == [canonicalPath(path)])
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
    }

    @Test func refusesAnExistingNonEmptyPathAndLeavesNothingBehind() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("occupied")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "mine\n".write(toFile: path + "/keep.txt", atomically: true, encoding: .utf8)

        let error = try #require(throws: GitError.self) {
            try repository.addWorktree(at: path, branch: "task")
        }
        #expect(error.isExists)
        #expect(error.message.contains(path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["keep.txt"])
        #expect(try String(contentsOfFile: path + "/keep.txt", encoding: .utf8) == "mine\n")
        #expect(adminEntries(repo).isEmpty)
        #expect(try gitLinkedWorktrees(repo).isEmpty)

        // A plain file in the way is refused too, and kept.
        let file = sandbox.child("file")
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: GitError.self) { try repository.addWorktree(at: file, branch: "task") }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "x")
        #expect(adminEntries(repo).isEmpty)
        #expect(try gitLinkedWorktrees(repo).isEmpty)
    }

    @Test func acceptsAnExistingEmptyDirectory() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("empty")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = try repository.addWorktree(at: path, branch: "task")
        #expect(try gitLinkedWorktrees(repo).map(\.branch) == ["refs/heads/task"])
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
        #expect(exists(path + "/README.md"))
    }

    @Test func aBranchCheckedOutElsewhereIsRefusedAndNothingIsLeftBehind() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        _ = try repository.addWorktree(at: sandbox.child("first"), branch: "task")

        let second = sandbox.child("wts/second")
        let error = try #require(throws: GitError.self) {
            try repository.addWorktree(at: second, branch: "task")
        }
        #expect(error.message.contains("checked out"))
        #expect(!exists(second))
        #expect(adminEntries(repo) == ["first"])

        // `main` is checked out in the main worktree.
        let third = sandbox.child("wts/third")
        #expect(throws: GitError.self) { try repository.addWorktree(at: third, branch: "main") }
        #expect(!exists(third))
        #expect(adminEntries(repo) == ["first"])
        #expect(try gitLinkedWorktrees(repo).map(\.path) == [canonicalPath(sandbox.child("first"))])
        try expectFsckClean(repo)
    }

    @Test func aMissingBranchIsRefusedBeforeAnythingIsCreated() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wts/ghost")
        let error = try #require(throws: GitError.self) {
            try repository.addWorktree(at: path, branch: "no-such-branch")
        }
        #expect(error.isNotFound)
        #expect(!exists(path))
        #expect(!exists(sandbox.child("wts")))
        #expect(adminEntries(repo).isEmpty)
        #expect(try gitLinkedWorktrees(repo).isEmpty)

        // An empty directory the caller made is still there after a failed add.
        let empty = sandbox.child("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: GitError.self) { try repository.addWorktree(at: empty, branch: "no-such-branch") }
        #expect(exists(empty))
    }

    /// libgit2 1.5.1: two incomplete entries under `.git/worktrees` make every branch look
    /// checked out. grove removes them first.
    @Test func strayAdminDirectoriesDoNotBreakAddAndAreRemoved() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        for name in ["stray-a", "stray-b"] {
            try FileManager.default.createDirectory(
                atPath: repo.path + "/.git/worktrees/" + name, withIntermediateDirectories: true)
        }
        // Listing does not trip over them either.
        #expect(try repository.worktrees().isEmpty)

        let path = sandbox.child("wt")
        _ = try repository.addWorktree(at: path, branch: "task")
        #expect(adminEntries(repo) == ["wt"])
        #expect(try gitLinkedWorktrees(repo).map(\.branch) == ["refs/heads/task"])
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
        try expectFsckClean(repo)
    }

    @Test func pruneRemovesStrayAdminDirectories() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        _ = try repository.addWorktree(at: sandbox.child("keep"), branch: "task")
        for name in ["stray-a", "stray-b"] {
            try FileManager.default.createDirectory(
                atPath: repo.path + "/.git/worktrees/" + name, withIntermediateDirectories: true)
        }
        #expect(try repository.worktrees().map(\.name) == ["keep"])
        #expect(try repository.pruneWorktrees() == ["stray-a", "stray-b"])
        #expect(adminEntries(repo) == ["keep"])
        #expect(try gitLinkedWorktrees(repo).map(\.path) == [canonicalPath(sandbox.child("keep"))])
    }

    @Test func adminNamesHaveNoSlashAndAreUnique() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox, branches: ["grove/1/task", "one", "two"])

        let slashed = try repository.addWorktree(
            at: sandbox.child("wts/task"), branch: "grove/1/task", name: "grove/1/task")
        #expect(!slashed.name.contains("/"))
        #expect(!slashed.name.isEmpty)
        #expect(
            canonicalPath(try Shell.git("rev-parse", "--absolute-git-dir", in: sandbox.child("wts/task")).output)
                == canonicalPath(repo.path + "/.git/worktrees/" + slashed.name))

        // Same last path component: `x`, then `x1`, like git.
        let first = try repository.addWorktree(at: sandbox.child("a/x"), branch: "one")
        let second = try repository.addWorktree(at: sandbox.child("b/x"), branch: "two")
        #expect(first.name == "x")
        #expect(second.name == "x1")
        #expect(adminEntries(repo) == [slashed.name, "x", "x1"].sorted())

        let listed = try gitLinkedWorktrees(repo)
        #expect(
            Set(listed.map { "\($0.path) \($0.branch ?? "-")" }) == [
                "\(canonicalPath(sandbox.child("wts/task"))) refs/heads/grove/1/task",
                "\(canonicalPath(sandbox.child("a/x"))) refs/heads/one",
                "\(canonicalPath(sandbox.child("b/x"))) refs/heads/two",
            ])
        for path in ["wts/task", "a/x", "b/x"] {
            #expect(try Shell.git("status", "--porcelain", in: sandbox.child(path)).output == "")
        }
        #expect(try repository.worktree(atPath: sandbox.child("b/x"))?.name == "x1")
        try expectFsckClean(repo)
    }

    @Test func eightThreadsAddingWorktreesAtOnceAllSucceed() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["README.md": "hello\n", "src/app.swift": "print(1)\n"])
        let repoPath = repo.path
        let root = sandbox.child("wts")
        let failures = Mutex<[String]>([])
        let names = Mutex<[String]>([])
        // Eight real threads (concurrentPerform would run only as many as there are cores),
        // released together so that the adds really overlap.
        let barrier = Barrier(count: 8)
        let done = DispatchGroup()
        for index in 0..<8 {
            done.enter()
            Thread {
                defer { done.leave() }
                var waited = false
                do {
                    // Repository is not Sendable: one per thread.
                    let repository = try Repository.open(at: repoPath)
                    guard let head = try repository.headCommit() else { throw NoHead() }
                    try repository.createBranch(named: "task/\(index)", at: head)
                    waited = true
                    barrier.wait()
                    let worktree = try repository.addWorktree(
                        at: root + "/task-\(index)", branch: "task/\(index)")
                    let name = worktree.name
                    names.withLock { $0.append(name) }
                } catch {
                    if !waited { barrier.wait() }
                    failures.withLock { $0.append("thread \(index): \(error)") }
                }
            }.start()
        }
        // A hang must fail the test, not block the run.
        #expect(done.wait(timeout: .now() + 120) == .success)
        #expect(failures.withLock { $0 } == [])
        #expect(Set(names.withLock { $0 }).count == 8)

        let listed = try gitLinkedWorktrees(repo)
        #expect(listed.count == 8)
        #expect(Set(listed.compactMap(\.branch)) == Set((0..<8).map { "refs/heads/task/\($0)" }))
        #expect(Set(listed.map(\.path)) == Set((0..<8).map { canonicalPath(root + "/task-\($0)") }))
        for index in 0..<8 {
            #expect(try Shell.git("status", "--porcelain", in: root + "/task-\(index)").output == "")
        }
        #expect(adminEntries(repo).count == 8)
        try expectFsckClean(repo)
    }

    @Test func aWorktreeAddedWithoutCheckoutIsFilledByCheckoutHead() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wt")
        let worktree = try repository.addWorktree(at: path, branch: "task", checkout: .none)
        #expect(!exists(path + "/README.md"))
        // Like `--no-checkout`: git sees every file as staged for deletion.
        #expect(try Shell.git("status", "--porcelain", in: path).output != "")

        try worktree.openRepository().checkoutHead(force: true)
        #expect(try Shell.git("status", "--porcelain", in: path).output == "")
        #expect(try String(contentsOfFile: path + "/src/app.swift", encoding: .utf8) == "print(1)\n")
        #expect(try gitLinkedWorktrees(repo).map(\.branch) == ["refs/heads/task"])
        try expectFsckClean(repo)
    }

    @Test func lockAndUnlockShowInGit() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox, branches: ["one", "two"])

        let locked = try repository.addWorktree(at: sandbox.child("locked"), branch: "one", lock: true)
        #expect(try locked.lockReason() == "")
        #expect(try gitLinkedWorktrees(repo).first?.locked == "")

        #expect(try locked.unlock())
        #expect(try locked.lockReason() == nil)
        #expect(try gitLinkedWorktrees(repo).first?.locked == nil)
        #expect(try !locked.unlock())

        try locked.lock(reason: "agent running")
        #expect(try locked.lockReason() == "agent running")
        #expect(try gitLinkedWorktrees(repo).first?.locked == "agent running")
        // Locking twice is an error (libgit2: GIT_ELOCKED), and keeps the first reason.
        #expect(throws: GitError.self) { try locked.lock(reason: "again") }
        #expect(try locked.lockReason() == "agent running")

        // A lock made by git is seen too.
        let other = try repository.addWorktree(at: sandbox.child("other"), branch: "two")
        try repo.git("worktree", "lock", "--reason", "by git", sandbox.child("other"))
        #expect(try other.lockReason() == "by git")
        try repo.git("worktree", "unlock", sandbox.child("other"))
        #expect(try other.lockReason() == nil)
    }

    @Test func aDeletedWorktreeIsInvalidAndPrunedUnlessLocked() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox, branches: ["gone", "kept", "alive"])
        let gone = try repository.addWorktree(at: sandbox.child("gone"), branch: "gone")
        let kept = try repository.addWorktree(at: sandbox.child("kept"), branch: "kept", lock: true)
        let alive = try repository.addWorktree(at: sandbox.child("alive"), branch: "alive")
        try FileManager.default.removeItem(atPath: sandbox.child("gone"))
        try FileManager.default.removeItem(atPath: sandbox.child("kept"))

        #expect(gone.validationProblem != nil)
        #expect(!gone.isValid)
        #expect(gone.isPrunable)
        #expect(kept.validationProblem != nil)
        #expect(!kept.isPrunable)
        #expect(alive.isValid)
        #expect(!alive.isPrunable)
        let before = try gitLinkedWorktrees(repo)
        #expect(before.first { $0.path == canonicalPath(sandbox.child("gone")) }?.prunable != nil)
        #expect(before.first { $0.path == canonicalPath(sandbox.child("kept")) }?.prunable == nil)

        #expect(try repository.pruneWorktrees() == ["gone"])
        #expect(adminEntries(repo) == ["alive", "kept"])
        #expect(try repository.worktrees().map(\.name) == ["alive", "kept"])
        #expect(
            Set(try gitLinkedWorktrees(repo).map(\.path)) == [
                canonicalPath(sandbox.child("kept")), canonicalPath(sandbox.child("alive")),
            ])
        // git has nothing left to prune either.
        #expect(try repo.output("worktree", "prune", "--dry-run", "-v").isEmpty)
        // The branch of the pruned worktree is free again.
        try repository.deleteBranch(named: "gone")
        #expect(try repo.output("branch", "--list", "gone").isEmpty)
        // Nothing left to prune.
        #expect(try repository.pruneWorktrees() == [])
    }

    @Test func removesACleanWorktreeAndFreesItsBranch() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wt")
        let worktree = try repository.addWorktree(at: path, branch: "task")
        // Ignored files do not count as changes (git worktree remove agrees).
        try "build/\n".write(toFile: repo.path + "/.git/info/exclude", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: path + "/build", withIntermediateDirectories: true)
        try "o".write(toFile: path + "/build/out.o", atomically: true, encoding: .utf8)

        try repository.removeWorktree(worktree)
        #expect(!exists(path))
        #expect(adminEntries(repo).isEmpty)
        #expect(try gitLinkedWorktrees(repo).isEmpty)
        try repository.deleteBranch(named: "task")
        #expect(try repo.output("branch", "--list", "task").isEmpty)
        try expectFsckClean(repo)
    }

    @Test(arguments: ["modified", "untracked", "staged"])
    func refusesToRemoveAWorktreeWithChanges(kind: String) throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wt")
        let worktree = try repository.addWorktree(at: path, branch: "task")
        let changed: String
        switch kind {
        case "modified":
            changed = "README.md"
            try "changed\n".write(toFile: path + "/README.md", atomically: true, encoding: .utf8)
        case "untracked":
            changed = "notes/new.txt"
            try FileManager.default.createDirectory(atPath: path + "/notes", withIntermediateDirectories: true)
            try "new\n".write(toFile: path + "/notes/new.txt", atomically: true, encoding: .utf8)
        default:
            changed = "staged.txt"
            try "s\n".write(toFile: path + "/staged.txt", atomically: true, encoding: .utf8)
            try Shell.git("add", "staged.txt", in: path)
        }
        let statusBefore = try Shell.git("status", "--porcelain", in: path).output
        #expect(!statusBefore.isEmpty)

        #expect(throws: WorktreeRemovalError.hasChanges(path: worktree.path, paths: [changed])) {
            try repository.removeWorktree(worktree)
        }
        #expect(try Shell.git("status", "--porcelain", in: path).output == statusBefore)
        #expect(adminEntries(repo) == ["wt"])
        #expect(try gitLinkedWorktrees(repo).map(\.branch) == ["refs/heads/task"])
        // git refuses too.
        #expect(try Shell.git("worktree", "remove", path, in: repo.path, check: false).status != 0)

        // Forced: gone.
        try repository.removeWorktree(worktree, force: true)
        #expect(!exists(path))
        #expect(try gitLinkedWorktrees(repo).isEmpty)
    }

    @Test func refusesToRemoveALockedWorktreeUnlessForced() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wt")
        let worktree = try repository.addWorktree(at: path, branch: "task")
        try worktree.lock(reason: "in use")
        let error = try #require(throws: WorktreeRemovalError.self) { try repository.removeWorktree(worktree) }
        #expect(error == .locked(path: worktree.path, reason: "in use"))
        #expect(error.localizedDescription.contains("in use"))
        #expect(exists(path + "/README.md"))
        #expect(try gitLinkedWorktrees(repo).first?.locked == "in use")

        try repository.removeWorktree(worktree, force: true)
        #expect(!exists(path))
        #expect(adminEntries(repo).isEmpty)
        #expect(try gitLinkedWorktrees(repo).isEmpty)
    }

    @Test func removesAWorktreeWhoseDirectoryIsAlreadyGone() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wt")
        let worktree = try repository.addWorktree(at: path, branch: "task")
        try FileManager.default.removeItem(atPath: path)
        try repository.removeWorktree(worktree)
        #expect(adminEntries(repo).isEmpty)
        #expect(try gitLinkedWorktrees(repo).isEmpty)
    }

    /// Worktrees made by `git worktree add` (relative `commondir`, `logs/HEAD`) are seen and
    /// handled like grove's own.
    /// Without a checkout, grove writes the admin entry itself (no scan that opens every other
    /// worktree): git must see the same worktree, and the same refusals must hold.
    @Test func aWorktreeAddedWithoutACheckoutIsGitsOwnAndRefusesABranchInUse() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox, branches: ["task", "other"])
        let first = sandbox.child("first")
        let worktree = try repository.addWorktree(at: first, branch: "task", lock: true, checkout: .none)
        #expect(worktree.isValid)
        #expect(try worktree.lockReason() == "")
        #expect(try worktree.openRepository().headBranchName() == "task")
        let listed = try repo.output("worktree", "list", "--porcelain")
        #expect(listed.contains("worktree \(canonicalPath(first))\nHEAD "))
        #expect(listed.contains("branch refs/heads/task\nlocked"))

        let second = sandbox.child("wts/second")
        let error = try #require(throws: GitError.self) {
            try repository.addWorktree(at: second, branch: "task", checkout: .none)
        }
        #expect(error.message.contains("checked out"))
        #expect(!exists(second))
        #expect(throws: GitError.self) {
            try repository.addWorktree(at: sandbox.child("third"), branch: "main", checkout: .none)
        }
        #expect(adminEntries(repo) == ["first"])
        _ = try repository.addWorktree(at: sandbox.child("fourth"), branch: "other", checkout: .none)
        #expect(adminEntries(repo) == ["first", "fourth"])
        try expectFsckClean(repo)
    }

    @Test func worktreesMadeByGitAreListedAndRemovable() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox, branches: ["mine"])
        let path = sandbox.child("by-git")
        try repo.git("worktree", "add", "-q", "-b", "theirs", path)
        _ = try repository.addWorktree(at: sandbox.child("by-grove"), branch: "mine")

        #expect(try repository.worktrees().map(\.name) == ["by-git", "by-grove"])
        let byGit = try #require(try repository.worktree(atPath: path))
        #expect(byGit.isValid)
        #expect(canonicalPath(byGit.path) == canonicalPath(path))
        #expect(try byGit.openRepository().headBranchName() == "theirs")
        // The branch git checked out there counts as checked out.
        #expect(throws: GitError.self) { try repository.addWorktree(at: sandbox.child("again"), branch: "theirs") }

        try repository.removeWorktree(byGit)
        #expect(!exists(path))
        #expect(try gitLinkedWorktrees(repo).map(\.branch) == ["refs/heads/mine"])
        try repository.deleteBranch(named: "theirs")
        try expectFsckClean(repo)
    }

    @Test func aWorktreePathOpensAsALinkedWorktree() throws {
        let sandbox = try Sandbox()
        let (repo, repository) = try repositoryWithBranch(sandbox)
        let path = sandbox.child("wt")
        let worktree = try repository.addWorktree(at: path, branch: "task")
        try FileManager.default.createDirectory(atPath: path + "/src/deep", withIntermediateDirectories: true)

        for opened in [
            try Repository.open(at: path), try Repository.open(at: path + "/src/deep"), try worktree.openRepository(),
        ] {
            #expect(opened.isLinkedWorktree)
            #expect(canonicalPath(try #require(opened.workingDirectory)) == canonicalPath(path))
            #expect(canonicalPath(opened.gitDirectory) == canonicalPath(repo.path + "/.git/worktrees/wt"))
            #expect(canonicalPath(opened.commonDirectory) == canonicalPath(repo.path + "/.git"))
            #expect(try opened.headBranchName() == "task")
        }
        #expect(!repository.isLinkedWorktree)
        // From inside the worktree, the same worktrees are listed.
        #expect(try Repository.open(at: path).worktrees().map(\.name) == ["wt"])
    }
}
