import Clibgit2
import Foundation

/// Which paths a move of a working tree between two commits must write, and which local changes
/// stop it, by git's own rules (the two-way merge of `git merge --ff-only` and `git checkout`):
/// only the paths that differ between the two commits are looked at, so a local change anywhere
/// else — in the files or staged in the index — stays exactly as it is.
///
/// For a path the move changes, from `old` to `new`, with index entry `staged`:
/// - `staged` is already `new`: nothing to do (the change is already staged);
/// - `staged` is `old`: the file must match the index (or be missing), then it is written
///   (or removed);
/// - anything else (a staged change, a staged deletion): refused;
/// - no index entry and `new` adds it: an untracked file there (or in the way of its directory)
///   is refused, an ignored one is overwritten;
/// - no index entry and `new` deletes it: an untracked file there is refused.
struct CheckoutPlan {
    /// The paths to write from the target (or remove), index and file.
    var paths: [String] = []
    /// Local changes the move would overwrite.
    var changed: [String] = []
    /// Untracked files the move would overwrite or remove.
    var untracked: [String] = []

    var isBlocked: Bool { !changed.isEmpty || !untracked.isEmpty }
}

extension Repository {
    /// Throws `CheckoutConflictError` when moving this working tree from `baseline` (the commit
    /// its files reflect) to `commit` would overwrite a local change, exactly as `moveHead` would;
    /// changes nothing. For checking every checkout before any of them moves.
    public func checkMove(to commit: ObjectID, from baseline: ObjectID) throws {
        let target = try lookupTree(ofCommit: commit)
        defer { git_tree_free(target) }
        let base = try lookupTree(ofCommit: baseline)
        defer { git_tree_free(base) }
        try checkoutPlan(from: base, to: target)
    }

    /// The plan for moving from tree `baseline` to tree `target`; throws `CheckoutConflictError`
    /// when the move must not happen (a merge in progress, local changes in the way).
    @discardableResult
    func checkoutPlan(from baseline: OpaquePointer, to target: OpaquePointer) throws -> CheckoutPlan {
        let worktree = workingDirectory ?? gitDirectory
        let index = try make("git_repository_index") { git_repository_index(&$0, pointer) }
        defer { git_index_free(index) }
        try GitError.check(git_index_read(index, 0), "git_index_read")
        // A merge in progress stops the move even when its paths are not among those the move
        // touches (as `git merge --ff-only` refuses to run then).
        let unmerged = try conflictPaths(in: index)
        if !unmerged.isEmpty { throw CheckoutConflictError(worktree: worktree, paths: unmerged) }

        var plan = CheckoutPlan()
        let paths = try differingPaths(baseline, target)
        // One status of just these paths: whether each file still matches the index.
        let modified = try modifiedFiles(among: paths)
        for path in paths {
            let old = try Self.blobEntry(in: baseline, at: path)
            let new = try Self.blobEntry(in: target, at: path)
            if let staged = Self.indexEntry(in: index, at: path) {
                if staged == new { continue }
                // A submodule's own checkout is not the move's business (nor `git merge`'s).
                if staged == old && (staged.mode == GIT_FILEMODE_COMMIT || !modified.contains(path)) {
                    // The file matches the index, or is missing: git writes it (again).
                    plan.paths.append(path)
                } else {
                    plan.changed.append(path)
                }
            } else if old != nil && new != nil {
                // Its deletion is staged.
                plan.changed.append(path)
            } else if let inTheWay = try untrackedInTheWay(of: path, adding: new != nil, index: index) {
                plan.untracked.append(inTheWay)
            } else if new != nil {
                plan.paths.append(path)
            }
        }
        if plan.isBlocked {
            throw CheckoutConflictError(
                worktree: worktree, paths: Array(Set(plan.changed + plan.untracked)).sorted(),
                untracked: Array(Set(plan.untracked)).sorted())
        }
        return plan
    }

