import Clibgit2
import Foundation

/// A checkout was refused because it would overwrite local changes.
public struct CheckoutConflictError: Error, Sendable, Equatable, LocalizedError {
    public let worktree: String
    public let paths: [String]

    public var errorDescription: String? {
        "local changes in \(worktree) would be overwritten (\(summarize(paths)));"
            + " commit or stash them and try again"
    }
}

extension Repository {
    /// Moves this working tree's HEAD — its branch, or a detached HEAD — to `commit` and
    /// updates index and files to match, like `git merge --ff-only` / `git checkout`. Local
    /// changes the move does not touch are kept; when it would overwrite any, it throws
    /// `CheckoutConflictError` and changes nothing. The branch moves by compare-and-swap.
    /// With `expected`, HEAD must be there now, else `ReferenceMovedError` and nothing changes:
    /// a caller that decided the move from an earlier read must not overwrite a newer tip.
    public func moveHead(to commit: ObjectID, expecting expected: ObjectID? = nil, message: String) throws {
        guard let oldCommit = try headCommit() else {
            throw GitError(
                function: "moveHead", code: GIT_EUNBORNBRANCH.rawValue, errorClass: 6,
                message: "HEAD of \(workingDirectory ?? gitDirectory) has no commit yet")
        }
        if let expected, oldCommit != expected {
            throw ReferenceMovedError(
                reference: try headBranchName().map { "refs/heads/\($0)" } ?? "HEAD", expected: expected,
                actual: oldCommit)
        }
        if oldCommit == commit { return }
        try checkout(commit, baseline: oldCommit)
        do {
            if let branch = try headBranchName() {
                try updateReference(named: "refs/heads/\(branch)", to: commit, expecting: oldCommit, message: message)
            } else {
                var oid = commit.oid
                try GitError.check(git_repository_set_head_detached(pointer, &oid), "git_repository_set_head_detached")
            }
        } catch {
            // The ref did not move: put the files back where HEAD still is.
            try? checkout(oldCommit, baseline: commit)
            throw error
        }
    }

    /// Brings index and files up to HEAD after HEAD's branch was moved underneath this working
    /// tree (e.g. a branch fast-forwarded elsewhere), from `previous`, the commit the files
    /// still reflect. Local changes are kept or, when they would be overwritten, reported by
    /// `CheckoutConflictError` with nothing changed.
    public func syncWorkingTree(from previous: ObjectID) throws {
        guard let head = try headCommit(), head != previous else { return }
        try checkout(head, baseline: previous)
    }

