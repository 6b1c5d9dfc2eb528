import Foundation
import TestSupport
import Testing

@testable import GroveGit

/// `moveHead` next to the user's uncommitted changes, with `git merge --ff-only` as the second
/// opinion: in twin repositories with the same local changes, both go ahead or both refuse
/// (naming the same paths), and after either the index, the status and every file's bytes agree.
@Suite("Moving a checkout beside local changes")
struct MoveBesideLocalChangesTests {
    /// A local situation, set up by a shell line in a checkout of `main` before it moves to
    /// `task`, which changes `a.txt`, deletes `c.txt` and adds `new.txt` and `dir/deep.txt`.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let setup: String
        /// What git does: goes ahead (true) or refuses.
        let lands: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "modified file the move leaves alone", setup: "echo x >> keep.txt", lands: true),
        Case(name: "staged change the move leaves alone", setup: "echo x >> keep.txt && git add keep.txt", lands: true),
        Case(
            name: "staged and further modified file the move leaves alone",
            setup: "echo x >> keep.txt && git add keep.txt && echo y >> keep.txt", lands: true),
        Case(name: "staged new file elsewhere", setup: "echo q > q.txt && git add q.txt", lands: true),
        Case(name: "staged deletion elsewhere", setup: "git rm -q keep.txt", lands: true),
        Case(name: "executable bit elsewhere", setup: "chmod +x keep.txt", lands: true),
        Case(name: "untracked file elsewhere", setup: "echo u > notes.txt", lands: true),
        Case(name: "modified file the move changes", setup: "echo x >> a.txt", lands: false),
        Case(name: "modified file the move deletes", setup: "echo x >> c.txt", lands: false),
        Case(name: "staged change to a file the move changes", setup: "echo x >> a.txt && git add a.txt", lands: false),
        Case(
            name: "file the move changes already staged as it will be", setup: "echo a2 > a.txt && git add a.txt",
            lands: true),
        Case(name: "file the move changes edited to what it will be", setup: "echo a2 > a.txt", lands: false),
        Case(name: "executable bit on a file the move changes", setup: "chmod +x a.txt", lands: false),
        Case(name: "file the move changes deleted by hand", setup: "rm a.txt", lands: true),
        Case(name: "file the move deletes deleted by hand", setup: "rm c.txt", lands: true),
        Case(name: "file the move deletes staged as deleted", setup: "git rm -q c.txt", lands: true),
        Case(name: "file the move deletes left untracked", setup: "git rm -q --cached c.txt", lands: false),
        Case(name: "untracked file where the move adds one", setup: "echo other > new.txt", lands: false),
        Case(name: "untracked file identical to the one the move adds", setup: "echo new > new.txt", lands: false),
        Case(
            name: "ignored file where the move adds one",
            setup: "echo new.txt >> .git/info/exclude && echo other > new.txt", lands: true),
        Case(name: "untracked file where the move adds a directory", setup: "echo other > dir", lands: false),
        Case(name: "new file staged as the move adds it", setup: "echo new > new.txt && git add new.txt", lands: true),
        Case(name: "new file staged otherwise", setup: "echo other > new.txt && git add new.txt", lands: false),
        Case(
            name: "changes on both sides: only the touched one counts",
            setup: "echo x >> keep.txt && git add keep.txt && echo y >> a.txt", lands: false),
    ]

    /// A repository with `main` checked out and `task` one commit ahead of it.
    static func makeRepository(_ sandbox: Sandbox, _ name: String, setup: String) throws -> TestRepository {
        let repo = try sandbox.repository(
            name, files: ["a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "keep.txt": "keep\n"])
        try repo.git("switch", "-q", "-c", "task")
        try repo.write(["a.txt": "a2\n", "new.txt": "new\n", "dir/deep.txt": "deep\n"])
        try repo.git("rm", "-q", "c.txt")
        try repo.commit("task")
        try repo.git("switch", "-q", "main")
        try Shell.run(["sh", "-c", setup], in: repo.path)
        return repo
    }

    /// What a checkout looks like to git: index entries, status, every file's bytes and mode,
    /// HEAD's tree and whether HEAD is at `task` (the twins' commits differ in their dates).
    static func state(of repo: TestRepository) throws -> String {
        let index = try repo.output("ls-files", "--stage")
        let status = try repo.output("status", "--porcelain", "--untracked-files=all")
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: repo.path)
        while let path = enumerator?.nextObject() as? String {
            if path == ".git" {
                enumerator?.skipDescendants()
                continue
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: repo.path + "/" + path)
            let kind = attributes[.type] as? FileAttributeType
            if kind == .typeDirectory {
                files.append("\(path)/")
                continue
            }
            let mode = (attributes[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: repo.path + "/" + path))
            files.append("\(path) \(mode) \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        files.sort()
        return
            "index:\n\(index)\nstatus:\n\(status)\nfiles:\n\(files.joined(separator: "\n"))\nHEAD: \(try repo.revParse("HEAD^{tree}")), \(try repo.revParse("HEAD") == repo.revParse("task"))"
    }

    @Test(arguments: cases)
    func movesOrRefusesLikeGitMergeFastForward(_ situation: Case) throws {
        let sandbox = try Sandbox()
        let twin = try Self.makeRepository(sandbox, "git", setup: situation.setup)
        let repo = try Self.makeRepository(sandbox, "grove", setup: situation.setup)
        let before = try Self.state(of: repo)

        let merged = try Shell.run(["git", "-C", twin.path, "merge", "-q", "--ff-only", "task"], check: false)
        #expect((merged.status == 0) == situation.lands, "git: \(merged.stderr)")
        // git names the paths in its way on tab-indented lines.
        let gitPaths = merged.stderr.split(separator: "\n").filter { $0.hasPrefix("\t") }
            .map { $0.dropFirst().trimmingCharacters(in: CharacterSet(charactersIn: "/")) }.sorted()

        let repository = try repo.open()
        let old = try #require(try repository.headCommit())
        let new = try #require(ObjectID(hex: try repo.revParse("task")))
        var refused: CheckoutConflictError?
        do {
            try repository.checkMove(to: new, from: old)
        } catch let conflict as CheckoutConflictError {
            refused = conflict
        }
        // The dry run changes nothing and agrees with the move itself.
        #expect(try Self.state(of: repo) == before)
        do {
            try repository.moveHead(to: new, expecting: old, message: "test: move")
            #expect(refused == nil)
        } catch let conflict as CheckoutConflictError {
            #expect(refused == conflict)
            #expect(conflict.paths == gitPaths, "\(conflict.paths) vs git's \(gitPaths)")
            #expect(try Self.state(of: repo) == before, "a refused move changed nothing")
        }
        #expect((refused == nil) == situation.lands, "\(String(describing: refused))")
        #expect(try Self.state(of: repo) == Self.state(of: twin))
    }

    @Test func aRefusalSaysWhatIsInTheWayAndWhatToDo() throws {
        let sandbox = try Sandbox()
        let repo = try Self.makeRepository(
            sandbox, "repo", setup: "echo x >> a.txt && echo other > new.txt && echo y >> keep.txt")
        let repository = try repo.open()
        let old = try #require(try repository.headCommit())
        let new = try #require(ObjectID(hex: try repo.revParse("task")))
        let error = try #require(throws: CheckoutConflictError.self) { try repository.checkMove(to: new, from: old) }
        #expect(error.paths == ["a.txt", "new.txt"])
        #expect(error.changed == ["a.txt"])
        #expect(error.untracked == ["new.txt"])
        #expect(
            error.errorDescription
                == "local changes (a.txt) and untracked files (new.txt) in \(repo.path) would be overwritten;"
                + " commit or stash the changes and move or remove the untracked files and try again")
    }
}
