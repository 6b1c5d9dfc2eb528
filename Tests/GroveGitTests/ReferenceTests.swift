import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// References and branches, each answer cross-checked with the git CLI on a real repository.
@Suite struct ReferenceTests {
    // MARK: HEAD and branch resolution

    @Test func headAndBranchesAgreeWithGit() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.commit("second", files: ["a.txt": "a\n"])
        try repo.git("branch", "grove/1/task", "HEAD~1")
        try repo.git("branch", "feature")
        try repo.git("tag", "-a", "v1", "-m", "version one", "HEAD~1")
        let repository = try repo.open()

        #expect(try repository.headBranchName() == repo.output("symbolic-ref", "--short", "HEAD"))
        #expect(try repository.headCommit()?.hex == repo.revParse("HEAD"))

        let head = try #require(try repository.reference(named: "HEAD"))
        #expect(head.name == "HEAD")
        #expect(head.symbolicTarget == (try repo.output("symbolic-ref", "HEAD")))
        #expect(head.target?.hex == (try repo.revParse("HEAD")))

        let main = try #require(try repository.reference(named: "refs/heads/main"))
        #expect(main.symbolicTarget == nil)
        #expect(main.target?.hex == (try repo.revParse("refs/heads/main")))
        #expect(try repository.reference(named: "refs/heads/nope") == nil)

        // A branch with slashes resolves by its short name.
        let task = try #require(try repository.branch(named: "grove/1/task"))
        #expect(task.target.hex == (try repo.revParse("grove/1/task")))
        #expect(task.referenceName == "refs/heads/grove/1/task")
        #expect(try repository.branch(named: "nope") == nil)