    /// Writes every file of HEAD, overwriting what is there: the second phase of a worktree
    /// added with `WorktreeCheckout.none`. Files are written as they are stored, without
    /// libgit2's filter lookup, when nothing could filter them (`checkoutMayFilter`); into an
    /// empty working tree, grove then writes them itself (`FreshCheckout`).
    /// Returns what the fast path wrote (`WorkingTreeSnapshot`), nil when libgit2 checked out.
    @discardableResult
    public func checkoutHead(force: Bool) throws -> WorkingTreeSnapshot? {
        var options = git_checkout_options()
        try GitError.check(
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy =
            force ? GIT_CHECKOUT_FORCE.rawValue : GIT_CHECKOUT_SAFE.rawValue | GIT_CHECKOUT_RECREATE_MISSING.rawValue
        if let head = try headCommit(), try !checkoutMayFilter(head) {
            options.disable_filters = 1
            if force {
                do {
                    return try FreshCheckout.write(self, head: head)
                } catch is FreshCheckout.NotApplicable {
                    // libgit2's forced checkout below writes everything, over what was written.
                }
            }
        }
        try GitError.check(git_checkout_head(pointer, &options), "git_checkout_head")
        return nil
    }

    /// A SAFE checkout of `target`'s tree against `baseline`'s tree (what the files reflect now),
    /// collecting conflicting paths. libgit2 decides all actions before writing, so a conflict
    /// means nothing was written.
    ///
    /// Only the paths that differ between the two trees are looked at: libgit2 would otherwise
    /// stat every file of the working tree (measured: ~50 ms per move in a 15,000-file tree, the
    /// main cost of landing a task), and files the move does not touch stay as they are anyway.
    private func checkout(_ target: ObjectID, baseline: ObjectID) throws {
        let targetTree = try lookupTree(ofCommit: target)
        defer { git_tree_free(targetTree) }
        let baselineTree = try lookupTree(ofCommit: baseline)
        defer { git_tree_free(baselineTree) }

        // A merge in progress must stop the move even when its paths are not among those the
        // move touches (as `git merge --ff-only` refuses to run then).
        let index = try make("git_repository_index") { git_repository_index(&$0, pointer) }
        defer { git_index_free(index) }
        try GitError.check(git_index_read(index, 0), "git_index_read")
        let unmerged = try conflictPaths(in: index)
        if !unmerged.isEmpty {
            throw CheckoutConflictError(worktree: workingDirectory ?? gitDirectory, paths: unmerged)
        }
        let paths = try differingPaths(baselineTree, targetTree)
        if paths.isEmpty { return }

        final class Conflicts { var paths: [String] = [] }
        let conflicts = Conflicts()
        var options = git_checkout_options()
        try GitError.check(
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
        options.baseline = baselineTree
        options.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT.rawValue
        options.notify_cb = { why, path, _, _, _, payload in
            if why == GIT_CHECKOUT_NOTIFY_CONFLICT, let path, let payload {
                Unmanaged<Conflicts>.fromOpaque(payload).takeUnretainedValue().paths.append(String(cString: path))
            }
            return 0
        }
        let result = withExtendedLifetime(conflicts) { () -> Int32 in
            options.notify_payload = Unmanaged.passUnretained(conflicts).toOpaque()
            return withStrArray(paths) { list in
                options.paths = list.pointee
                return git_checkout_tree(pointer, targetTree, &options)
            }
        }
        if result == GIT_ECONFLICT.rawValue || !conflicts.paths.isEmpty {
            var paths = conflicts.paths
            // Unmerged index entries (a merge in progress) also stop a SAFE checkout, but libgit2
            // does not notify them: name them, or the error would list no path at all.
            if paths.isEmpty { paths = (try? status().paths(.conflicted)) ?? [] }
            throw CheckoutConflictError(worktree: workingDirectory ?? gitDirectory, paths: paths.sorted())
        }
        try GitError.check(result, "git_checkout_tree")
    }

    /// Every path whose entry differs between two trees (both sides of a rename, no rename
    /// detection), for a checkout limited to what changes. Only differing subtrees are read
    /// (`TreeDifference`); a file that became a directory goes through libgit2's full diff.
    private func differingPaths(_ old: OpaquePointer, _ new: OpaquePointer) throws -> [String] {
        do {
            return try TreeDifference.paths(from: git_tree_id(old).pointee, to: git_tree_id(new).pointee, in: pointer)
        } catch is TreeDifference.TypeChange {
            return try diffedPaths(old, new)
        }
    }

    private func diffedPaths(_ old: OpaquePointer, _ new: OpaquePointer) throws -> [String] {
        var options = git_diff_options()
        try GitError.check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        options.flags = GIT_DIFF_INCLUDE_TYPECHANGE.rawValue | GIT_DIFF_SKIP_BINARY_CHECK.rawValue
        let diff = try make("git_diff_tree_to_tree") { git_diff_tree_to_tree(&$0, pointer, old, new, &options) }
        defer { git_diff_free(diff) }
        var paths = Set<String>()
        for index in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, index) else { continue }
            if let path = delta.pointee.old_file.path { paths.insert(String(cString: path)) }
            if let path = delta.pointee.new_file.path { paths.insert(String(cString: path)) }
        }
        return paths.sorted()
    }
}
