import Clibgit2
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The first checkout of a brand-new worktree, written by grove itself instead of libgit2.
///
/// libgit2's checkout is general: it diffs the target against the index and the working tree,
/// resolves every file's path from the root for each system call, and stats each file twice.
/// A new worktree has nothing to compare with, so this writes each file once, relative to an
/// open descriptor of its directory (`mkdirat`, `openat`, `write`, `fstat`), and fills the index
/// libgit2 built from the tree (`git_index_read_tree`, which also writes the tree cache) with the
/// files' stat data. Measured on this machine: half the system time of libgit2's checkout of a
/// 15,000-file tree.
///
/// It only runs where libgit2 would write exactly the same bytes: nothing can filter the files
/// (`checkoutMayFilter`), symlinks are real symlinks, and every name is plainly safe. Anything
/// else — and any surprise on the way — is left to libgit2's forced checkout, which overwrites
/// whatever was written so far.
enum FreshCheckout {
    /// Why the fast path stepped aside; never shown to users, libgit2 takes over.
    struct NotApplicable: Error {
        let reason: String
    }

    /// Writes HEAD's files into `repository`'s working tree, which holds nothing but `.git`, and
    /// its index; returns what it wrote, for `Repository.isUnchanged(since:)`. Throws
    /// `NotApplicable` (having written at most some of HEAD's files) when the tree needs
    /// libgit2's general checkout.
    @discardableResult
    static func write(_ repository: Repository, head: ObjectID) throws -> WorkingTreeSnapshot {
        guard let workingDirectory = repository.workingDirectory else {
            throw NotApplicable(reason: "bare repository")
        }
        if try repository.configBool("core.symlinks") == false {
            throw NotApplicable(reason: "core.symlinks is off")
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: workingDirectory)
        guard entries == [".git"] else { throw NotApplicable(reason: "the working tree is not empty") }

        let tree = try repository.lookupTree(ofCommit: head)
        defer { git_tree_free(tree) }
        let root = open(workingDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw NotApplicable(reason: "cannot open \(workingDirectory)") }
        defer { close(root) }

        var writer = Writer(repository: repository.pointer)
        let written = try writer.writeTree(tree, into: root, prefix: [])

        let index = try make("git_repository_index") { git_repository_index(&$0, repository.pointer) }
        defer { git_index_free(index) }
        try GitError.check(git_index_read_tree(index, tree), "git_index_read_tree")
        try writer.recordStats(in: index)
        try GitError.check(git_index_write(index), "git_index_write")
        var indexStatus = stat()
        guard stat(repository.gitDirectory + "/index", &indexStatus) == 0 else {
            throw NotApplicable(reason: "the index just written cannot be read")
        }
        return WorkingTreeSnapshot(head: head, index: WorkingTreeSnapshot.FileState(indexStatus), root: written)
    }