        let expected = try repo.output(
            "for-each-ref", "--sort=refname", "--format=%(refname:short) %(objectname)", "refs/heads")
        let actual = try repository.branches().map { "\($0.name) \($0.target.hex)" }.joined(separator: "\n")
        #expect(actual == expected)
    }

    @Test func headOnDetachedAndUnbornRepositories() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.commit("second")
        try repo.git("checkout", "-q", "--detach", "HEAD~1")
        let repository = try repo.open()
        // `git symbolic-ref -q HEAD` fails on a detached HEAD: no branch.
        #expect(try repo.gitUnchecked("symbolic-ref", "-q", "HEAD").status != 0)
        #expect(try repository.headBranchName() == nil)
        #expect(try repository.headCommit()?.hex == repo.revParse("HEAD"))

        let empty = try sandbox.repository("empty", files: [:])
        let unborn = try empty.open()
        #expect(try unborn.headBranchName() == empty.output("symbolic-ref", "--short", "HEAD"))
        #expect(try unborn.headCommit() == nil)
        #expect(try unborn.branches().isEmpty)
        let head = try #require(try unborn.reference(named: "HEAD"))
        #expect(head.target == nil)
        #expect(head.symbolicTarget == "refs/heads/main")
    }

    @Test func resolveCommitAgreesWithRevParse() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.commit("second", files: ["a.txt": "a\n"])
        try repo.commit("third", files: ["b.txt": "b\n"])
        try repo.git("tag", "-a", "v1", "-m", "annotated", "HEAD~1")
        try repo.git("tag", "light", "HEAD~2")
        let repository = try repo.open()
        let head = try repo.revParse("HEAD")
        for revision in ["main", "HEAD", "HEAD~2", "main^", "v1", "light", head, String(head.prefix(10))] {
            // `^{commit}` peels an annotated tag to its commit, as resolveCommit does.
            #expect(try repository.resolveCommit(revision).hex == repo.revParse(revision + "^{commit}"), "\(revision)")
        }
        #expect(throws: GitError.self) { try repository.resolveCommit("no-such-branch") }
        #expect(throws: GitError.self) { try repository.resolveCommit("HEAD~9") }
        // A tree is not a commit.
        #expect(throws: GitError.self) { try repository.resolveCommit("HEAD^{tree}") }
    }

    // MARK: defaultBranch

    @Test func defaultBranchFollowsHeadOnANonMainBranch() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.git("checkout", "-q", "-b", "trunk")
        let repository = try repo.open()
        #expect(try repository.defaultBranch() == "trunk")
        #expect(try repo.output("symbolic-ref", "--short", "HEAD") == "trunk")
    }

    @Test func defaultBranchOfBareClones() throws {
        let sandbox = try Sandbox()
        let source = try sandbox.repository("source")
        try source.git("checkout", "-q", "-b", "develop")
        try source.commit("on develop")

        // A bare clone made by git: HEAD names the source's current branch.
        try Shell.run(["git", "clone", "-q", "--bare", source.path, sandbox.child("git-bare.git")])
        let gitBare = try Repository.open(at: sandbox.child("git-bare.git"))
        #expect(gitBare.isBare)
        let gitAnswer = try Shell.git("symbolic-ref", "--short", "HEAD", in: sandbox.child("git-bare.git")).output
        #expect(gitAnswer == "develop")
        #expect(try gitBare.defaultBranch() == gitAnswer)

        // A bare clone made by GroveGit.
        let groveBare = try Repository.clone(from: source.path, to: sandbox.child("grove-bare.git"), bare: true)
        #expect(try groveBare.defaultBranch() == "develop")
        #expect(
            try Shell.git("symbolic-ref", "--short", "HEAD", in: sandbox.child("grove-bare.git")).output == "develop")
    }

    @Test func defaultBranchOfADetachedCloneUsesOriginHead() throws {
        let sandbox = try Sandbox()
        let source = try sandbox.repository("source")
        try source.git("branch", "-m", "trunk")
        try Shell.run(["git", "clone", "-q", source.path, sandbox.child("clone")])
        try Shell.git("checkout", "-q", "--detach", "HEAD", in: sandbox.child("clone"))
        let clone = try Repository.open(at: sandbox.child("clone"))
        #expect(try clone.headBranchName() == nil)
        let originHead = try Shell.git(
            "symbolic-ref", "--short", "refs/remotes/origin/HEAD", in: sandbox.child("clone"))
        #expect(originHead.output == "origin/trunk")
        #expect(try clone.defaultBranch() == "trunk")

        // Without origin/HEAD there is nothing to go by.
        try Shell.git("remote", "set-head", "origin", "--delete", in: sandbox.child("clone"))
        #expect(try clone.defaultBranch() == nil)
    }

    // MARK: Branch names

    /// Good and bad names; the verdict comes from `git check-ref-format --branch` (git 2.39).
    static let branchNames: [String] = [
        // valid
        "main", "feature/x", "grove/1/task", "a@b", "@", "a@", "héllo", "🌳", "ünïcødé/zweig",
        "refs/heads/x", "refs/heads/main", "x/HEAD", "HEAD/x", "a.lock.b", "a/-b", "a}b", "{", "a%b",
        "a!b", "a#b", "a\"b", "a,b", "a;b", "a=b", "a|b", "a<b", "a>b", "a$b", "a&b",
        // invalid
        "", "HEAD", "-x", "-", "a..b", "..", ".", "a/..", "a/./b", "x.lock", "a/b.lock", "x.lock/y",
        "a b", "a ", "a\tb", "a\nb", "\u{1}", "a\u{7f}b", "a~", "a^b", "a:b", "a?b", "a*b", "a[b",
        "a\\b", "a@{b", "@{-1}", "a@{-1}", "a.", "a/b.", ".a", "a/.b", "a/", "/a", "a//b",
    ]

    @Test(arguments: branchNames)
    func isValidBranchNameAgreesWithGit(name: String) throws {
        let sandbox = try Sandbox()
        // Outside any repository, so git cannot expand `@{-1}`-style names against one.
        let git = try Shell.run(["git", "check-ref-format", "--branch", name], in: sandbox.path, check: false)
        #expect(Repository.isValidBranchName(name) == (git.status == 0), "git said \(git.status) \(git.stderr)")
    }

    /// The one place libgit2 1.5.1 and git 2.39 differ in the table: libgit2 takes DEL (0x7f)
    /// in a ref name, git does not and then hides the branch. isValidBranchName follows git.
    @Test func aBranchNameWithDELIsCreatedByLibgit2ButIgnoredByGit() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let repository = try repo.open()
        let head = try #require(try repository.headCommit())
        let name = "a\u{7f}b"
        #expect(Repository.isValidBranchName(name) == false)
        try repository.createBranch(named: name, at: head)  // libgit2 itself accepts it
        #expect(FileManager.default.fileExists(atPath: repo.path + "/.git/refs/heads/" + name))
        let listed = try repo.gitUnchecked("for-each-ref", "--format=%(refname)", "refs/heads")
        #expect(listed.output == "refs/heads/main")
        #expect(listed.stderr.contains("ignoring ref with broken name"))
    }

    // MARK: Creating and deleting branches

    @Test func createBranchAtACommit() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try repo.revParse("HEAD")
        try repo.commit("second")
        let repository = try repo.open()
        let firstID = try #require(ObjectID(hex: first))

        let branch = try repository.createBranch(named: "grove/7/fix", at: firstID)
        #expect(branch.name == "grove/7/fix")
        #expect(branch.target == firstID)
        #expect(try repo.revParse("refs/heads/grove/7/fix") == first)

        // Already there: an error, and the branch stays where it was.
        let head = try #require(try repository.headCommit())
        #expect(throws: GitError.self) { try repository.createBranch(named: "grove/7/fix", at: head) }
        #expect(try repo.revParse("refs/heads/grove/7/fix") == first)
        // The checked-out branch is no exception.
        #expect(throws: GitError.self) { try repository.createBranch(named: "main", at: firstID) }
        #expect(try repo.revParse("main") == head.hex)
        // An invalid name is refused and creates nothing.
        #expect(throws: GitError.self) { try repository.createBranch(named: "bad..name", at: head) }
        #expect(
            try repo.output("for-each-ref", "--format=%(refname)", "refs/heads")
                == "refs/heads/grove/7/fix\nrefs/heads/main")
    }

    @Test func deleteBranch() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.git("branch", "done")
        try repo.git("config", "branch.done.remote", "origin")
        let repository = try repo.open()

        try repository.deleteBranch(named: "done")
        #expect(try repo.gitUnchecked("rev-parse", "--verify", "-q", "refs/heads/done").status != 0)
        // git_branch_delete also drops the branch's config section.
        #expect(try repo.gitUnchecked("config", "--get", "branch.done.remote").status != 0)

        // Missing branch: not found.
        let error = try #require(throws: GitError.self) { try repository.deleteBranch(named: "done") }
        #expect(error.isNotFound)
        // The main worktree's own HEAD branch is refused.
        #expect(throws: GitError.self) { try repository.deleteBranch(named: "main") }
        #expect(try repo.gitUnchecked("rev-parse", "--verify", "-q", "refs/heads/main").status == 0)
    }

    @Test func deleteBranchRefusesWhileCheckedOutInALinkedWorktree() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.git("worktree", "add", "-q", "-b", "busy", sandbox.child("wt"))
        let tip = try repo.revParse("refs/heads/busy")
        let repository = try repo.open()

        let error = try #require(throws: GitError.self) { try repository.deleteBranch(named: "busy") }
        #expect(
            error.message.contains("busy") || error.message.contains("checked out") || error.message.contains("HEAD"))
        #expect(try repo.revParse("refs/heads/busy") == tip)
        // git refuses too.
        #expect(try repo.gitUnchecked("branch", "-d", "busy").status != 0)

        // Once the worktree is gone the branch can go.
        try repo.git("worktree", "remove", sandbox.child("wt"))
        try repository.deleteBranch(named: "busy")
        #expect(try repo.gitUnchecked("rev-parse", "--verify", "-q", "refs/heads/busy").status != 0)
    }

    // MARK: Compare-and-swap

    @Test func updateReferenceWithAStaleExpectationChangesNothing() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        let second = try #require(ObjectID(hex: try repo.commit("second")))
        let third = try #require(ObjectID(hex: try repo.commit("third")))
        try repo.git("branch", "x", second.hex)
        let repository = try repo.open()
        let reflogBefore = try repo.output("reflog", "show", "refs/heads/x", "--format=%H %gs")

        let error = try #require(throws: ReferenceMovedError.self) {
            try repository.updateReference(named: "refs/heads/x", to: third, expecting: first, message: "stale")
        }
        #expect(error == ReferenceMovedError(reference: "refs/heads/x", expected: first, actual: second))
        #expect(error.errorDescription?.contains(first.short) == true)
        #expect(error.errorDescription?.contains(second.short) == true)
        #expect(try repo.revParse("refs/heads/x") == second.hex)
        #expect(try repo.output("reflog", "show", "refs/heads/x", "--format=%H %gs") == reflogBefore)

        // Expecting a ref that does not exist: also a lost race (it was deleted), nothing created.
        let missing = try #require(throws: ReferenceMovedError.self) {
            try repository.updateReference(named: "refs/heads/gone", to: third, expecting: first, message: "m")
        }
        #expect(missing == ReferenceMovedError(reference: "refs/heads/gone", expected: first, actual: nil))
        #expect(try repo.gitUnchecked("rev-parse", "--verify", "-q", "refs/heads/gone").status != 0)
    }

    @Test func updateReferenceWithTheRightExpectationMovesAndLogs() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        let second = try #require(ObjectID(hex: try repo.commit("second")))
        try repo.git("branch", "x", first.hex)
        let repository = try repo.open()

        try repository.updateReference(
            named: "refs/heads/x", to: second, expecting: first, message: "grove: move x to second")
        #expect(try repo.revParse("refs/heads/x") == second.hex)
        #expect(try repo.output("reflog", "show", "refs/heads/x", "-1", "--format=%gs") == "grove: move x to second")
        #expect(try repo.output("reflog", "show", "refs/heads/x", "-1", "--format=%H") == second.hex)
        // Moving backwards is allowed too (it is a CAS, not a fast-forward check).
        try repository.updateReference(named: "refs/heads/x", to: first, expecting: second, message: "back")
        #expect(try repo.revParse("refs/heads/x") == first.hex)
        #expect(try repo.output("fsck", "--no-progress").isEmpty)
    }

    @Test func updateReferenceExpectingNothingCreatesOnlyWhenAbsent() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        let second = try #require(ObjectID(hex: try repo.commit("second")))
        let repository = try repo.open()

        try repository.updateReference(named: "refs/heads/new", to: first, expecting: nil, message: "grove: create")
        #expect(try repo.revParse("refs/heads/new") == first.hex)
        #expect(try repo.output("reflog", "show", "refs/heads/new", "-1", "--format=%gs") == "grove: create")

        let error = try #require(throws: ReferenceMovedError.self) {
            try repository.updateReference(named: "refs/heads/new", to: second, expecting: nil, message: "again")
        }
        #expect(error == ReferenceMovedError(reference: "refs/heads/new", expected: nil, actual: first))
        #expect(try repo.revParse("refs/heads/new") == first.hex)
    }

    @Test func updateReferenceWaitsOutAShortLockAndGivesUpOnAStuckOne() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        let second = try #require(ObjectID(hex: try repo.commit("second")))
        try repo.git("branch", "x", first.hex)
        let lock = repo.path + "/.git/refs/heads/x.lock"
        let repository = try repo.open()

        // A lock held forever (a crashed writer): a GitError saying so, the ref unchanged.
        #expect(FileManager.default.createFile(atPath: lock, contents: Data()))
        let stuck = try #require(throws: GitError.self) {
            try repository.updateReference(named: "refs/heads/x", to: second, expecting: first, message: "m")
        }
        #expect(stuck.isLocked)
        #expect(try repo.revParse("refs/heads/x") == first.hex)

        // A lock released after a moment: the update goes through.
        let released = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
            try? FileManager.default.removeItem(atPath: lock)
            released.signal()
        }
        try repository.updateReference(named: "refs/heads/x", to: second, expecting: first, message: "m")
        released.wait()
        #expect(try repo.revParse("refs/heads/x") == second.hex)
    }

    @Test func deleteReferenceCompareAndSwap() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        let second = try #require(ObjectID(hex: try repo.commit("second")))
        try repo.git("branch", "x", second.hex)
        let repository = try repo.open()

        let stale = try #require(throws: ReferenceMovedError.self) {
            try repository.deleteReference(named: "refs/heads/x", expecting: first)
        }
        #expect(stale == ReferenceMovedError(reference: "refs/heads/x", expected: first, actual: second))
        #expect(try repo.revParse("refs/heads/x") == second.hex)

        try repository.deleteReference(named: "refs/heads/x", expecting: second)
        #expect(try repo.gitUnchecked("rev-parse", "--verify", "-q", "refs/heads/x").status != 0)

        // Already gone: the caller's picture is stale.
        let gone = try #require(throws: ReferenceMovedError.self) {
            try repository.deleteReference(named: "refs/heads/x", expecting: second)
        }
        #expect(gone == ReferenceMovedError(reference: "refs/heads/x", expected: second, actual: nil))
        #expect(gone.errorDescription?.contains("deleted") == true)
    }

    @Test func deleteReferenceOfAPackedRef() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let tip = try #require(ObjectID(hex: try repo.revParse("HEAD")))
        try repo.git("branch", "packed")
        try repo.git("pack-refs", "--all")
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/.git/refs/heads/packed"))
        let repository = try repo.open()
        try repository.deleteReference(named: "refs/heads/packed", expecting: tip)
        #expect(try repo.gitUnchecked("rev-parse", "--verify", "-q", "refs/heads/packed").status != 0)
        #expect(try repo.revParse("refs/heads/main") == tip.hex)
    }
}

extension TestRepository {
    /// Runs git here and returns its result even when it fails (for exit-status checks).
    fileprivate func gitUnchecked(_ arguments: String...) throws -> ProcessResult {
        try Shell.run(["git", "-C", path] + arguments, check: false)
    }
}
