import Foundation
import GroveGit
import TestSupport
import Testing

/// Changed paths and commit-graph questions, against `git diff`, `git merge-base` and `git rev-list`.
@Suite struct DiffAndGraphTests {
    static let longText = (1...20).map { "line \($0)\n" }.joined()
    static let otherText = (1...20).map { "row \($0)\n" }.joined()

    static func id(_ hex: String) throws -> ObjectID { try #require(ObjectID(hex: hex)) }

    /// `git diff --name-status`'s line for one changed path (scores dropped: `R100` → `R`).
    static func nameStatus(_ path: ChangedPath) -> String {
        switch path.change {
        case .added: return "A\t\(path.path)"
        case .deleted: return "D\t\(path.path)"
        case .modified: return "M\t\(path.path)"
        case .typeChanged: return "T\t\(path.path)"
        case .renamed: return "R\t\(path.oldPath ?? "?")\t\(path.path)"
        case .copied: return "C\t\(path.oldPath ?? "?")\t\(path.path)"
        }
    }

    /// git's `--name-status` output with similarity scores dropped, sorted.
    static func gitNameStatus(_ repo: TestRepository, _ arguments: String...) throws -> [String] {
        try Shell.run(["git", "-C", repo.path, "diff", "--name-status"] + arguments).lines.map { line in
            var fields = line.components(separatedBy: "\t")
            fields[0] = String(fields[0].prefix(1))
            return fields.joined(separator: "\t")
        }.sorted()
    }

    // MARK: changedPaths

    @Test func changedPathsAgreeWithGitDiffNameStatus() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(
            files: [
                "keep.txt": "keep\n", "modify.txt": "before\n", "delete.txt": "bye\n", "move.txt": Self.longText,
                "edit-and-move.txt": Self.otherText, "dir/nested.txt": "n\n",
            ])
        let from = try repo.revParse("HEAD")
        try repo.write(["modify.txt": "after\n", "added.txt": "hi\n", "dir/deeper/new.txt": "deep\n"])
        try FileManager.default.removeItem(atPath: repo.path + "/delete.txt")
        try repo.git("mv", "move.txt", "moved.txt")
        try repo.git("mv", "edit-and-move.txt", "dir/edited.txt")
        try repo.write(["dir/edited.txt": Self.otherText.replacingOccurrences(of: "row 3\n", with: "ROW THREE\n")])
        let to = try repo.commit("all kinds of change")

        let changes = try repo.open().changedPaths(from: Self.id(from), to: Self.id(to))
        let expected = try Self.gitNameStatus(repo, "-M", from, to)
        #expect(changes.map(Self.nameStatus).sorted() == expected)
        // Spelled out, so the test does not depend on git alone.
        #expect(
            expected == [
                "A\tadded.txt", "A\tdir/deeper/new.txt", "D\tdelete.txt", "M\tmodify.txt",
                "R\tedit-and-move.txt\tdir/edited.txt", "R\tmove.txt\tmoved.txt",
            ])
        let renamed = try #require(changes.first { $0.path == "moved.txt" })
        #expect(renamed.oldPath == "move.txt")
        #expect(changes.allSatisfy { ($0.oldPath != nil) == ($0.change == .renamed || $0.change == .copied) })

