import Foundation
import GroveGit
import TestSupport
import Testing

/// `Repository.cherry` against `git cherry -v`: which of a branch's commits base has under
/// other ids (cherry-picked, rebased, squashed as is), found by patch id.
@Suite struct CherryTests {
    let sandbox: Sandbox
    let repo: TestRepository

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository(files: ["README.md": "hello\n", "src/app.txt": "one\ntwo\nthree\n"])
        try repo.git("checkout", "-q", "-b", "topic")
        try repo.commit("add a", files: ["a.txt": "a\n"])
        try repo.commit("edit app", files: ["src/app.txt": "one\n2\nthree\n"])
        try repo.commit("add b and c", files: ["b.txt": "b\n", "c.txt": "c\n"])
        try repo.commit("add d", files: ["d.txt": "d\n"])
        try repo.git("rm", "-q", "a.txt")
        try repo.commit("remove a")
        try repo.git("checkout", "-q", "main")
        try repo.commit("main moves on", files: ["main.txt": "main\n"])
        // main takes some under new ids: picked, and one made anew by hand with another message.
        try repo.git("cherry-pick", "topic~4")
        try repo.git("cherry-pick", "topic~3")
        try repo.commit("same change, other words", files: ["d.txt": "d\n"])
        // "add b and c" split in two on main: neither half has its patch id.
        try repo.commit("add b", files: ["b.txt": "b\n"])
        try repo.commit("add c", files: ["c.txt": "c\n"])
    }

    /// `git cherry -v base branch` as (full id, equivalent), newest first like `cherry`.
    func gitCherry(_ base: String, _ branch: String) throws -> [String] {
        try repo.output("cherry", base, branch).split(separator: "\n").reversed().map { String($0) }
    }

    func id(_ revision: String) throws -> ObjectID {
        let hex = try repo.revParse(revision)
        return try #require(ObjectID(hex: hex))
    }

    func ours(_ base: String, _ branch: String) throws -> [String] {
        let repository = try repo.open()
        let found = try repository.cherry(try id(branch), upstream: try id(base))
        let commits = try #require(found)
        return commits.map { ($0.equivalent ? "- " : "+ ") + $0.id.hex }
    }

    @Test func agreesWithGitCherry() throws {
        let git = try gitCherry("main", "topic")
        #expect(try ours("main", "topic") == git)
        // The shape is what the fixture means: two picked, one made anew, two not in main.
        #expect(git.map { String($0.prefix(1)) } == ["+", "-", "+", "-", "-"])
    }

    @Test func aBranchMainHasWholeIsEmptyAndMainAgainstTopicAgrees() throws {
        #expect(try ours("topic", "topic~3").isEmpty)
        #expect(try gitCherry("topic", "topic~3").isEmpty)
        #expect(try ours("topic", "main") == gitCherry("topic", "main"))
    }

    /// Where it differs from git cherry, on purpose: a commit that changes nothing is never
    /// taken for one of base's (git cherry takes any two empty commits for equal).
    @Test func anEmptyCommitIsNeverEquivalent() throws {
        try repo.git("checkout", "-q", "-b", "marker", "main~5")
        try repo.git("commit", "-q", "--allow-empty", "-m", "marker")
        try repo.git("checkout", "-q", "main")
        try repo.git("commit", "-q", "--allow-empty", "-m", "another marker")
        #expect(try gitCherry("main", "marker").first?.hasPrefix("- ") == true)
        #expect(try ours("main", "marker") == ["+ " + (try repo.revParse("marker"))])
    }

    @Test func aMergeCommitIsNeverEquivalent() throws {
        try repo.git("checkout", "-q", "-b", "merging", "topic~4")
        try repo.git("merge", "-q", "--no-ff", "--no-edit", "topic~3")
        let merge = try repo.revParse("merging")
        let result = try ours("main", "merging")
        #expect(result.contains("+ " + merge))
        // Its parents' own commits are judged as git does.
        #expect(result.filter { !$0.hasSuffix(merge) } == (try gitCherry("main", "merging")))
    }

    @Test func pastTheLimitThereIsNoAnswer() throws {
        let repository = try repo.open()
        let topic = try id("topic")
        let main = try id("main")
        // topic has 5 commits main lacks, main 6 that topic lacks: either side past the limit.
        #expect(try repository.cherry(topic, upstream: main, limit: 3) == nil)
        #expect(try repository.cherry(topic, upstream: main, limit: 5) == nil)
        #expect(try repository.cherry(topic, upstream: main, limit: 6)?.count == 5)
    }
}
