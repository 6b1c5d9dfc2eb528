import Clibgit2
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a fresh checkout (`FreshCheckout`) left in a working tree — every file's stat data, the
/// index file's, HEAD — so that, after a task's command, "nothing changed" can be told from
/// stat data alone, as git's own index does, without libgit2 reading and hashing the index and
/// walking the tree with full paths (measured: the larger part of concluding a task that left a
/// 15,000-file worktree as it found it).
public struct WorkingTreeSnapshot: Sendable {
    /// The commit checked out.
    let head: ObjectID
    /// The index file as the checkout wrote it.
    let index: FileState
    let root: Directory

    /// The stat data that changes whenever a file's contents, type or mode change.
    struct FileState: Sendable, Equatable {
        var mode: UInt32
        var size: Int64
        var inode: UInt64
        var modified: Int64
        var changed: Int64

        init(_ status: stat) {
            mode = status.st_mode
            size = Int64(status.st_size)
            inode = UInt64(status.st_ino)
            modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
        }
    }

    /// One directory's entries: files and symlinks, subdirectories, and the empty directories
    /// of submodules.
    struct Directory: Sendable {
        var files: [String: FileState] = [:]
        var directories: [String: Directory] = [:]
        var submodules: Set<String> = []

        var count: Int { files.count + directories.count + submodules.count }
    }
}

extension Repository {
    /// True only when this working tree is certainly as `snapshot` recorded it: HEAD at the same
    /// commit, the index file untouched, every file with the same stat data, no name added or
    /// missing anywhere. False means "not known": look with a full status. A file whose stat
    /// data is as new as the index is "racily clean" (it may have changed within the same clock
    /// tick without its stat data showing it), so its contents are hashed and compared, as git
    /// does for such entries.
    public func isUnchanged(since snapshot: WorkingTreeSnapshot) -> Bool {
        guard let workingDirectory, (try? headCommit()) == snapshot.head else { return false }
        var indexStatus = stat()
        guard stat(gitDirectory + "/index", &indexStatus) == 0,
            WorkingTreeSnapshot.FileState(indexStatus) == snapshot.index
        else { return false }
        let root = Glibc.open(workingDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { return false }
        defer { close(root) }
        var racy: [String] = []
        guard
            Self.matches(
                root, snapshot.root, path: "", indexModified: snapshot.index.modified, racy: &racy)
        else { return false }
        return racy.allSatisfy { path in
            let isLink = Self.isSymlink(workingDirectory + "/" + path)
            return (try? isLink ? linkMatches(path, in: snapshot.head) : workingFileMatches(path, in: snapshot.head))
                == true
        }
    }

    private static func isSymlink(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK
    }

    /// Whether the symlink at `path` points where `commit`'s link there does.
    private func linkMatches(_ path: String, in commit: ObjectID) throws -> Bool {
        guard let workingDirectory else { return false }
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        let entry = try make("git_tree_entry_bypath") { git_tree_entry_bypath(&$0, tree, path) }
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK else { return false }
        let blob = try make("git_blob_lookup") { git_blob_lookup(&$0, pointer, git_tree_entry_id(entry)) }
        defer { git_blob_free(blob) }
        let stored = [UInt8](
            UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: Int(git_blob_rawsize(blob))))
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(workingDirectory + "/" + path, &buffer, buffer.count)
        return length >= 0 && length < buffer.count && Array(buffer[0..<length]) == stored
    }

    private static func matches(
        _ descriptor: Int32, _ expected: WorkingTreeSnapshot.Directory, path: String, indexModified: Int64,
        racy: inout [String]
    ) -> Bool {
        let isRoot = path.isEmpty
        guard let names = DirectoryEntries.read(descriptor)?.map(\.name) else { return false }
        var seen = 0
        for name in names {
            if isRoot && name == ".git" { continue }
            seen += 1
            if let state = expected.files[name] {
                var status = stat()
                guard fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0,
                    WorkingTreeSnapshot.FileState(status) == state
                else { return false }
                if state.modified >= indexModified { racy.append(path + name) }
            } else if let directory = expected.directories[name] {
                let child = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { return false }
                defer { close(child) }
                guard matches(child, directory, path: path + name + "/", indexModified: indexModified, racy: &racy)
                else { return false }
            } else if expected.submodules.contains(name) {
                let child = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { return false }
                defer { close(child) }
                guard DirectoryEntries.read(child)?.isEmpty == true else { return false }
            } else {
                return false  // a new file or directory (perhaps ignored: a full status decides)
            }
        }
        return seen == expected.count
    }
}
