import Clibgit2

/// The result of an in-memory rebase.
public enum RebaseOutcome: Sendable, Equatable {
    /// Every commit applied: `tip` is the new tip, `commits` the new commits in order (commits
    /// that became empty are dropped, as `git rebase` does). When nothing was left to apply,
    /// `tip` is the onto commit and `commits` is empty.
    case rebased(tip: ObjectID, commits: [ObjectID])
    /// `commit` (an original commit of the branch) did not apply cleanly on the way.
    case conflict(commit: ObjectID, paths: [String])
}

extension Repository {
    /// Replays the commits of `tip` that `upstream` lacks onto `onto` (default: `upstream`),
    /// in memory: no working tree, index or ref changes; only new objects are written. Authors
    /// and messages are kept; the committer is `committer` (default: the configured identity).
    /// Merge commits are dropped, as libgit2 does. Moving any ref is the caller's job.
    public func rebaseInMemory(
        _ tip: ObjectID, onto: ObjectID, upstream: ObjectID? = nil, committer: Signature? = nil
    ) throws -> RebaseOutcome {
        let committerRaw = try (committer ?? defaultSignature()).makeRaw()
        defer { git_signature_free(committerRaw) }
        do {
            return try PathRebase.rebase(
                tip, onto: onto, upstream: upstream ?? onto, committer: UnsafePointer(committerRaw), in: self)
        } catch is PathRebase.NotTrivial {
            // A commit needs a real merge: libgit2's rebase below does it.
        }

        var branchOID = tip.oid
        var upstreamOID = (upstream ?? onto).oid
        var ontoOID = onto.oid
        let branch = try make("git_annotated_commit_lookup") { git_annotated_commit_lookup(&$0, pointer, &branchOID) }
        defer { git_annotated_commit_free(branch) }
        let upstreamCommit = try make("git_annotated_commit_lookup") {
            git_annotated_commit_lookup(&$0, pointer, &upstreamOID)
        }
        defer { git_annotated_commit_free(upstreamCommit) }
        let ontoCommit = try make("git_annotated_commit_lookup") { git_annotated_commit_lookup(&$0, pointer, &ontoOID) }
        defer { git_annotated_commit_free(ontoCommit) }

        var options = git_rebase_options()
        try GitError.check(
            git_rebase_options_init(&options, UInt32(GIT_REBASE_OPTIONS_VERSION)), "git_rebase_options_init")
        options.inmemory = 1
        let rebase = try make("git_rebase_init") {
            git_rebase_init(&$0, pointer, branch, upstreamCommit, ontoCommit, &options)
        }
        defer { git_rebase_free(rebase) }

        var last = onto
        var created: [ObjectID] = []
        while true {
            var operation: UnsafeMutablePointer<git_rebase_operation>?
            let next = git_rebase_next(&operation, rebase)
            if next == GIT_ITEROVER.rawValue { break }
            try GitError.check(next, "git_rebase_next")
            let original = operation.map { ObjectID($0.pointee.id) } ?? tip

            let index = try make("git_rebase_inmemory_index") { git_rebase_inmemory_index(&$0, rebase) }
            let paths = try conflictPaths(in: index)
            git_index_free(index)
            if !paths.isEmpty {
                git_rebase_abort(rebase)
                return .conflict(commit: original, paths: paths)
            }

            var newOID = git_oid()
            let result = git_rebase_commit(&newOID, rebase, nil, committerRaw, nil, nil)
            if result == GIT_EAPPLIED.rawValue { continue }  // became empty: dropped
            try GitError.check(result, "git_rebase_commit")
            last = ObjectID(newOID)
            created.append(last)
        }
        // In memory, finish moves nothing; it only closes the operation.
        try GitError.check(git_rebase_finish(rebase, committerRaw), "git_rebase_finish")
        return .rebased(tip: last, commits: created)
    }
}
