import Clibgit2

/// Lines added and removed in one file, as `git diff --numstat` counts them: what a report shows
/// so a reviewer sees how large each task's change is before reading it.
public struct FileStat: Sendable, Hashable {
    /// The file's path after the change (before it, for a deleted file).
    public let path: String
    /// For renames and copies, where it came from.
    public let oldPath: String?
    public let insertions: Int
    public let deletions: Int
    /// Binary content has no lines: 0 and 0 here, `-` and `-` in `git diff --numstat`.
    public let isBinary: Bool

    public init(path: String, oldPath: String? = nil, insertions: Int, deletions: Int, isBinary: Bool = false) {
        self.path = path
        self.oldPath = oldPath
        self.insertions = insertions
        self.deletions = deletions
        self.isBinary = isBinary
    }
}

extension Repository {
    /// Per-file line counts between two commits' trees, with renames detected
    /// (`git diff --numstat -M old new`), in git's path order.
    public func diffStat(from old: ObjectID, to new: ObjectID) throws -> [FileStat] {
        // Binary detection on: the counts need to know which files are binary.
        let diff = try treeDiff(from: old, to: new, detectBinary: true)
        defer { git_diff_free(diff) }

        var stats: [FileStat] = []
        for index in 0..<git_diff_num_deltas(diff) {
            var patch: OpaquePointer?
            git_error_clear()
            try GitError.check(git_patch_from_diff(&patch, diff, index), "git_patch_from_diff")
            defer { git_patch_free(patch) }
            // Loading the patch decides binary-ness (a NUL in the first 8000 bytes, as git does)
            // and records it in the delta's flags.
            guard let delta = patch.flatMap({ git_patch_get_delta($0) }) ?? git_diff_get_delta(diff, index) else {
                continue
            }
            let status = delta.pointee.status
            let newPath = String(cString: delta.pointee.new_file.path)
            let oldPath = String(cString: delta.pointee.old_file.path)
            var isBinary = delta.pointee.flags & GIT_DIFF_FLAG_BINARY.rawValue != 0
            var insertions = 0
            var deletions = 0
            if status == GIT_DELTA_TYPECHANGE,
                let counts = try blobLineStats(old: delta.pointee.old_file.id, new: delta.pointee.new_file.id)
            {
                (insertions, deletions, isBinary) = counts
            } else if let patch, !isBinary {
                try GitError.check(git_patch_line_stats(nil, &insertions, &deletions, patch), "git_patch_line_stats")
            }
            let moved = status == GIT_DELTA_RENAMED || status == GIT_DELTA_COPIED
            stats.append(
                FileStat(
                    path: status == GIT_DELTA_DELETED ? oldPath : newPath, oldPath: moved ? oldPath : nil,
                    insertions: insertions, deletions: deletions, isBinary: isBinary))
        }
        return stats
    }

    /// Line counts between two blobs: libgit2's patch of a type change (a file that became a
    /// symlink) counts nothing, where git counts the old lines out and the link's target in.
    /// Nil when either side is not a blob (a submodule), leaving the patch's counts.
    private func blobLineStats(old: git_oid, new: git_oid) throws -> (Int, Int, Bool)? {
        var oldID = old
        var newID = new
        var oldBlob: OpaquePointer?
        var newBlob: OpaquePointer?
        defer {
            git_blob_free(oldBlob)
            git_blob_free(newBlob)
        }
        guard git_blob_lookup(&oldBlob, pointer, &oldID) == 0, git_blob_lookup(&newBlob, pointer, &newID) == 0 else {
            git_error_clear()
            return nil
        }
        let patch = try make("git_patch_from_blobs") { git_patch_from_blobs(&$0, oldBlob, nil, newBlob, nil, nil) }
        defer { git_patch_free(patch) }
        if let delta = git_patch_get_delta(patch), delta.pointee.flags & GIT_DIFF_FLAG_BINARY.rawValue != 0 {
            return (0, 0, true)
        }
        var insertions = 0
        var deletions = 0
        try GitError.check(git_patch_line_stats(nil, &insertions, &deletions, patch), "git_patch_line_stats")
        return (insertions, deletions, false)
    }

    /// What `tip` changed since it left `base`, per file: the counts from their merge base to
    /// `tip` (`git diff --numstat -M base...tip`). Empty when `tip` is contained in `base`.
    public func diffStat(of tip: ObjectID, since base: ObjectID) throws -> [FileStat] {
        try diffStat(from: try commonAncestor(tip, base), to: tip)
    }
}
