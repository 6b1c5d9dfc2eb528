import Foundation
import TestSupport
import Testing

/// The issue's fixture for `grove clean --stale`, made with the git CLI (as a user's own
/// worktrees are): per repository, a worktree whose directory was deleted (`gone`), a merged
/// clean one (`merged`), an old clean one with no commits (`old`), a dirty one (`dirty`), one
/// with an unmerged commit (`unmerged`) and a locked one (`locked`). Worktrees live in
/// `<repo>-wt/<name>` next to the repository.
struct StaleFixture {
    let repo: TestRepository
    /// `<repo>-wt`.
    let worktrees: String

    /// Every worktree's name, in the order they are made.
    static let names = ["gone", "merged", "old", "dirty", "unmerged", "locked"]

    init(_ path: String) throws {
        repo = try TestRepository(path: path)
        try repo.commit("initial", files: ["README.md": "hello\n", "src/app.txt": "app\n"])
        worktrees = path + "-wt"
        for name in Self.names {
            try repo.git("worktree", "add", "-q", "-b", name, worktree(name))
        }
        // Its directory deleted by hand.
        try FileManager.default.removeItem(atPath: worktree("gone"))
        // A commit, landed in main.
        try Shell.git("commit", "-q", "--allow-empty", "-m", "merged work", in: worktree("merged"))
        try repo.git("merge", "-q", "--ff-only", "merged")
        // Uncommitted: an edit and a new file.
        try "edited\n".write(toFile: worktree("dirty") + "/README.md", atomically: false, encoding: .utf8)
        try "draft\n".write(toFile: worktree("dirty") + "/draft.txt", atomically: false, encoding: .utf8)
        // A commit nowhere else.
        try "unmerged\n".write(toFile: worktree("unmerged") + "/unmerged.txt", atomically: false, encoding: .utf8)
        try Shell.git("add", "-A", in: worktree("unmerged"))
        try Shell.git("commit", "-q", "-m", "unmerged work", in: worktree("unmerged"))
        try repo.git("worktree", "lock", "--reason", "on a USB disk", worktree("locked"))
        try age("old", days: 30)
    }

    func worktree(_ name: String) -> String { worktrees + "/" + name }

    /// Makes a worktree look untouched for `days`: every file git or the user would have
    /// changed by using it (its files, its admin entry, its branch's ref and reflog).
    func age(_ name: String, days: Int) throws {
        let paths = [
            worktree(name), repo.path + "/.git/worktrees/" + name, repo.path + "/.git/logs/refs/heads/" + name,
            repo.path + "/.git/refs/heads/" + name,
        ].filter { FileManager.default.fileExists(atPath: $0) }
        try Shell.run(["find"] + paths + ["-exec", "touch", "-h", "-d", "\(days) days ago", "{}", "+"])
    }

    /// The worktree directories `git worktree list` shows, main checkout first, symlinks resolved.
    func listed() throws -> [String] {
        try repo.output("worktree", "list", "--porcelain").split(separator: "\n")
            .filter { $0.hasPrefix("worktree ") }
            .map { URL(fileURLWithPath: String($0.dropFirst("worktree ".count))).resolvingSymlinksInPath().path }
    }

    /// Expected `listed()` when exactly `names` remain as linked worktrees.
    func expectedListing(_ names: [String]) -> [String] {
        ([repo.path] + names.map(worktree)).map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
    }

    /// Local branch names.
    func branches() throws -> [String] {
        try repo.output("for-each-ref", "--format=%(refname:short)", "refs/heads").split(separator: "\n").map(
            String.init)
    }
}

/// Everything under `root` — each path with its type, size, modification time and, for files,
/// contents — so that "changed nothing" can be checked byte for byte.
func snapshot(of root: String) throws -> [String: String] {
    var result: [String: String] = [:]
    let manager = FileManager.default
    guard let walker = manager.enumerator(atPath: root) else { return result }
    while let relative = walker.nextObject() as? String {
        let path = root + "/" + relative
        let attributes = try manager.attributesOfItem(atPath: path)
        let type = attributes[.type] as? FileAttributeType
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        var entry = "\(type?.rawValue ?? "?") \(attributes[.size] ?? 0) \(modified)"
        if type == .typeRegular, let data = manager.contents(atPath: path) {
            entry += " " + data.base64EncodedString()
        } else if type == .typeSymbolicLink {
            entry += " -> " + ((try? manager.destinationOfSymbolicLink(atPath: path)) ?? "?")
        }
        result[relative] = entry
    }
    return result
}
