import Foundation

/// What a grove command could change on disk, recorded so a test can prove it changed nothing:
/// every ref and worktree of some repositories (as `git for-each-ref` and
/// `git worktree list --porcelain` see them) and every entry under some directories (usually
/// `$GROVE_HOME`, and whether it exists at all), with type, size, mode, mtime and a content hash.
public struct DiskSnapshot: Equatable, CustomStringConvertible {
    /// Per repository: `for-each-ref` output, then `worktree list --porcelain` output.
    public let repositories: [String: [String]]
    /// Per directory: nil when it does not exist, else one line per entry below it.
    public let trees: [String: [String]?]

    /// Records `repositories` (paths to working trees or git dirs) and `directories`.
    public init(repositories: [String], directories: [String]) throws {
        var refs: [String: [String]] = [:]
        for path in repositories {
            refs[path] = [
                try Shell.git("for-each-ref", "--format=%(refname) %(objectname) %(symref)", in: path).output,
                try Shell.git("worktree", "list", "--porcelain", in: path).output,
            ]
        }
        self.repositories = refs
        var trees: [String: [String]?] = [:]
        for directory in directories { trees[directory] = Self.listing(directory) }
        self.trees = trees
    }

    /// Each entry below `root` (not following symlinks): relative path, type, mode, size, mtime
    /// (nanoseconds) and, for files, an FNV-1a hash of the content. nil when `root` is missing.
    static func listing(_ root: String) -> [String]? {
        var info = stat()
        guard lstat(root, &info) == 0 else { return nil }
        var lines = [describe("", info, path: root)]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return lines }
        while let relative = enumerator.nextObject() as? String {
            let path = root + "/" + relative
            guard lstat(path, &info) == 0 else {
                lines.append("\(relative) vanished")
                continue
            }
            lines.append(describe(relative, info, path: path))
        }
        return lines.sorted()
    }

    private static func describe(_ relative: String, _ info: stat, path: String) -> String {
        let type: String
        var detail = ""
        switch info.st_mode & S_IFMT {
        case S_IFDIR: type = "dir"
        case S_IFLNK:
            type = "link"
            detail = " -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
        case S_IFREG:
            type = "file"
            detail = " #" + String(hash(path), radix: 16)
        default: type = "other"
        }
        let mode = String(info.st_mode & 0o7777, radix: 8)
        // A directory's size and mtime change when an entry comes and goes, which its listing
        // already shows; the files' own mtimes catch a rewrite with equal content.
        let stamp =
            type == "dir" ? "" : " \(info.st_size) bytes, mtime \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        return "\(relative.isEmpty ? "." : relative) \(type) \(mode)\(stamp)\(detail)"
    }

    private static func hash(_ path: String) -> UInt64 {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// The lines that differ between two snapshots, for a failing test's message.
    public func difference(from other: DiskSnapshot) -> String {
        var lines: [String] = []
        for (path, refs) in repositories where other.repositories[path] != refs {
            lines.append("\(path): refs or worktrees changed:\n\(other.repositories[path] ?? [])\n→ \(refs)")
        }
        for (path, tree) in trees where other.trees[path] != tree {
            switch (other.trees[path] ?? nil, tree) {
            case (nil, .some): lines.append("\(path) was created")
            case (.some, nil): lines.append("\(path) was deleted")
            case (.some(let old), .some(let new)):
                let removed = Set(old).subtracting(new).sorted().map { "- " + $0 }
                let added = Set(new).subtracting(old).sorted().map { "+ " + $0 }
                lines.append("\(path) changed:\n" + (removed + added).joined(separator: "\n"))
            case (nil, nil): break
            }
        }
        return lines.joined(separator: "\n")
    }

    public var description: String {
        "\(repositories.count) repositories, \(trees.count) directories"
    }
}
