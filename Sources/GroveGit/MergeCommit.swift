import Clibgit2

/// What merging several commits into one gave.
public enum MergeCommitOutcome: Sendable, Equatable {
    /// A new merge commit (written, not referenced by any ref) whose parents are the commits.
    case merged(ObjectID)
    /// The paths on which they conflict, sorted; nothing was written.
    case conflicts([String])
}

extension Repository {
    /// Merges `commits` (two or more) in memory, one after the other, into a single commit with
    /// all of them as parents, like `git merge` of several branches would; no working tree,
    /// index or ref is touched. With one commit, returns it. The merge commit is only an object:
    /// whoever uses it points a ref at it.
    public func mergeCommit(of commits: [ObjectID], message: String) throws -> MergeCommitOutcome {
        guard let first = commits.first else {
            throw GitError(
                function: "mergeCommit", code: -1, errorClass: GIT_ERROR_INVALID, message: "no commits to merge")
        }
        guard commits.count > 1 else { return .merged(first) }
        var options = git_merge_options()
        try GitError.check(
            git_merge_options_init(&options, UInt32(GIT_MERGE_OPTIONS_VERSION)), "git_merge_options_init")
        let identity = try defaultSignature()
        let signature = try identity.makeRaw()
        defer { git_signature_free(signature) }

        // Each step merges the result so far (an unreferenced commit) with the next commit.
        var current = first
        var treeID = git_oid()
        for (position, next) in commits.dropFirst().enumerated() {
            let ours = try lookupCommit(current)
            defer { git_commit_free(ours) }
            let theirs = try lookupCommit(next)
            defer { git_commit_free(theirs) }
            let index = try make("git_merge_commits") { git_merge_commits(&$0, pointer, ours, theirs, &options) }
            defer { git_index_free(index) }
            let conflicts = try conflictPaths(in: index)
            guard conflicts.isEmpty else { return .conflicts(conflicts) }
            try GitError.check(git_index_write_tree_to(&treeID, index, pointer), "git_index_write_tree_to")
            let tree = try make("git_tree_lookup") { git_tree_lookup(&$0, pointer, &treeID) }
            defer { git_tree_free(tree) }
            // The last step gets every commit as a parent; the steps before are scaffolding.
            let parentIDs = position == commits.count - 2 ? commits : [current, next]
            let parents = try parentIDs.map { try lookupCommit($0) }
            defer { for parent in parents { git_commit_free(parent) } }
            var pointers: [OpaquePointer?] = parents
            var newID = git_oid()
            try GitError.check(
                git_commit_create(
                    &newID, pointer, nil, signature, signature, nil, message, tree, pointers.count, &pointers),
                "git_commit_create")
            current = ObjectID(newID)
        }
        return .merged(current)
    }

    /// Puts this worktree back on `branch` at `commit`, as `git checkout -B branch commit` then
    /// `git reset --hard` and `git clean` (ignored files stay) would: whatever HEAD was on, it is
    /// on `branch` afterwards, with index and files at `commit`. Destructive by design — the caller
    /// saves what the worktree held first. The branch moves by compare-and-swap from where it was.
    public func resetWorktree(toBranch branch: String, at commit: ObjectID) throws {
        let name = "refs/heads/\(branch)"
        let current = try reference(named: name)?.target
        if current != commit {
            try updateReference(
                named: name, to: commit, expecting: current, message: "grove: reset \(branch) for a retry")
        }
        try GitError.check(git_repository_set_head(pointer, name), "git_repository_set_head")
        // The index first, as `reset --hard` does: a worktree whose making was cut short (grove
        // killed mid-checkout) has an empty or partial index, and a checkout against it leaves the
        // missing entries out — the next commit would then delete those files.
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        let index = try make("git_repository_index") { git_repository_index(&$0, pointer) }
        defer { git_index_free(index) }
        try GitError.check(git_index_read_tree(index, tree), "git_index_read_tree")
        try GitError.check(git_index_write(index), "git_index_write")
        var options = git_checkout_options()
        try GitError.check(
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_REMOVE_UNTRACKED.rawValue
        try GitError.check(git_checkout_head(pointer, &options), "git_checkout_head")
    }
}
