import Foundation
import GroveGit
import TestSupport
import Testing

/// Per-file line counts, against `git diff --numstat -M` on the same commits.
@Suite struct DiffStatTests {
    static let longText = (1...20).map { "line \($0)\n" }.joined()
    static let otherText = (1...30).map { "row \($0)\n" }.joined()

    static func id(_ hex: String) throws -> ObjectID { try #require(ObjectID(hex: hex)) }

    /// One stat in `git diff --numstat -z`'s words: `ins del path` or `ins del old new`, `-` for binary.
    static func numstat(_ stat: FileStat) -> String {
        let counts = stat.isBinary ? "-\t-" : "\(stat.insertions)\t\(stat.deletions)"
        return [counts, stat.oldPath, stat.path].compactMap { $0 }.joined(separator: "\t")
    }

    /// git's numstat, parsed from `-z` so that renames and odd paths stay unambiguous, sorted.
    static func gitNumstat(_ repo: TestRepository, _ arguments: [String]) throws -> [String] {
        let raw = try Shell.run(["git", "-C", repo.path, "diff", "--numstat", "-z", "-M"] + arguments).stdout
        var fields = raw.components(separatedBy: "\0")
        if fields.last == "" { fields.removeLast() }
        var lines: [String] = []
        var index = 0
        while index < fields.count {
            // `ins\tdel\tpath` or, for a rename, `ins\tdel\t` then old and new as two fields.
            let head = fields[index]
            index += 1
            if head.hasSuffix("\t") {
                lines.append(head + fields[index] + "\t" + fields[index + 1])
                index += 2
            } else {
                lines.append(head)
            }
        }
        return lines.sorted()
    }

    @Test func countsAgreeWithGitNumstat() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(
            files: [
                "keep.txt": "keep\n", "modify.txt": "one\ntwo\nthree\n", "delete.txt": "a\nb\nc\nd\n",
                "move.txt": Self.longText, "edit-and-move.txt": Self.otherText, "dir/nested.txt": "n\n",
                "no-newline.txt": "end",
            ])
        try Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01, 0x02, 0x03]).write(
            to: URL(fileURLWithPath: repo.path + "/image.png"))
        try repo.commit("with a binary file")
        let from = try repo.revParse("HEAD")

        try repo.write([
            "modify.txt": "one\n2\nthree\nfour\nfive\n", "added.txt": "x\ny\n", "dir/deeper/new.txt": "deep\n",
            "no-newline.txt": "end\n",
        ])
        try FileManager.default.removeItem(atPath: repo.path + "/delete.txt")
        try repo.git("mv", "move.txt", "moved.txt")
        try repo.git("mv", "edit-and-move.txt", "dir/edited.txt")
        try repo.write([
            "dir/edited.txt": Self.otherText.replacingOccurrences(of: "row 3\n", with: "ROW THREE\nextra\n")
        ])
        try Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x09]).write(to: URL(fileURLWithPath: repo.path + "/image.png"))
        try Data([0x00, 0xFF, 0x00]).write(to: URL(fileURLWithPath: repo.path + "/new.bin"))
        let to = try repo.commit("all kinds of change")

        let stats = try repo.open().diffStat(from: Self.id(from), to: Self.id(to))
        let expected = try Self.gitNumstat(repo, [from, to])
        #expect(stats.map(Self.numstat).sorted() == expected)
        // Spelled out, so the test does not depend on git alone.
        #expect(
            expected == [
                "-\t-\timage.png", "-\t-\tnew.bin", "0\t0\tmove.txt\tmoved.txt", "0\t4\tdelete.txt",
                "1\t0\tdir/deeper/new.txt", "1\t1\tno-newline.txt", "2\t0\tadded.txt",
                "2\t1\tedit-and-move.txt\tdir/edited.txt", "3\t1\tmodify.txt",
            ])
        let binary = try #require(stats.first { $0.path == "image.png" })
        #expect(binary.isBinary && binary.insertions == 0 && binary.deletions == 0)
        #expect(stats.allSatisfy { $0.isBinary == ($0.path.hasSuffix(".png") || $0.path.hasSuffix(".bin")) })

        // The other direction swaps insertions and deletions, adds and deletes, and the renames.
        let reverse = try repo.open().diffStat(from: Self.id(to), to: Self.id(from))
        #expect(reverse.map(Self.numstat).sorted() == (try Self.gitNumstat(repo, [to, from])))
        #expect(try repo.open().diffStat(from: Self.id(to), to: Self.id(to)).isEmpty)
    }

    @Test func aTypeChangeAndAModeChangeCountAsGitCountsThem() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["target.sh": "echo\n", "link": "a regular file\nof two lines\n"])
        let from = try repo.revParse("HEAD")
        try FileManager.default.removeItem(atPath: repo.path + "/link")
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/link", withDestinationPath: "target.sh")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.path + "/target.sh")
        let to = try repo.commit("file to symlink, script made executable")

        let stats = try repo.open().diffStat(from: Self.id(from), to: Self.id(to))
        let expected = try Self.gitNumstat(repo, [from, to])
        #expect(stats.map(Self.numstat).sorted() == expected)
        // One line for the type change (old lines out, the link's target in), none for the mode.
        #expect(expected == ["0\t0\ttarget.sh", "1\t2\tlink"])
    }

    @Test func sinceBaseCountsOnlyWhatTheTipAdded() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(files: ["shared.txt": "s\n"])
        try repo.git("checkout", "-q", "-b", "task")
        try repo.commit("task work", files: ["task.txt": "t1\nt2\n", "shared.txt": "s\nmore\n"])
        try repo.git("checkout", "-q", "main")
        try repo.commit("base moved on", files: ["base.txt": "b\n"])
        let tip = try Self.id(repo.revParse("task"))
        let base = try Self.id(repo.revParse("main"))

        let stats = try repo.open().diffStat(of: tip, since: base)
        #expect(stats.map(Self.numstat).sorted() == (try Self.gitNumstat(repo, ["main...task"])))
        #expect(stats.map(Self.numstat).sorted() == ["1\t0\tshared.txt", "2\t0\ttask.txt"])
        // The base's own commit is not the task's change.
        #expect(try repo.open().diffStat(of: base, since: tip).map(\.path) == ["base.txt"])
    }

    @Test func unrelatedHistoriesAndMissingCommitsAreErrors() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository()
        try repo.git("checkout", "-q", "--orphan", "other")
        let other = try repo.commit("unrelated", files: ["other.txt": "o\n"])
        let main = try repo.revParse("main")

        let unrelated = try #require(throws: GitError.self) {
            try repo.open().diffStat(of: Self.id(other), since: Self.id(main))
        }
        #expect(unrelated.message.contains("no common history"))
        let missing = try #require(throws: GitError.self) {
            try repo.open().diffStat(from: Self.id(String(repeating: "ab", count: 20)), to: Self.id(main))
        }
        #expect(missing.isNotFound)
    }
}
