import Clibgit2
import Foundation
import GroveBasics

/// A checkout was refused because it would overwrite local changes or untracked files.
public struct CheckoutConflictError: Error, Sendable, Equatable, LocalizedError {
    public let worktree: String
    /// Every path in the way, sorted.
    public let paths: [String]
    /// Those of `paths` that are untracked files (the others are local changes, in the files
    /// or staged).
    public var untracked: [String] = []

    /// The paths with local changes (modified, deleted or staged).
    public var changed: [String] { paths.filter { !untracked.contains($0) } }

    /// What is in the way, in git's words: "local changes (a.txt) and untracked files (b.txt)".
    public var obstacles: String {
        [
            changed.isEmpty ? nil : "local changes (\(summarize(changed)))",
            untracked.isEmpty ? nil : "untracked files (\(summarize(untracked)))",
        ].compactMap { $0 }.joined(separator: " and ")
    }

    /// What to do about them.
    public var remedy: String {
        switch (changed.isEmpty, untracked.isEmpty) {
        case (false, true): "commit or stash them"
        case (true, false): "move or remove them"
        default: "commit or stash the changes and move or remove the untracked files"
        }
    }

    public var errorDescription: String? {
        "\(obstacles) in \(worktree) would be overwritten; \(remedy) and try again"
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
                function: "moveHead", code: GIT_EUNBORNBRANCH.rawValue, errorClass: GIT_ERROR_REPOSITORY,
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

    /// Moves index and files from `baseline`'s tree (what the files reflect now) to `target`'s,
    /// by git's rules (`CheckoutPlan`): only the paths the move changes are looked at and
    /// written, and a local change on one of them stops the move, reported as a
    /// `CheckoutConflictError` with nothing written. Local changes anywhere else, in the files or
    /// staged, stay exactly as they were.
    ///
    /// Looking only at the changed paths also keeps libgit2 from stat-ing every file of the
    /// working tree (measured: ~50 ms per move in a 15,000-file tree, the main cost of landing a
    /// task). The write is libgit2's SAFE checkout of the planned paths: it decides all actions
    /// before writing, so a change made since the plan was made still stops it whole.
    private func checkout(_ target: ObjectID, baseline: ObjectID) throws {
        let targetTree = try lookupTree(ofCommit: target)
        defer { git_tree_free(targetTree) }
        let baselineTree = try lookupTree(ofCommit: baseline)
        defer { git_tree_free(baselineTree) }
        let paths = try checkoutPlan(from: baselineTree, to: targetTree).paths
        if paths.isEmpty { return }

        final class Conflicts { var paths: [String] = [] }
        let conflicts = Conflicts()
        var options = git_checkout_options()
        try GitError.check(
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        // A file the user deleted (without staging it) is written again, as git does.
        options.checkout_strategy =
            GIT_CHECKOUT_SAFE.rawValue | GIT_CHECKOUT_RECREATE_MISSING.rawValue
            | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
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
            git_error_clear()
            // Changed since the plan was made (libgit2 names what it found; else the plan's paths).
            throw CheckoutConflictError(
                worktree: workingDirectory ?? gitDirectory,
                paths: conflicts.paths.isEmpty ? paths : conflicts.paths.sorted())
        }
        try GitError.check(result, "git_checkout_tree")
    }

    /// Every path whose entry differs between two trees (both sides of a rename, no rename
    /// detection), for a checkout limited to what changes. Only differing subtrees are read
    /// (`TreeDifference`); a file that became a directory goes through libgit2's full diff.
    func differingPaths(_ old: OpaquePointer, _ new: OpaquePointer) throws -> [String] {
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