        // The other direction swaps adds and deletes, and the renames.
        let reverse = try repo.open().changedPaths(from: Self.id(to), to: Self.id(from))
        #expect(reverse.map(Self.nameStatus).sorted() == (try Self.gitNameStatus(repo, "-M", to, from)))
        // Nothing between a commit and itself.
        #expect(try repo.open().changedPaths(from: Self.id(to), to: Self.id(to)).isEmpty)
    }

    @Test func aFileBecomingASymlinkIsATypeChange() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["target.txt": "t\n", "link": "a regular file\n"])
        let from = try repo.revParse("HEAD")
        try FileManager.default.removeItem(atPath: repo.path + "/link")
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/link", withDestinationPath: "target.txt")
        let to = try repo.commit("file to symlink")

        let changes = try repo.open().changedPaths(from: Self.id(from), to: Self.id(to))
        let expected = try Self.gitNameStatus(repo, "-M", from, to)
        #expect(expected == ["T\tlink"])
        #expect(changes.map(Self.nameStatus).sorted() == expected)
    }

    @Test func changedPathsOfABranchSinceItsBase() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["a.txt": "a\n", "b.txt": "b\n", "old.txt": Self.longText])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit("task 1", files: ["a.txt": "task a\n", "new.txt": "n\n"])
        try FileManager.default.removeItem(atPath: repo.path + "/b.txt")
        try repo.git("mv", "old.txt", "renamed.txt")
        try repo.commit("task 2")
        try repo.git("checkout", "-q", "main")
        // main's own changes since the fork must not show up.
        try repo.commit("main moves", files: ["main-only.txt": "m\n", "a.txt": "a\nmore\n"])
        let repository = try repo.open()
        let task = try Self.id(repo.revParse("task"))
        let main = try Self.id(repo.revParse("main"))

        let changes = try repository.changedPaths(of: task, since: main)
        let gitNames = try repo.output("diff", "--name-only", "main...task").split(separator: "\n").map(String.init)
        #expect(changes.map(\.path).sorted() == gitNames.sorted())
        #expect(changes.map(Self.nameStatus).sorted() == (try Self.gitNameStatus(repo, "-M", "main...task")))
        #expect(gitNames.sorted() == ["a.txt", "b.txt", "new.txt", "renamed.txt"])

        // The other way round: only main's changes.
        let mainChanges = try repository.changedPaths(of: main, since: task)
        #expect(
            mainChanges.map(\.path).sorted()
                == (try repo.output("diff", "--name-only", "task...main").split(separator: "\n").map(String.init)))
        // A branch contained in the base changed nothing since.
        let first = try Self.id(repo.revParse("main~1"))
        #expect(try repository.changedPaths(of: first, since: main).isEmpty)
        #expect(try repo.output("diff", "--name-only", "main...main~1").isEmpty)
    }

    @Test func changedPathsOfUnrelatedHistoriesThrows() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.git("checkout", "-q", "--orphan", "other")
        try repo.commit("unrelated root", files: ["other.txt": "o\n"])
        let repository = try repo.open()
        let main = try Self.id(repo.revParse("main"))
        let other = try Self.id(repo.revParse("other"))
        // git has no merge base either.
        #expect(try Shell.run(["git", "-C", repo.path, "merge-base", "main", "other"], check: false).status == 1)
        #expect(try repository.mergeBase(main, other) == nil)
        let error = try #require(throws: GitError.self) { try repository.changedPaths(of: other, since: main) }
        #expect(error.isNotFound)
    }

    // MARK: Graph

    /// main: r - m1 - M - m2 ; side: r - s1 - s2 (merged into M at s1) - s3 ; lone: orphan root.
    static func graph(_ sandbox: Sandbox) throws -> (TestRepository, [String: String]) {
        let repo = try sandbox.repository()
        var ids: [String: String] = ["r": try repo.revParse("HEAD")]
        try repo.git("branch", "side")
        ids["m1"] = try repo.commit("m1", files: ["m.txt": "1\n"])
        try repo.git("checkout", "-q", "side")
        ids["s1"] = try repo.commit("s1", files: ["s.txt": "1\n"])
        ids["s2"] = try repo.commit("s2", files: ["s.txt": "2\n"])
        try repo.git("checkout", "-q", "main")
        try repo.git("merge", "-q", "--no-edit", ids["s1"]!)
        ids["M"] = try repo.revParse("HEAD")
        ids["m2"] = try repo.commit("m2", files: ["m.txt": "2\n"])
        try repo.git("checkout", "-q", "side")
        ids["s3"] = try repo.commit("s3", files: ["s.txt": "3\n"])
        try repo.git("checkout", "-q", "--orphan", "lone")
        ids["lone"] = try repo.commit("lone", files: ["lone.txt": "l\n"])
        try repo.git("checkout", "-q", "main")
        return (repo, ids)
    }

    @Test func isAncestorAgreesWithGitMergeBase() throws {
        let sandbox = try Sandbox()
        let (repo, ids) = try Self.graph(sandbox)
        let repository = try repo.open()
        var checked = 0
        var trues = 0
        for (a, ancestor) in ids.sorted(by: { $0.key < $1.key }) {
            for (d, descendant) in ids.sorted(by: { $0.key < $1.key }) {
                let git = try Shell.run(
                    ["git", "-C", repo.path, "merge-base", "--is-ancestor", ancestor, descendant], check: false)
                #expect(git.status == 0 || git.status == 1)
                let ours = try repository.isAncestor(Self.id(ancestor), of: Self.id(descendant))
                #expect(ours == (git.status == 0), "\(a) ancestor of \(d)")
                checked += 1
                if ours { trues += 1 }
            }
        }
        #expect(checked == 64)
        // Sanity: the table has both answers (8 self-pairs and the real ancestries are true).
        #expect(trues > 8 && trues < 64)
        // A commit counts as its own ancestor.
        #expect(try repository.isAncestor(Self.id(ids["m2"]!), of: Self.id(ids["m2"]!)))
    }

    @Test func aheadBehindAgreesWithRevListCount() throws {
        let sandbox = try Sandbox()
        let (repo, ids) = try Self.graph(sandbox)
        let repository = try repo.open()
        let pairs = [("m2", "s3"), ("s3", "m2"), ("m2", "r"), ("r", "m2"), ("M", "s1"), ("s2", "M"), ("m2", "m2")]
        for (left, right) in pairs {
            let git = try repo.output("rev-list", "--left-right", "--count", "\(ids[left]!)...\(ids[right]!)")
            let counts = git.split(separator: "\t").map { Int($0) }
            let result = try repository.aheadBehind(Self.id(ids[left]!), Self.id(ids[right]!))
            #expect([result.ahead, result.behind] == counts, "\(left)...\(right): git says \(git)")
        }
        // Spelled out once: m2 has m1, M, m2 that s3 lacks; s3 has s2, s3.
        let spelled = try repository.aheadBehind(Self.id(ids["m2"]!), Self.id(ids["s3"]!))
        #expect(spelled.ahead == 3 && spelled.behind == 2)
    }

    @Test func mergeBaseAgreesWithGit() throws {
        let sandbox = try Sandbox()
        let (repo, ids) = try Self.graph(sandbox)
        let repository = try repo.open()
        for (one, two) in [("m2", "s3"), ("m1", "s2"), ("M", "s1"), ("r", "m2"), ("m2", "m2")] {
            let git = try repo.output("merge-base", ids[one]!, ids[two]!)
            #expect(try repository.mergeBase(Self.id(ids[one]!), Self.id(ids[two]!))?.hex == git, "\(one) \(two)")
        }
        #expect(try repository.mergeBase(Self.id(ids["m2"]!), Self.id(ids["lone"]!)) == nil)
    }
}