    /// Those of `paths` whose file no longer matches its index entry (content, type, executable
    /// bit, or unreadable); a missing file is not among them (git lets a move write a file the
    /// user deleted without staging it). One status limited to exactly these paths.
    private func modifiedFiles(among paths: [String]) throws -> Set<String> {
        guard !paths.isEmpty else { return [] }
        var options = git_status_options()
        try GitError.check(
            git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.show = GIT_STATUS_SHOW_WORKDIR_ONLY
        options.flags =
            GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH.rawValue | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        let list = try withStrArray(paths) { pathspec in
            options.pathspec = pathspec.pointee
            return try make("git_status_list_new") { git_status_list_new(&$0, pointer, &options) }
        }
        defer { git_status_list_free(list) }
        let dirty =
            GIT_STATUS_WT_MODIFIED.rawValue | GIT_STATUS_WT_TYPECHANGE.rawValue | GIT_STATUS_WT_UNREADABLE.rawValue
        var modified = Set<String>()
        for position in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, position), entry.pointee.status.rawValue & dirty != 0,
                let delta = entry.pointee.index_to_workdir,
                let path = delta.pointee.old_file.path ?? delta.pointee.new_file.path
            else { continue }
            modified.insert(String(cString: path))
        }
        return modified
    }

    /// An untracked (not ignored) file the move would overwrite or remove at `path`, which the
    /// index does not have: the file itself, a file where one of its directories would go, or
    /// untracked files inside a directory where it would go. Nil when nothing is in the way.
    private func untrackedInTheWay(of path: String, adding: Bool, index: OpaquePointer) throws -> String? {
        guard let directory = workingDirectory else { return nil }
        let root = directory.hasSuffix("/") ? directory : directory + "/"
        func isIgnored(_ relative: String) -> Bool {
            var ignored: Int32 = 0
            guard git_ignore_path_is_ignored(&ignored, pointer, relative) >= 0 else {
                git_error_clear()
                return false
            }
            return ignored == 1
        }
        if adding {
            // A file (or symlink) where one of its directories must go.
            var parent = ""
            for component in path.split(separator: "/").dropLast() {
                parent += (parent.isEmpty ? "" : "/") + component
                guard let kind = Self.fileKind(root + parent) else { break }
                if kind == S_IFDIR { continue }
                if Self.indexEntry(in: index, at: parent) == nil && !isIgnored(parent) { return parent }
                break
            }
        }
        guard let kind = Self.fileKind(root + path) else { return nil }
        if kind != S_IFDIR { return isIgnored(path) ? nil : path }
        guard adding else { return nil }
        // A directory where the file must go: in the way when it holds untracked files.
        let enumerator = FileManager.default.enumerator(atPath: root + path)
        while let inner = enumerator?.nextObject() as? String {
            let relative = path + "/" + inner
            guard let innerKind = Self.fileKind(root + relative), innerKind != S_IFDIR else { continue }
            if Self.indexEntry(in: index, at: relative) == nil && !isIgnored(relative) { return path }
        }
        return nil
    }

    /// The type bits (`S_IFDIR`, `S_IFREG`, `S_IFLNK`, …) of what is at `path`, not following a
    /// symlink; nil when nothing is there.
    private static func fileKind(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    /// The stage-0 index entry of `path`, as an id and mode.
    private static func indexEntry(in index: OpaquePointer, at path: String) -> TreeDifference.Entry? {
        guard let entry = git_index_get_bypath(index, path, 0) else { return nil }
        return TreeDifference.Entry(id: entry.pointee.id, mode: git_filemode_t(rawValue: entry.pointee.mode))
    }

    /// The non-directory entry of `tree` at `path`; nil when there is none (or a directory is).
    private static func blobEntry(in tree: OpaquePointer, at path: String) throws -> TreeDifference.Entry? {
        var entry: OpaquePointer?
        let result = git_tree_entry_bypath(&entry, tree, path)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try GitError.check(result, "git_tree_entry_bypath")
        guard let entry else { return nil }
        defer { git_tree_entry_free(entry) }
        let found = TreeDifference.Entry(entry)
        return found.isTree ? nil : found
    }
}
