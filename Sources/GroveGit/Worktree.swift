import Clibgit2
import Foundation
import GroveBasics

/// A linked worktree of a repository (not the main checkout). Owns its `git_worktree` handle
/// and keeps its repository alive.
public final class Worktree {
    let pointer: OpaquePointer
    /// The repository this worktree belongs to: libgit2 frees nothing out from under us as long
    /// as we hold it.
    public let repository: Repository

    init(owning pointer: OpaquePointer, repository: Repository) {
        self.pointer = pointer
        self.repository = repository
    }

    deinit {
        git_worktree_free(pointer)
    }

    /// The admin entry's name: `<common dir>/worktrees/<name>`.
    public var name: String { String(cString: git_worktree_name(pointer)) }

    /// The worktree's directory.
    public var path: String { String(cString: git_worktree_path(pointer)).withoutTrailingSlash }

    /// The admin directory inside the common git directory.
    public var adminDirectory: String { repository.commonDirectory + "/worktrees/" + name }

    /// Nil when the worktree is usable; otherwise libgit2's reason (e.g. its directory is gone).
    public var validationProblem: String? {
        let result = git_worktree_validate(pointer)
        return result == 0 ? nil : GitError.last("git_worktree_validate", code: result).message
    }

    public var isValid: Bool { validationProblem == nil }

    /// Nil when unlocked; the reason (possibly empty) when locked.
    public func lockReason() throws -> String? {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let result = try GitError.check(git_worktree_is_locked(&buffer, pointer), "git_worktree_is_locked")
        guard result > 0 else { return nil }
        return buffer.ptr.map { String(cString: $0).trimmingTrailingNewlines() } ?? ""
    }

    /// Locks the worktree so that prune and clean leave it alone (`git worktree lock`).
    public func lock(reason: String?) throws {
        try GitError.check(git_worktree_lock(pointer, reason), "git_worktree_lock")
    }

    /// Unlocks it; returns false when it was not locked.
    @discardableResult
    public func unlock() throws -> Bool {
        try GitError.check(git_worktree_unlock(pointer), "git_worktree_unlock") == 0
    }

    /// Whether a default prune (invalid and unlocked only) would remove it.
    public var isPrunable: Bool {
        var options = Self.pruneOptions(0)
        return git_worktree_is_prunable(pointer, &options) == 1
    }

    /// Opens the worktree's own repository (its HEAD, index and files).
    public func openRepository() throws -> Repository {
        Repository(
            owning: try make("git_repository_open_from_worktree") {
                git_repository_open_from_worktree(&$0, pointer)
            })
    }

    static func pruneOptions(_ flags: UInt32) -> git_worktree_prune_options {
        var options = git_worktree_prune_options()
        git_worktree_prune_options_init(&options, UInt32(GIT_WORKTREE_PRUNE_OPTIONS_VERSION))
        options.flags = flags
        return options
    }
}

/// A worktree could not be removed because that would lose work or break a rule.
public enum WorktreeRemovalError: Error, Sendable, Equatable, LocalizedError {
    case hasChanges(path: String, paths: [String])
    case locked(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .hasChanges(let path, let paths):
            return
                "\(path) has uncommitted changes (\(summarize(paths))); commit or stash them, or remove it with --force"
        case .locked(let path, let reason):
            let because = reason.isEmpty ? "" : " (\(reason))"
            return "\(path) is locked\(because); run `git worktree unlock \(path)` first, or use --force"
        }
    }
}

/// How a new worktree's files are written.
public enum WorktreeCheckout: Sendable {
    /// Write every file now (like `git worktree add`).
    case full
    /// Write nothing yet (like `--no-checkout`; the index is empty): call
    /// `Repository.checkoutHead(force: true)` on the worktree later, possibly on another thread.
    case none
}

