import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// What `grove clean` reads about worktrees and branches, checked against what the git CLI made.
@Suite("Worktree inspection")
struct WorktreeInspectionTests {
    let sandbox: Sandbox
    let repo: TestRepository

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository(files: ["README.md": "hello\n"])
    }

    @Test func headIsReadFromTheAdminEntryEvenWhenTheDirectoryIsGone() throws {
        try repo.git("worktree", "add", "-q", "-b", "feature", sandbox.child("feature"))
        try repo.git("worktree", "add", "-q", "--detach", sandbox.child("detached"))
        let main = try repo.revParse("main")
        let repository = try repo.open()

        let feature = try #require(try repository.worktree(named: "feature"))
        #expect(try feature.head() == .branch("feature", target: ObjectID(hex: main)))
        #expect(feature.directoryExists)
        let detached = try #require(try repository.worktree(named: "detached"))
        #expect(try detached.head() == .detached(try #require(ObjectID(hex: main))))
        #expect(try detached.head().branchName == nil)

        try FileManager.default.removeItem(atPath: sandbox.child("feature"))
        #expect(!feature.directoryExists)
        #expect(try feature.head().branchName == "feature")
        #expect(try feature.head().commit?.hex == main)
    }

    @Test func lastActivityFollowsCommitsNotJustCreation() throws {
        let path = sandbox.child("wt")
        try repo.git("worktree", "add", "-q", "-b", "wt", path)
        try Shell.run([
            "sh", "-c",
            "find '\(path)' '\(repo.path)/.git/worktrees/wt' '\(repo.path)/.git/logs/refs/heads/wt' '\(repo.path)/.git/refs/heads/wt' -exec touch -h -d '40 days ago' {} +",
        ])
        let repository = try repo.open()
        let worktree = try #require(try repository.worktree(named: "wt"))
        let old = try #require(worktree.lastActivity())
        #expect(Date().timeIntervalSince(old) > 39 * 86_400)

        try Shell.git("commit", "-q", "--allow-empty", "-m", "work", in: path)
        let fresh = try #require(worktree.lastActivity())
        #expect(Date().timeIntervalSince(fresh) < 3600)
    }

    @Test func countsCommitsNotHeldByHiddenCommitsOrRefs() throws {
        try repo.git("switch", "-q", "-c", "topic")
        try repo.commit("one", files: ["one.txt": "1\n"])
        let two = try repo.commit("two", files: ["two.txt": "2\n"])
        try repo.git("switch", "-q", "main")
        let repository = try repo.open()
        let tip = try #require(ObjectID(hex: two))
        let main = try #require(ObjectID(hex: try repo.revParse("main")))

        #expect(try repository.countCommits(from: tip, excluding: [main]) == 2)
        #expect(try repository.countCommits(from: tip, excluding: [main], limit: 1) == 1)
        #expect(try repository.countCommits(from: main, excluding: [tip]) == 0)
        // No remote-tracking refs yet: hiding them hides nothing.
        #expect(try repository.countCommits(from: tip, excluding: [main], excludingReferences: ["refs/remotes/*"]) == 2)
        // One commit on one remote branch, the other on another: together they hold both.
        try repo.git("update-ref", "refs/remotes/origin/a", "topic~1")
        try repo.git("update-ref", "refs/remotes/upstream/b", "topic")
        #expect(try repository.countCommits(from: tip, excluding: [main], excludingReferences: ["refs/remotes/*"]) == 0)
        #expect(try repository.countCommits(from: tip, excluding: [], excludingReferences: ["refs/heads/*"]) == 0)
    }

    @Test func aBranchWasCreatedWhereItsReflogBegins() throws {
        let start = try repo.revParse("main")
        try repo.git("branch", "topic")
        let repository = try repo.open()
        #expect(try repository.branchCreationCommit("topic")?.hex == start)
        try repo.git("switch", "-q", "topic")
        try repo.commit("more", files: ["more.txt": "x\n"])
        #expect(try repository.branchCreationCommit("topic")?.hex == start)
        // No reflog: unknown.
        try FileManager.default.removeItem(atPath: repo.path + "/.git/logs/refs/heads/topic")
        #expect(try repository.branchCreationCommit("topic") == nil)
    }

    @Test func upstreamNamesTheConfiguredRemoteBranch() throws {
        let repository = try repo.open()
        #expect(try repository.upstreamReferenceName(ofBranch: "main") == nil)
        try repo.git("update-ref", "refs/remotes/origin/main", "main")
        try repo.git("config", "branch.main.remote", "origin")
        try repo.git("config", "branch.main.merge", "refs/heads/main")
        try repo.git("remote", "add", "origin", sandbox.child("nowhere"))
        #expect(try repository.upstreamReferenceName(ofBranch: "main") == "refs/remotes/origin/main")
    }

    @Test func deletingABranchComparesItsTipAndDropsItsConfig() throws {
        try repo.git("branch", "topic")
        try repo.git("config", "branch.topic.remote", "origin")
        let repository = try repo.open()
        let tip = try #require(ObjectID(hex: try repo.revParse("topic")))

        // Moved since it was looked at: kept, and the error says where it is now.
        try repo.git("switch", "-q", "topic")
        let moved = try repo.commit("moved", files: ["m.txt": "m\n"])
        try repo.git("switch", "-q", "main")
        let error = try #require(throws: ReferenceMovedError.self) {
            try repository.deleteBranch(named: "topic", expecting: tip)
        }
        #expect(error.actual?.hex == moved)
        #expect(try repo.revParse("topic") == moved)

        try repository.deleteBranch(named: "topic", expecting: try #require(ObjectID(hex: moved)))
        #expect(try repo.git("branch", "--list", "topic").output.isEmpty)
        #expect(try Shell.run(["git", "-C", repo.path, "config", "branch.topic.remote"], check: false).status != 0)
        #expect(throws: ReferenceMovedError.self) {
            try repository.deleteBranch(named: "topic", expecting: tip)
        }
    }

    @Test func pruningOneEntryLeavesValidAndLockedOnesAlone() throws {
        for name in ["gone", "here", "held"] {
            try repo.git("worktree", "add", "-q", "-b", name, sandbox.child(name))
        }
        try repo.git("worktree", "lock", sandbox.child("held"))
        try FileManager.default.removeItem(atPath: sandbox.child("gone"))
        try FileManager.default.removeItem(atPath: sandbox.child("held"))
        let repository = try repo.open()

        #expect(try !repository.pruneWorktree(named: "here"))
        #expect(try !repository.pruneWorktree(named: "held"))
        #expect(try !repository.pruneWorktree(named: "nope"))
        #expect(try repository.pruneWorktree(named: "gone"))
        let listed = try repo.output("worktree", "list", "--porcelain")
        #expect(!listed.contains("/gone"))
        #expect(listed.contains("/here"))
        #expect(listed.contains("/held"))
        // The branch of a pruned worktree stays: pruning is about the entry only.
        #expect(try repo.revParse("gone") == repo.revParse("main"))
    }
}
