import Foundation
import GroveGit
import TestSupport
import Testing

/// In-memory rebases and merge predictions, checked against what `git rebase` and
/// `git merge-tree` do with the same commits.
@Suite struct RebaseAndMergeTests {
    static let committer = Signature(
        name: "Grove Bot", email: "bot@grove.test", time: Date(timeIntervalSince1970: 1_700_000_000),
        timeZoneOffset: 90)

    /// Twenty numbered lines: enough content for rename detection to pair a moved file.
    static let longText = (1...20).map { "line \($0)\n" }.joined()

    /// `main` with a.txt, b.txt, c.txt, old.txt; `task` branches off with three commits by three
    /// authors (adds new.txt; modifies a.txt; deletes b.txt and renames old.txt → renamed.txt);
    /// then `main` advances (modifies c.txt and old.txt, adds d.txt). HEAD stays on `main`.
    static func diverged(_ sandbox: Sandbox) throws -> TestRepository {
        let repo = try sandbox.repository(
            "repo",
            files: ["a.txt": "one\ntwo\nthree\n", "b.txt": "bee\n", "c.txt": "sea\n", "old.txt": longText])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.write(["new.txt": "brand new\n"])
        try commit(repo, "add new.txt", author: "Alice <alice@example.com>", date: "1600000000 +0200")
        try repo.write(["a.txt": "ONE\ntwo\nthree\n"])
        try commit(
            repo, "modify a.txt\n\nWith a body\nover two lines.", author: "Bob <bob@example.com>",
            date: "1600000100 -0500")
        try FileManager.default.removeItem(atPath: repo.path + "/b.txt")
        try repo.git("mv", "old.txt", "renamed.txt")
        try commit(repo, "delete b.txt, rename old.txt", author: "Carol <carol@example.com>", date: "1600000200 +0000")
        try repo.git("checkout", "-q", "main")
        try repo.commit(
            "main moves on",
            files: [
                "c.txt": "sea\nsalt\n", "d.txt": "dee\n",
                "old.txt": longText.replacingOccurrences(of: "line 20", with: "LINE 20"),
            ])
        return repo
    }

    static func commit(_ repo: TestRepository, _ message: String, author: String, date: String) throws {
        try repo.git("add", "-A")
        try Shell.run(
            ["git", "-C", repo.path, "commit", "-q", "--author", author, "-m", message],
            environment: ["GIT_AUTHOR_DATE": date])
    }

    /// A clone of `repo` where `git rebase` replays `branch` onto `onto` (any args, e.g.
    /// `["--onto", "origin/main", "origin/a"]`) on a branch `copy`. Returns the clone and git's exit status.
    static func gitRebase(
        _ repo: TestRepository, _ sandbox: Sandbox, branch: String, arguments: [String]
    ) throws -> (clone: String, status: Int32) {
        let clone = sandbox.child("git-rebase-" + UUID().uuidString.prefix(6))
        try Shell.run(["git", "clone", "-q", repo.path, clone])
        try Shell.git("checkout", "-q", "-b", "copy", "origin/" + branch, in: clone)
        let result = try Shell.run(["git", "-C", clone, "rebase", "-q"] + arguments, check: false)
        return (clone, result.status)
    }

    /// Everything a rebase must leave alone in `repo`: refs, status, index entries, tracked files.
    static func untouchedState(_ repo: TestRepository) throws -> [String] {
        let files = try repo.output("ls-files").split(separator: "\n").map { name in
            "\(name)=" + ((try? repo.read(String(name))) ?? "<missing>")
        }
        return [try repo.refs(), try repo.porcelainStatus(), try repo.output("ls-files", "--stage")] + files
    }