extension Repository {
    /// Adds a linked worktree at `path` with `branch` checked out, like
    /// `git worktree add path branch`. `path` must not exist (or be an empty directory); missing
    /// parent directories are created. The admin entry gets a unique name without `/` derived
    /// from `name` (default: the path's last component). On failure nothing is left behind.
    public func addWorktree(
        at path: String, branch: String, name: String? = nil, lock: Bool = false,
        checkout: WorktreeCheckout = .full
    ) throws -> Worktree {
        let path = absolutePath(path)
        let fileManager = FileManager.default
        // Look the branch up before touching the file system, so that a missing branch leaves
        // nothing behind (not even the parent directories).
        let branchReference = try make("git_branch_lookup") {
            git_branch_lookup(&$0, pointer, branch, GIT_BRANCH_LOCAL)
        }
        defer { git_reference_free(branchReference) }

        // Directories are checked and created under the lock too: a failed add removes the
        // parents it created, which must not race with another add making its own there.
        return try WorktreeAdminLock.withLock(commonDirectory: commonDirectory) {
            var replacedEmptyDirectory = false
            if fileManager.fileExists(atPath: path) {
                // git accepts an empty directory; libgit2 does not, so remove an empty one first.
                let contents = (try? fileManager.contentsOfDirectory(atPath: path)) ?? ["?"]
                guard contents.isEmpty else {
                    throw GitError(
                        function: "addWorktree", code: GIT_EEXISTS.rawValue, errorClass: GIT_ERROR_WORKTREE,
                        message: "'\(path)' already exists; choose another path or remove it")
                }
                try fileManager.removeItem(atPath: path)
                replacedEmptyDirectory = true
            }
            let createdParents = try createMissingDirectories(
                (path as NSString).deletingLastPathComponent)

            // Stray admin directories make libgit2 1.5.1 think every branch is checked out.
            try removeStrayWorktreeEntries()
            let adminName = try uniqueWorktreeName(name ?? (path as NSString).lastPathComponent)
            let adminDirectory = commonDirectory + "/worktrees/" + adminName

            var out: OpaquePointer?
            let result: Int32
            switch checkout {
            case .full:
                var options = git_worktree_add_options()
                try GitError.check(
                    git_worktree_add_options_init(&options, UInt32(GIT_WORKTREE_ADD_OPTIONS_VERSION)),
                    "git_worktree_add_options_init")
                options.lock = lock ? 1 : 0
                options.ref = branchReference
                try GitError.check(
                    git_checkout_options_init(&options.checkout_options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)),
                    "git_checkout_options_init")
                options.checkout_options.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue
                result = git_worktree_add(&out, pointer, adminName, path, &options)
            case .none:
                // grove writes the admin entry itself (libgit2's add opens every worktree).
                result = registerWorktree(adminName, at: path, branch: branch, lock: lock, out: &out)
            }
            if result < 0 || out == nil {
                let error = GitError.last("git_worktree_add", code: result)
                // libgit2 1.5.1 leaves its partial admin entry and directory behind (#4977).
                // Only delete the directory if libgit2 made it (empty, or its `.git` points at
                // our admin entry): one that appeared meanwhile is someone else's.
                if Self.isEmptyOrLinked(path, to: adminDirectory) { try? fileManager.removeItem(atPath: path) }
                try? fileManager.removeItem(atPath: adminDirectory)
                // Put back what the caller had, and take away the parents we made.
                if replacedEmptyDirectory {
                    try? fileManager.createDirectory(atPath: path, withIntermediateDirectories: false)
                }
                for directory in createdParents { rmdir(directory) }  // only empty ones go
                throw error
            }
            guard let out else { throw GitError.last("git_worktree_add", code: result) }
            return Worktree(owning: out, repository: self)
        }
    }

    /// What `git_worktree_add` does for a worktree without a checkout — the admin entry's
    /// `gitdir`, `commondir`, `HEAD` (and `locked`), the worktree's `.git` file — without its
    /// check that no other worktree has the branch, which in libgit2 1.5.1 opens every existing
    /// worktree as a repository (the 450th task of a run took 144 ms to add, under the admin
    /// lock). The same check reads each worktree's `HEAD` file instead. Files are written as
    /// libgit2 writes them (absolute paths). Returns 0 or a libgit2 error code with the error set;
    /// the caller removes what a failure left.
    private func registerWorktree(
        _ adminName: String, at path: String, branch: String, lock: Bool, out: inout OpaquePointer?
    ) -> Int32 {
        let reference = "refs/heads/" + branch
        if let holder = worktreeHeads().first(where: { $0.head == reference }) {
            git_error_set_str(
                Int32(GIT_ERROR_WORKTREE.rawValue), "reference is already checked out in \(holder.path)")
            return GIT_EEXISTS.rawValue
        }
        let admin = commonDirectory + "/worktrees/" + adminName
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(atPath: commonDirectory + "/worktrees", withIntermediateDirectories: true)
            guard mkdir(admin, 0o777) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            if lock { try Data().write(to: URL(fileURLWithPath: admin + "/locked")) }
            guard mkdir(path, 0o777) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            try Data("gitdir: \(admin)\n".utf8).write(to: URL(fileURLWithPath: path + "/.git"))
            try Data("\(commonDirectory)/\n".utf8).write(to: URL(fileURLWithPath: admin + "/commondir"))
            try Data("\(path)/.git\n".utf8).write(to: URL(fileURLWithPath: admin + "/gitdir"))
            try Data("ref: \(reference)\n".utf8).write(to: URL(fileURLWithPath: admin + "/HEAD"))
        } catch {
            git_error_set_str(
                Int32(GIT_ERROR_OS.rawValue), "could not add worktree \(path): \(error.localizedDescription)")
            return -1
        }
        return git_worktree_lookup(&out, pointer, adminName)
    }

    /// The branch each checkout has in its `HEAD` file (`refs/heads/…`, or nil when detached):
    /// the main checkout's (unless bare) and every linked worktree's.
    private func worktreeHeads() -> [(path: String, head: String?)] {
        func head(_ file: String) -> String? {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return line.hasPrefix("ref: ") ? String(line.dropFirst(5)) : nil
        }
        var heads: [(path: String, head: String?)] = []
        if !isBare { heads.append((workingDirectory ?? commonDirectory, head(commonDirectory + "/HEAD"))) }
        let directory = commonDirectory + "/worktrees"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            heads.append((directory + "/" + name, head(directory + "/" + name + "/HEAD")))
        }
        return heads
    }

    /// Creates `directory` and any missing parents; returns those it created, deepest first.
    private func createMissingDirectories(_ directory: String) throws -> [String] {
        var missing: [String] = []
        var current = directory
        while current.count > 1 && !FileManager.default.fileExists(atPath: current) {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return missing
    }

    /// True when `path` is an empty directory or a worktree whose `.git` file names `adminDirectory`.
    private static func isEmptyOrLinked(_ path: String, to adminDirectory: String) -> Bool {
        guard let contents = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        if contents.isEmpty { return true }
        guard let link = try? String(contentsOfFile: path + "/.git", encoding: .utf8) else { return false }
        return canonicalPath(
            link.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "gitdir: ", with: ""))
            == canonicalPath(adminDirectory)
    }

    /// The linked worktrees (not the main checkout), by admin name.
    public func worktrees() throws -> [Worktree] {
        var names = git_strarray()
        try GitError.check(git_worktree_list(&names, pointer), "git_worktree_list")
        defer { git_strarray_dispose(&names) }
        var worktrees: [Worktree] = []
        for index in 0..<names.count {
            guard let cName = names.strings[index] else { continue }
            // libgit2 1.5.1's list skips the entry after each incomplete one when filtering, so
            // a stray admin directory can be listed; looking it up fails. Leave such entries out.
            let name = String(cString: cName)
            guard isCompleteAdminEntry(name) else { continue }
            if let worktree = try worktree(named: name) { worktrees.append(worktree) }
        }
        return worktrees.sorted { $0.name < $1.name }
    }

    /// A linked worktree by admin name; nil when there is none.
    public func worktree(named name: String) throws -> Worktree? {
        // libgit2 1.5.1 answers -1 (not GIT_ENOTFOUND), with no error message of its own, for a
        // name without a (complete) admin entry.
        guard isCompleteAdminEntry(name) else { return nil }
        var out: OpaquePointer?
        let result = git_worktree_lookup(&out, pointer, name)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try GitError.check(result, "git_worktree_lookup")
        guard let out else { return nil }
        return Worktree(owning: out, repository: self)
    }

    /// The linked worktree whose directory is `path`; nil when there is none.
    public func worktree(atPath path: String) throws -> Worktree? {
        let wanted = canonicalPath(path)
        // git and grove name an admin entry after its folder: try that one before resolving
        // every worktree's path (the merge queue asks once per landed task).
        if let named = try? worktree(named: (path as NSString).lastPathComponent), canonicalPath(named.path) == wanted {
            return named
        }
        return try worktrees().first { canonicalPath($0.path) == wanted }
    }

    /// Removes a worktree's directory and admin entry. Refuses, changing nothing, when it has
    /// uncommitted changes or is locked, unless `force` — no work is lost by default. With
    /// `trash` (a path on the same file system), the directory is moved there instead of being
    /// deleted, and true is returned: the caller deletes it later (`DirectoryRemoval`), off the
    /// critical path. When it cannot be moved, it is deleted here and false is returned.
    @discardableResult
    public func removeWorktree(_ worktree: Worktree, force: Bool = false, movingFilesTo trash: String? = nil) throws
        -> Bool
    {
        if !force {
            if let reason = try worktree.lockReason() {
                throw WorktreeRemovalError.locked(path: worktree.path, reason: reason)
            }
            if worktree.isValid {
                let status = try worktree.openRepository().status()
                guard status.isClean else {
                    throw WorktreeRemovalError.hasChanges(path: worktree.path, paths: status.entries.map(\.path))
                }
            }
        }
        // The files go first, outside the admin lock (adds of other worktrees need not wait for
        // them), by grove's own removal: never through a symlink, one call per file. A failure
        // keeps the admin entry, so git still knows the worktree that is left.
        var moved = false
        var status = stat()
        if lstat(worktree.path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw GitError(
                    function: "removeWorktree", code: -1, errorClass: GIT_ERROR_NONE,
                    message: "\(worktree.path) is no longer a directory (a link or a file is there); remove it yourself"
                )
            }
            if let trash, rename(worktree.path, trash) == 0 {
                moved = true
            } else {
                try DirectoryRemoval.remove(worktree.path)
            }
        }
        var flags = GIT_WORKTREE_PRUNE_VALID.rawValue
        if force { flags |= GIT_WORKTREE_PRUNE_LOCKED.rawValue }
        var options = Worktree.pruneOptions(flags)
        try WorktreeAdminLock.withLock(commonDirectory: commonDirectory) {
            try GitError.check(git_worktree_prune(worktree.pointer, &options), "git_worktree_prune")
        }
        return moved
    }

    /// Prunes admin entries whose directories are gone (`git worktree prune`): only invalid,
    /// unlocked ones. Returns the pruned names.
    @discardableResult
    public func pruneWorktrees() throws -> [String] {
        try WorktreeAdminLock.withLock(commonDirectory: commonDirectory) {
            var pruned = try removeStrayWorktreeEntries()
            for worktree in try worktrees() where worktree.isPrunable {
                var options = Worktree.pruneOptions(0)
                let name = worktree.name
                try GitError.check(git_worktree_prune(worktree.pointer, &options), "git_worktree_prune")
                pruned.append(name)
            }
            return pruned
        }
    }

    /// Deletes `<common dir>/worktrees/*` directories that lack `gitdir`, `commondir` or `HEAD`:
    /// libgit2 never lists them, and in 1.5.1 they make every branch look checked out.
    /// Callers hold the admin lock.
    @discardableResult
    func removeStrayWorktreeEntries() throws -> [String] {
        let fileManager = FileManager.default
        let directory = commonDirectory + "/worktrees"
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            let entry = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: entry, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            if !isCompleteAdminEntry(name) {
                try fileManager.removeItem(atPath: entry)
                removed.append(name)
            }
        }
        return removed
    }

    /// Whether `<common dir>/worktrees/<name>` has the files libgit2 needs to open it.
    func isCompleteAdminEntry(_ name: String) -> Bool {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { return false }
        let entry = commonDirectory + "/worktrees/" + name
        return ["gitdir", "commondir", "HEAD"].allSatisfy { FileManager.default.fileExists(atPath: entry + "/" + $0) }
    }

    /// `base` made safe for an admin directory name (no `/`), made unique like git does
    /// (`name`, `name1`, `name2`, …).
    func uniqueWorktreeName(_ base: String) throws -> String {
        var cleaned = String(
            base.unicodeScalars.map { scalar -> Character in
                let allowed = CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)
                return scalar.isASCII && allowed ? Character(scalar) : "-"
            })
        while cleaned.hasPrefix(".") || cleaned.hasPrefix("-") { cleaned.removeFirst() }
        if cleaned.isEmpty { cleaned = "worktree" }
        let directory = commonDirectory + "/worktrees/"
        var candidate = cleaned
        var counter = 1
        while FileManager.default.fileExists(atPath: directory + candidate) {
            candidate = cleaned + String(counter)
            counter += 1
        }
        return candidate
    }
}
