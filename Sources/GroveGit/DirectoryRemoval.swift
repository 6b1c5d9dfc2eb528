import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Deletes a directory and everything in it, the way `rm -rf --one-file-system` would, but
/// never following a symlink: links are removed, not their targets, and every step goes
/// through an open descriptor of the directory it works in (`openat`/`unlinkat` with
/// `O_NOFOLLOW`), so no path is resolved twice and nothing can be swapped in between.
///
/// One system call per file, with the name relative to its directory: libgit2's removal
/// (`git_worktree_prune`'s working-tree flag) stats every file twice by its full path first,
/// which measured two thirds of removing a landed task's worktree.
public enum DirectoryRemoval {
    public struct Failure: Error, LocalizedError {
        let path: String
        let operation: String
        let code: Int32

        public var errorDescription: String? {
            "could not \(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    /// Removes `path` (a directory, not a link to one) and its contents. A directory of another
    /// file system inside (a mount) stops the removal with an error, leaving it alone. Folders
    /// the task made read-only (Go's module cache does) are made writable to empty them.
    public static func remove(_ path: String) throws {
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { throw Failure(path: path, operation: "open", code: errno) }
        var status = stat()
        guard fstat(directory, &status) == 0 else {
            let code = errno
            close(directory)
            throw Failure(path: path, operation: "stat", code: code)
        }
        do {
            try removeContents(of: directory, path: path, device: status.st_dev)
            close(directory)
        } catch {
            close(directory)
            throw error
        }
        guard rmdir(path) == 0 else { throw Failure(path: path, operation: "remove", code: errno) }
    }

    private static func removeContents(of directory: Int32, path: String, device: dev_t) throws {
        // Names first, then removals: a directory is not changed while it is being read.
        guard let entries = DirectoryEntries.read(directory) else {
            throw Failure(path: path, operation: "read", code: errno)
        }
        for (name, type) in entries {
            let isDirectory: Bool
            if type == UInt8(DT_UNKNOWN) {
                var status = stat()
                guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw Failure(path: path + "/" + name, operation: "stat", code: errno)
                }
                isDirectory = status.st_mode & S_IFMT == S_IFDIR
            } else {
                isDirectory = type == UInt8(DT_DIR)
            }
            if isDirectory {
                try removeDirectory(name, in: directory, path: path + "/" + name, device: device)
            } else if unlinkat(directory, name, 0) != 0 && errno != ENOENT {
                guard errno == EACCES, fchmod(directory, 0o700) == 0, unlinkat(directory, name, 0) == 0 else {
                    throw Failure(path: path + "/" + name, operation: "remove", code: errno)
                }
            }
        }
    }

    private static func removeDirectory(_ name: String, in parent: Int32, path: String, device: dev_t) throws {
        var child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if child < 0 && errno == EACCES && fchmodat(parent, name, 0o700, 0) == 0 {
            child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        guard child >= 0 else { throw Failure(path: path, operation: "open", code: errno) }
        defer { close(child) }
        var status = stat()
        guard fstat(child, &status) == 0 else { throw Failure(path: path, operation: "stat", code: errno) }
        guard status.st_dev == device else {
            throw Failure(path: path, operation: "remove (another file system is mounted there)", code: EXDEV)
        }
        try removeContents(of: child, path: path, device: device)
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else {
            throw Failure(path: path, operation: "remove", code: errno)
        }
    }
}