    /// A name libgit2 (with core.protectNTFS, on by default) might refuse or treat specially is
    /// not for the fast path: `.`/`..`, separators, `.git` in any spelling, NTFS short names and
    /// stream syntax, control characters.
    static func isPlainName(_ name: UnsafePointer<CChar>) -> Bool {
        let length = strlen(name)
        guard length > 0 else { return false }
        var bytes = UnsafeBufferPointer(
            start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self), count: length
        )
        .makeIterator()
        var lowered: [UInt8] = []
        lowered.reserveCapacity(length)
        while let byte = bytes.next() {
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\")
                || byte == UInt8(ascii: ":")
            {
                return false
            }
            lowered.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
        }
        // Trailing dots and spaces vanish on NTFS: ".git. " is ".git" there.
        while let last = lowered.last, last == UInt8(ascii: ".") || last == UInt8(ascii: " ") {
            lowered.removeLast()
        }
        if lowered.isEmpty { return false }  // ".", "..", "..." and friends
        let text = String(decoding: lowered, as: UTF8.self)
        return text != ".git" && !text.hasPrefix("git~")
    }

    /// One file written, waiting for its index entry: the full path and what `fstat` said.
    private struct Written {
        var path: [UInt8]
        var status: stat
    }

    private struct Writer {
        let repository: OpaquePointer
        var written: [Written] = []

        init(repository: OpaquePointer) {
            self.repository = repository
        }

        /// Writes `tree` into the open `directory`; returns what it wrote there.
        mutating func writeTree(_ tree: OpaquePointer, into directory: Int32, prefix: [UInt8]) throws
            -> WorkingTreeSnapshot.Directory
        {
            var snapshot = WorkingTreeSnapshot.Directory()
            for position in 0..<git_tree_entrycount(tree) {
                guard let entry = git_tree_entry_byindex(tree, position), let cName = git_tree_entry_name(entry) else {
                    throw NotApplicable(reason: "unreadable tree entry")
                }
                guard FreshCheckout.isPlainName(cName) else {
                    throw NotApplicable(reason: "the name \(String(cString: cName)) needs libgit2's checks")
                }
                let name = UnsafeBufferPointer(
                    start: UnsafeRawPointer(cName).assumingMemoryBound(to: UInt8.self), count: strlen(cName))
                var path = prefix
                path.append(contentsOf: name)
                let id = git_tree_entry_id(entry)
                switch git_tree_entry_filemode(entry) {
                case GIT_FILEMODE_TREE:
                    guard mkdirat(directory, cName, 0o777) == 0 else { throw failure("mkdir", path) }
                    let child = openat(directory, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard child >= 0 else { throw failure("open", path) }
                    defer { close(child) }
                    let subtree = try make("git_tree_lookup") { git_tree_lookup(&$0, repository, id) }
                    defer { git_tree_free(subtree) }
                    path.append(UInt8(ascii: "/"))
                    snapshot.directories[String(cString: cName)] = try writeTree(subtree, into: child, prefix: path)
                case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                    let executable = git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB_EXECUTABLE
                    snapshot.files[String(cString: cName)] = try writeFile(
                        id, named: cName, in: directory, path: path, mode: executable ? 0o777 : 0o666)
                case GIT_FILEMODE_LINK:
                    // git and libgit2 refuse a symlinked `.gitmodules` (and its kin): their call.
                    guard strncasecmp(cName, ".git", 4) != 0 else {
                        throw NotApplicable(reason: "a symlink named \(String(cString: cName))")
                    }
                    snapshot.files[String(cString: cName)] = try writeLink(id, named: cName, in: directory, path: path)
                case GIT_FILEMODE_COMMIT:
                    // A submodule: an empty directory, as git and libgit2 leave it; its index
                    // entry keeps the commit and no stat data.
                    guard mkdirat(directory, cName, 0o777) == 0 else { throw failure("mkdir", path) }
                    snapshot.submodules.insert(String(cString: cName))
                default:
                    throw NotApplicable(reason: "unknown file mode")
                }
            }
            return snapshot
        }

        private mutating func writeFile(
            _ id: UnsafePointer<git_oid>?, named name: UnsafePointer<CChar>, in directory: Int32, path: [UInt8],
            mode: mode_t
        ) throws -> WorkingTreeSnapshot.FileState {
            guard let id else { throw NotApplicable(reason: "an entry without an id") }
            let file = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard file >= 0 else { throw failure("create", path) }
            defer { close(file) }
            try BlobCache.shared.withContents(of: id, in: repository) { contents in
                guard var bytes = contents.baseAddress else { return }
                var remaining = contents.count
                while remaining > 0 {
                    let count = Glibc.write(file, bytes, remaining)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw failure("write", path) }
                    remaining -= count
                    bytes += count
                }
            }
            var status = stat()
            guard fstat(file, &status) == 0 else { throw failure("stat", path) }
            written.append(Written(path: path, status: status))
            return WorkingTreeSnapshot.FileState(status)
        }

        private mutating func writeLink(
            _ id: UnsafePointer<git_oid>?, named name: UnsafePointer<CChar>, in directory: Int32, path: [UInt8]
        ) throws -> WorkingTreeSnapshot.FileState {
            let blob = try make("git_blob_lookup") { git_blob_lookup(&$0, repository, id) }
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            var target = [CChar](repeating: 0, count: size + 1)
            if size > 0, let bytes = git_blob_rawcontent(blob) {
                target.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: size)) }
            }
            guard !target.dropLast().contains(0) else { throw NotApplicable(reason: "a link target holds NUL") }
            guard symlinkat(target, directory, name) == 0 else { throw failure("symlink", path) }
            var status = stat()
            guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure("stat", path) }
            written.append(Written(path: path, status: status))
            return WorkingTreeSnapshot.FileState(status)
        }

        /// Copies each written file's stat data into its index entry, so that status and the
        /// next checkout see the files as clean without reading them. The entries come from
        /// `git_index_read_tree` in the same order the tree walk wrote them (git's tree order is
        /// its index order); a path that does not line up is a bug, and stops the fast path.
        func recordStats(in index: OpaquePointer) throws {
            var next = 0
            for position in 0..<git_index_entrycount(index) {
                guard let constEntry = git_index_get_byindex(index, position) else { continue }
                let entry = UnsafeMutablePointer(mutating: constEntry)
                if entry.pointee.mode == GIT_FILEMODE_COMMIT.rawValue { continue }
                guard next < written.count, Self.matches(entry.pointee.path, written[next].path) else {
                    throw NotApplicable(reason: "index and tree disagree on order")
                }
                // As libgit2's git_index_entry__init_from_stat fills them (dev from st_rdev too),
                // written in place: the entry's path, mode, id and the tree cache stay valid.
                let status = written[next].status
                entry.pointee.ctime = git_index_time(
                    seconds: Int32(truncatingIfNeeded: status.st_ctim.tv_sec),
                    nanoseconds: UInt32(truncatingIfNeeded: status.st_ctim.tv_nsec))
                entry.pointee.mtime = git_index_time(
                    seconds: Int32(truncatingIfNeeded: status.st_mtim.tv_sec),
                    nanoseconds: UInt32(truncatingIfNeeded: status.st_mtim.tv_nsec))
                entry.pointee.dev = UInt32(truncatingIfNeeded: status.st_rdev)
                entry.pointee.ino = UInt32(truncatingIfNeeded: status.st_ino)
                entry.pointee.uid = status.st_uid
                entry.pointee.gid = status.st_gid
                entry.pointee.file_size = UInt32(truncatingIfNeeded: status.st_size)
                next += 1
            }
            guard next == written.count else { throw NotApplicable(reason: "index and tree disagree on count") }
        }

        private static func matches(_ cPath: UnsafePointer<CChar>?, _ path: [UInt8]) -> Bool {
            guard let cPath else { return false }
            return path.withUnsafeBufferPointer { buffer in
                strlen(cPath) == buffer.count && memcmp(cPath, buffer.baseAddress!, buffer.count) == 0
            }
        }

        private func failure(_ operation: String, _ path: [UInt8]) -> Error {
            let code = errno
            return NotApplicable(
                reason: "\(operation) \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(code)))")
        }
    }
}
