import Clibgit2

/// One path changed between two trees.
public struct ChangedPath: Sendable, Hashable {
    public enum Change: String, Sendable, Hashable, Codable {
        case added, deleted, modified, renamed, copied
        case typeChanged = "type_changed"
    }

    public let path: String
    /// For renames and copies, where it came from.
    public let oldPath: String?
    public let change: Change
}

extension Repository {
    /// The paths that differ between two commits' trees, with renames detected.
    public func changedPaths(from old: ObjectID, to new: ObjectID) throws -> [ChangedPath] {
        if old == new { return [] }
        // libgit2's diff walks every entry of both trees; the paths that differ, found by
        // skipping equal subtrees, limit it to what renames are looked for among.
        let oldTree = try lookupTree(ofCommit: old)
        let newTree = try lookupTree(ofCommit: new)
        let differing = try? TreeDifference.paths(
            from: git_tree_id(oldTree).pointee, to: git_tree_id(newTree).pointee, in: pointer)
        git_tree_free(oldTree)
        git_tree_free(newTree)
        if differing?.isEmpty == true { return [] }
        // Names only: no need to read blobs to tell binary files apart.
        let diff = try treeDiff(from: old, to: new, detectBinary: false, limitedTo: differing)
        defer { git_diff_free(diff) }

        var paths: [ChangedPath] = []
        for index in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, index) else { continue }
            let newPath = String(cString: delta.pointee.new_file.path)
            let oldPath = String(cString: delta.pointee.old_file.path)
            let change: ChangedPath.Change
            switch delta.pointee.status {
            case GIT_DELTA_ADDED: change = .added
            case GIT_DELTA_DELETED: change = .deleted
            case GIT_DELTA_RENAMED: change = .renamed
            case GIT_DELTA_COPIED: change = .copied
            case GIT_DELTA_TYPECHANGE: change = .typeChanged
            default: change = .modified
            }
            let moved = change == .renamed || change == .copied
            paths.append(
                ChangedPath(
                    path: change == .deleted ? oldPath : newPath, oldPath: moved ? oldPath : nil, change: change))
        }
        return paths
    }

    /// What `tip` changed since it left `base`: the diff from their merge base to `tip`
    /// (`git diff base...tip`). Empty when `tip` is contained in `base`.
    public func changedPaths(of tip: ObjectID, since base: ObjectID) throws -> [ChangedPath] {
        try changedPaths(from: try commonAncestor(tip, base), to: tip)
    }

    /// The diff between two commits' trees with renames found, as git shows it: a file that
    /// became a symlink (or the reverse) is one type change, not a delete plus an add (without
    /// INCLUDE_TYPECHANGE libgit2 splits it, and `.typeChanged` could never be produced).
    /// `detectBinary: false` skips reading blobs when only names are wanted; `paths` (exact
    /// paths) limits the diff to them. Free with `git_diff_free`.
    func treeDiff(from old: ObjectID, to new: ObjectID, detectBinary: Bool, limitedTo paths: [String]? = nil) throws
        -> OpaquePointer
    {
        let oldTree = try lookupTree(ofCommit: old)
        defer { git_tree_free(oldTree) }
        let newTree = try lookupTree(ofCommit: new)
        defer { git_tree_free(newTree) }

        var options = git_diff_options()
        try GitError.check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        options.flags = GIT_DIFF_INCLUDE_TYPECHANGE.rawValue
        if !detectBinary { options.flags |= GIT_DIFF_SKIP_BINARY_CHECK.rawValue }
        let diff: OpaquePointer
        if let paths {
            options.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH.rawValue
            diff = try withStrArray(paths) { list in
                options.pathspec = list.pointee
                return try make("git_diff_tree_to_tree") {
                    git_diff_tree_to_tree(&$0, pointer, oldTree, newTree, &options)
                }
            }
        } else {
            diff = try make("git_diff_tree_to_tree") {
                git_diff_tree_to_tree(&$0, pointer, oldTree, newTree, &options)
            }
        }
        var find = git_diff_find_options()
        do {
            try GitError.check(
                git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)), "git_diff_find_options_init")
            find.flags = GIT_DIFF_FIND_RENAMES.rawValue
            try GitError.check(git_diff_find_similar(diff, &find), "git_diff_find_similar")
        } catch {
            git_diff_free(diff)
            throw error
        }
        return diff
    }
}
