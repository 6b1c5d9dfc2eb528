import Clibgit2

/// One commit of a branch as `git cherry` sees it.
public struct CherryCommit: Sendable, Equatable {
    public let id: ObjectID
    /// True when a commit of the upstream since their merge base makes the same change (equal
    /// patch ids): `-` in `git cherry`'s output; false is `+`.
    public let equivalent: Bool
}

extension Repository {
    /// `git cherry upstream tip`: the commits of `tip` that `upstream` lacks, newest first, each
    /// marked equivalent when a non-merge commit of `upstream` since their merge base has the
    /// same patch id (the same change, whatever its message, author or parent). Unlike git
    /// cherry, a merge commit of `tip` is listed, never equivalent (what a merge resolved may be
    /// nowhere else), and so is a commit that changes nothing (git cherry takes any two for
    /// equal; what such a commit holds is its message, which base does not have).
    /// Nil when either side has more than `limit` commits to compare: no answer, rather than a
    /// walk through a huge history.
    public func cherry(_ tip: ObjectID, upstream: ObjectID, limit: Int = 2000) throws -> [CherryCommit]? {
        guard let ours = try commits(from: tip, hiding: upstream, limit: limit),
            let theirs = try commits(from: upstream, hiding: tip, limit: limit)
        else { return nil }
        if ours.isEmpty { return [] }
        var upstreamPatches: Set<ObjectID> = []
        for commit in theirs {
            if let id = try patchID(of: commit) { upstreamPatches.insert(id) }
        }
        return try ours.map { commit in
            let id = try patchID(of: commit)
            return CherryCommit(id: commit, equivalent: id.map(upstreamPatches.contains) ?? false)
        }
    }

    /// The patch id of a commit's change against its first parent (against nothing for a root
    /// commit), as `git patch-id --stable` computes it; nil for a merge commit (git cherry
    /// leaves those out) and for a commit that changes nothing (no patch to compare).
    public func patchID(of commit: ObjectID) throws -> ObjectID? {
        let object = try lookupCommit(commit)
        defer { git_commit_free(object) }
        let parents = git_commit_parentcount(object)
        guard parents <= 1 else { return nil }
        let newTree = try make("git_commit_tree") { git_commit_tree(&$0, object) }
        defer { git_tree_free(newTree) }
        var oldTree: OpaquePointer?
        if parents == 1 {
            let parent = try make("git_commit_parent") { git_commit_parent(&$0, object, 0) }
            defer { git_commit_free(parent) }
            oldTree = try make("git_commit_tree") { git_commit_tree(&$0, parent) }
        }
        defer { if let oldTree { git_tree_free(oldTree) } }
        var options = git_diff_options()
        try GitError.check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
        let diff = try make("git_diff_tree_to_tree") {
            git_diff_tree_to_tree(&$0, pointer, oldTree, newTree, &options)
        }
        defer { git_diff_free(diff) }
        guard git_diff_num_deltas(diff) > 0 else { return nil }
        var patchOptions = git_diff_patchid_options()
        try GitError.check(
            git_diff_patchid_options_init(&patchOptions, UInt32(GIT_DIFF_PATCHID_OPTIONS_VERSION)),
            "git_diff_patchid_options_init")
        var out = git_oid()
        try GitError.check(git_diff_patchid(&out, diff, &patchOptions), "git_diff_patchid")
        return ObjectID(out)
    }

    /// The commits reachable from `tip` but not from `hidden`, newest first; nil past `limit`.
    private func commits(from tip: ObjectID, hiding hidden: ObjectID, limit: Int) throws -> [ObjectID]? {
        let walk = try make("git_revwalk_new") { git_revwalk_new(&$0, pointer) }
        defer { git_revwalk_free(walk) }
        var start = tip.oid
        try GitError.check(git_revwalk_push(walk, &start), "git_revwalk_push")
        var hide = hidden.oid
        try GitError.check(git_revwalk_hide(walk, &hide), "git_revwalk_hide")
        var found: [ObjectID] = []
        var next = git_oid()
        while true {
            let result = git_revwalk_next(&next, walk)
            if result == GIT_ITEROVER.rawValue { break }
            try GitError.check(result, "git_revwalk_next")
            if found.count == limit { return nil }
            found.append(ObjectID(next))
        }
        return found
    }
}