    static func id(_ hex: String) throws -> ObjectID { try #require(ObjectID(hex: hex)) }

    // MARK: rebaseInMemory

    @Test func rebaseReplaysLikeGitAndMovesNothing() throws {
        let sandbox = try Sandbox()
        let repo = try Self.diverged(sandbox)
        // A dirty working tree must survive untouched.
        try repo.write(["a.txt": "local edit\n", "untracked.txt": "u\n"])
        let before = try Self.untouchedState(repo)
        #expect(try repo.porcelainStatus() == " M a.txt\n?? untracked.txt")
        let originals = try repo.output("rev-list", "--reverse", "main..task").split(separator: "\n").map(String.init)
        #expect(originals.count == 3)
        let onto = try Self.id(repo.revParse("main"))

        let repository = try repo.open()
        let outcome = try repository.rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: onto, committer: Self.committer)
        guard case .rebased(let tip, let commits) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        #expect(commits.count == 3)
        #expect(commits.last == tip)
        #expect(try Self.untouchedState(repo) == before)

        // git rebase, in a clone, gives the same trees commit by commit.
        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(git.status == 0)
        let gitCommits = try Shell.git("rev-list", "--reverse", "origin/main..HEAD", in: git.clone).lines
        #expect(gitCommits.count == commits.count)
        for (ours, theirs) in zip(commits, gitCommits) {
            let gitTree = try Shell.git("rev-parse", theirs + "^{tree}", in: git.clone).output
            #expect(try repository.commit(ours).tree.hex == gitTree)
        }
        #expect(try repo.output("ls-tree", "-r", "--name-only", tip.hex) == "a.txt\nc.txt\nd.txt\nnew.txt\nrenamed.txt")
        // The rename carried main's edit of old.txt along.
        #expect(try repo.output("show", tip.hex + ":renamed.txt").contains("LINE 20"))

        // Parents chain onto `onto`; authors, author dates and messages kept, in order.
        var parent = onto
        for (new, original) in zip(commits, originals) {
            let rebased = try repository.commit(new)
            #expect(rebased.parents == [parent])
            parent = new
            let format = "--format=%an <%ae> %at %ad%n%B"
            #expect(
                try repo.output("show", "-s", format, "--date=raw", new.hex)
                    == repo.output("show", "-s", format, "--date=raw", original))
            #expect(rebased.committer.name == "Grove Bot")
            #expect(rebased.committer.email == "bot@grove.test")
            #expect(
                try repo.output("show", "-s", "--format=%cn <%ce> %ct %ci", new.hex)
                    == "Grove Bot <bot@grove.test> 1700000000 2023-11-14 23:43:20 +0130")
        }
        #expect(try repo.output("log", "--format=%an", "main.." + tip.hex) == "Carol\nBob\nAlice")
        #expect(try repo.output("fsck", "--no-progress", "--no-dangling").isEmpty)
    }

    @Test func rebaseInABareRepositoryGivesTheSameTrees() throws {
        let sandbox = try Sandbox()
        let repo = try Self.diverged(sandbox)
        let barePath = sandbox.child("central.git")
        try Shell.run(["git", "clone", "-q", "--bare", repo.path, barePath])
        let bare = try Repository.open(at: barePath)
        let refsBefore = try Shell.git("for-each-ref", in: barePath).output

        let outcome = try bare.rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: try Self.id(repo.revParse("main")), committer: Self.committer)
        guard case .rebased(let tip, _) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(try bare.commit(tip).tree.hex == Shell.git("rev-parse", "HEAD^{tree}", in: git.clone).output)
        #expect(try Shell.git("for-each-ref", in: barePath).output == refsBefore)
    }

    @Test func rebaseWithoutACommitterUsesTheConfiguredIdentity() throws {
        let sandbox = try Sandbox()
        let repo = try Self.diverged(sandbox)
        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: try Self.id(repo.revParse("main")))
        guard case .rebased(let tip, _) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        // TestRepository sets user.name/user.email in the repository's config.
        #expect(try repo.output("show", "-s", "--format=%cn <%ce>", tip.hex) == "Test User <test@example.com>")
    }

    @Test func rebaseOntoWithAnUpstreamReplaysOnlyTheStackedCommits() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["base.txt": "base\n"])
        try repo.git("checkout", "-q", "-b", "first")
        try repo.commit("first change", files: ["first.txt": "1\n"])
        try repo.git("checkout", "-q", "-b", "second")
        try repo.commit("second change", files: ["second.txt": "2\n"])
        try repo.commit("second again", files: ["second.txt": "2\n2\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("main moves", files: ["main.txt": "m\n"])

        // `git rebase --onto main first second`: first's commit stays behind.
        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("second")), onto: try Self.id(repo.revParse("main")),
            upstream: try Self.id(repo.revParse("first")), committer: Self.committer)
        guard case .rebased(let tip, let commits) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        #expect(commits.count == 2)
        let git = try Self.gitRebase(
            repo, sandbox, branch: "second", arguments: ["--onto", "origin/main", "origin/first"])
        #expect(git.status == 0)
        #expect(
            try repo.output("rev-parse", tip.hex + "^{tree}")
                == Shell.git("rev-parse", "HEAD^{tree}", in: git.clone).output)
        #expect(try repo.output("log", "--format=%s", "main.." + tip.hex) == "second again\nsecond change")
    }

    @Test func rebaseStopsAtAConflictLikeGit() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "one\ntwo\nthree\n", "b.txt": "bee\n"])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit("clean first", files: ["new.txt": "new\n"])
        let conflicting = try repo.commit("edit line two", files: ["a.txt": "one\nTASK\nthree\n"])
        try repo.commit("after", files: ["later.txt": "later\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("main edits line two", files: ["a.txt": "one\nMAIN\nthree\n"])
        let before = try Self.untouchedState(repo)

        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: try Self.id(repo.revParse("main")), committer: Self.committer)

        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(git.status != 0)
        let gitPaths = try Shell.git("diff", "--name-only", "--diff-filter=U", in: git.clone).lines
        let gitStop = try Shell.git("rev-parse", "REBASE_HEAD", in: git.clone).output
        try Shell.git("rebase", "--abort", in: git.clone)
        #expect(gitPaths == ["a.txt"])
        #expect(gitStop == conflicting)
        #expect(outcome == .conflict(commit: try Self.id(gitStop), paths: gitPaths))
        #expect(try Self.untouchedState(repo) == before)
    }

    @Test func rebaseConflictNamesEveryConflictingFile() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n"])
        try repo.git("checkout", "-q", "-b", "task")
        let conflicting = try repo.commit(
            "task edits", files: ["a.txt": "task a\n", "b.txt": "task b\n", "c.txt": "task c\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("main edits", files: ["a.txt": "main a\n", "b.txt": "main b\n"])
        let before = try Self.untouchedState(repo)

        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: try Self.id(repo.revParse("main")), committer: Self.committer)

        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        let gitPaths = try Shell.git("diff", "--name-only", "--diff-filter=U", in: git.clone).lines
        try Shell.git("rebase", "--abort", in: git.clone)
        #expect(gitPaths == ["a.txt", "b.txt"])
        #expect(outcome == .conflict(commit: try Self.id(conflicting), paths: gitPaths))
        #expect(try Self.untouchedState(repo) == before)
    }

    @Test func rebaseConflictsOnDeletesRenamesAndAdds() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["gone.txt": "gone\n", "old.txt": Self.longText])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.write(["gone.txt": "task keeps editing\n", "both.txt": "task's version\n"])
        try repo.git("mv", "old.txt", "task-name.txt")
        try repo.commit("task: modify, add, rename")
        try repo.git("checkout", "-q", "main")
        try FileManager.default.removeItem(atPath: repo.path + "/gone.txt")
        try repo.write(["both.txt": "main's version\n"])
        try repo.git("mv", "old.txt", "main-name.txt")
        try repo.commit("main: delete, add, rename")

        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: try Self.id(repo.revParse("main")), committer: Self.committer)

        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        let gitPaths = try Shell.git("diff", "--name-only", "--diff-filter=U", in: git.clone).lines
        try Shell.git("rebase", "--abort", in: git.clone)
        // modify/delete, add/add, and rename/rename (both new names and the old one).
        #expect(gitPaths == ["both.txt", "gone.txt", "main-name.txt", "old.txt", "task-name.txt"])
        guard case .conflict(_, let paths) = outcome else {
            Issue.record("expected a conflict, got \(outcome)")
            return
        }
        #expect(paths == gitPaths)
    }

    @Test func rebaseDropsChangesAlreadyInTheBase() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "one\ntwo\n"])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit("task change", files: ["a.txt": "ONE\ntwo\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("same change, other message", files: ["a.txt": "ONE\ntwo\n"])
        let before = try Self.untouchedState(repo)
        let onto = try Self.id(repo.revParse("main"))

        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: onto, committer: Self.committer)
        #expect(outcome == .rebased(tip: onto, commits: []))
        #expect(try Self.untouchedState(repo) == before)

        // git drops it too: the rebased branch is main itself.
        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(git.status == 0)
        #expect(try Shell.git("rev-parse", "HEAD", in: git.clone).output == onto.hex)
    }

    @Test func rebaseKeepsTheCommitsNotYetInTheBase() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "one\ntwo\n"])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit("task change", files: ["a.txt": "ONE\ntwo\n"])
        try repo.commit("task only", files: ["t.txt": "t\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("cherry-picked", files: ["a.txt": "ONE\ntwo\n"])

        let outcome = try repo.open().rebaseInMemory(
            try Self.id(repo.revParse("task")), onto: try Self.id(repo.revParse("main")), committer: Self.committer)
        guard case .rebased(let tip, let commits) = outcome else {
            Issue.record("expected a clean rebase, got \(outcome)")
            return
        }
        #expect(commits.count == 1)
        let git = try Self.gitRebase(repo, sandbox, branch: "task", arguments: ["origin/main"])
        #expect(try Shell.git("rev-list", "--count", "origin/main..HEAD", in: git.clone).output == "1")
        #expect(
            try repo.output("rev-parse", tip.hex + "^{tree}")
                == Shell.git("rev-parse", "HEAD^{tree}", in: git.clone).output)
    }

    @Test func rebaseOfABranchAlreadyOnTopIsANoOp() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let main = try Self.id(repo.revParse("main"))
        let outcome = try repo.open().rebaseInMemory(main, onto: main, committer: Self.committer)
        #expect(outcome == .rebased(tip: main, commits: []))
    }

    // MARK: predictMerge

    /// `git merge-tree --write-tree --name-only ours theirs` → nil when clean, else the paths.
    /// Run in a clone, because merge-tree writes tree objects.
    static func gitMergeTree(_ repo: TestRepository, _ sandbox: Sandbox, _ ours: String, _ theirs: String) throws
        -> [String]?
    {
        let clone = sandbox.child("merge-tree-" + UUID().uuidString.prefix(6))
        try Shell.run(["git", "clone", "-q", "--bare", repo.path, clone])
        let result = try Shell.run(
            ["git", "-C", clone, "merge-tree", "--write-tree", "--name-only", ours, theirs], check: false)
        switch result.status {
        case 0: return nil
        case 1:
            // Line 1 is the tree; then the conflicted names up to a blank line; then messages.
            return Array(result.stdout.components(separatedBy: "\n").dropFirst().prefix { !$0.isEmpty })
        default:
            Issue.record("git merge-tree failed: \(result.stderr)")
            return nil
        }
    }

    /// Loose and packed object counts, to prove nothing was written.
    static func objectCounts(_ repo: TestRepository) throws -> String {
        try repo.output("count-objects", "-v").split(separator: "\n")
            .filter { $0.hasPrefix("count:") || $0.hasPrefix("in-pack:") }.joined(separator: " ")
    }

    @Test func predictMergeCleanAgreesWithMergeTree() throws {
        let sandbox = try Sandbox()
        let repo = try Self.diverged(sandbox)
        try repo.write(["dirty.txt": "x\n"])
        let before = try Self.untouchedState(repo)
        let objects = try Self.objectCounts(repo)

        let prediction = try repo.open().predictMerge(
            try Self.id(repo.revParse("main")), try Self.id(repo.revParse("task")))
        #expect(prediction == .clean)
        #expect(try Self.untouchedState(repo) == before)
        #expect(try Self.objectCounts(repo) == objects)
        #expect(try Self.gitMergeTree(repo, sandbox, "main", "task") == nil)
    }

    @Test func predictMergeConflictsAgreeWithMergeTree() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "gone.txt": "g\n"])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit(
            "task", files: ["a.txt": "task a\n", "b.txt": "task b\n", "gone.txt": "edited\n", "new.txt": "t\n"])
        try repo.git("checkout", "-q", "main")
        try FileManager.default.removeItem(atPath: repo.path + "/gone.txt")
        try repo.commit("main", files: ["a.txt": "main a\n", "c.txt": "main c\n", "new.txt": "m\n"])
        let before = try Self.untouchedState(repo)
        let objects = try Self.objectCounts(repo)

        let prediction = try repo.open().predictMerge(
            try Self.id(repo.revParse("main")), try Self.id(repo.revParse("task")))
        #expect(try Self.untouchedState(repo) == before)
        #expect(try Self.objectCounts(repo) == objects)
        let git = try #require(try Self.gitMergeTree(repo, sandbox, "main", "task"))
        #expect(git == ["a.txt", "gone.txt", "new.txt"])
        #expect(prediction == .conflicts(git))
    }

    @Test func predictMergeOfRelatedCommitsIsClean() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        let first = try Self.id(repo.revParse("HEAD"))
        let second = try Self.id(repo.commit("second", files: ["README.md": "changed\n"]))
        let repository = try repo.open()
        // Already merged / fast-forward: nothing can conflict.
        #expect(try repository.predictMerge(second, first) == .clean)
        #expect(try repository.predictMerge(first, second) == .clean)
        #expect(try repository.predictMerge(first, first) == .clean)
        #expect(try Self.gitMergeTree(repo, sandbox, first.hex, second.hex) == nil)
    }

    /// Criss-cross history: two merge bases, so a virtual base has to be merged first.
    @Test func predictMergeWithTwoMergeBasesAgreesWithMergeTree() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n", "b.txt": "b\n"])
        try repo.git("branch", "side")
        try repo.commit("main 1", files: ["a.txt": "main a\n"])
        try repo.git("checkout", "-q", "side")
        try repo.commit("side 1", files: ["b.txt": "side b\n"])
        // Each merge also adds a file, so the virtual base's tree exists nowhere yet.
        try repo.git("merge", "-q", "--no-commit", "main")  // side gets main 1
        try repo.commit("merge main into side", files: ["s.txt": "s\n"])
        try repo.git("checkout", "-q", "main")
        try repo.git("merge", "-q", "--no-commit", "side~1")  // main gets side 1
        try repo.commit("merge side into main", files: ["m.txt": "m\n"])
        try repo.commit("main 2", files: ["a.txt": "main a again\n"])
        try repo.git("checkout", "-q", "side")
        try repo.commit("side 2", files: ["a.txt": "side a\n"])
        try repo.git("checkout", "-q", "main")
        #expect(try repo.output("merge-base", "--all", "main", "side").split(separator: "\n").count == 2)
        let refs = try repo.refs()
        let objects = try Self.objectCounts(repo)

        let prediction = try repo.open().predictMerge(
            try Self.id(repo.revParse("main")), try Self.id(repo.revParse("side")))
        #expect(try repo.refs() == refs)
        #expect(try repo.porcelainStatus().isEmpty)
        #expect(try Self.objectCounts(repo) == objects)
        let git = try Self.gitMergeTree(repo, sandbox, "main", "side")
        #expect(git == ["a.txt"])
        #expect(prediction == .conflicts(git ?? []))
    }
}
