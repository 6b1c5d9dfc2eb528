import Clibgit2

/// The in-memory rebase of commits whose changes land on paths the new base left alone: the
/// merge queue's usual case (each task edits a few files of a large tree). Each commit's tree
/// is the base tree with the commit's own changes applied, path by path; only the trees on the
/// changed paths are read or written, where libgit2's rebase merges all three trees entry by
/// entry and builds an index of the whole tree for every commit (measured: 44% of landing a
/// task in a 15,000-file repository).
///
/// The result is what a three-way merge gives when each changed path holds, in the new base,
/// either its version before the commit or its version after it. Anything else — a path both
/// sides changed, a file that became a directory, a root or merge commit in the way — is left
/// to libgit2's rebase (`PathRebase.NotTrivial`), which merges contents and finds renames.
enum PathRebase {
    struct NotTrivial: Error {}

    /// Replays the commits of `tip` that `upstream` lacks onto `onto`, oldest first, as
    /// `git_rebase` does in memory: merge commits are skipped, commits that change nothing on the
    /// new base are dropped, author and message are kept, `committer` commits. Throws
    /// `NotTrivial` (having written only unreachable objects) when a commit needs a real merge.
    static func rebase(
        _ tip: ObjectID, onto: ObjectID, upstream: ObjectID, committer: UnsafePointer<git_signature>,
        in repository: Repository
    ) throws -> RebaseOutcome {
        let repo = repository.pointer
        var last = onto
        var lastTree = try treeID(of: onto, in: repo)
        var created: [ObjectID] = []
        for original in try commitsToReplay(tip, upstream: upstream, in: repo) {
            let commit = try lookupCommit(original, in: repo)
            defer { git_commit_free(commit) }
            guard git_commit_parentcount(commit) == 1 else {
                if git_commit_parentcount(commit) > 1 { continue }  // merges are flattened away
                throw NotTrivial()
            }
            guard let parentID = git_commit_parent_id(commit, 0), let commitTree = git_commit_tree_id(commit) else {
                throw NotTrivial()
            }
            let parentTree = try treeID(of: ObjectID(parentID.pointee), in: repo)
            let newTree: git_oid
            if oidsEqual(parentTree, lastTree) {
                newTree = commitTree.pointee
            } else {
                let changes: [String: TreeDifference.Change]
                do {
                    changes = try TreeDifference.changes(from: parentTree, to: commitTree.pointee, in: repo)
                } catch is TreeDifference.TypeChange {
                    throw NotTrivial()
                }
                newTree = try apply(changes, to: lastTree, in: repo, isRoot: true) ?? lastTree
            }
            if oidsEqual(newTree, lastTree) { continue }  // nothing left of it: dropped
            last = try makeCommit(like: commit, tree: newTree, parent: last, committer: committer, in: repo)
            lastTree = newTree
            created.append(last)
        }
        return .rebased(tip: last, commits: created)
    }

    /// The commits `git_rebase` would replay: reachable from `tip`, not from `upstream`, parents
    /// before children.
    private static func commitsToReplay(_ tip: ObjectID, upstream: ObjectID, in repo: OpaquePointer) throws
        -> [ObjectID]
    {
        let walk = try make("git_revwalk_new") { git_revwalk_new(&$0, repo) }
        defer { git_revwalk_free(walk) }
        try GitError.check(
            git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue), "git_revwalk_sorting")
        var tipOID = tip.oid
        var upstreamOID = upstream.oid
        try GitError.check(git_revwalk_push(walk, &tipOID), "git_revwalk_push")
        try GitError.check(git_revwalk_hide(walk, &upstreamOID), "git_revwalk_hide")
        var commits: [ObjectID] = []
        var next = git_oid()
        while git_revwalk_next(&next, walk) == 0 { commits.append(ObjectID(next)) }
        return commits
    }

    // MARK: Trees

    /// `changes` applied to the tree `base` (nil: none); the new tree's id, or nil when it came
    /// out empty (git stores no empty subtree; the root is written even then).
    private static func apply(
        _ changes: [String: TreeDifference.Change], to base: git_oid?, in repo: OpaquePointer, isRoot: Bool
    )
        throws -> git_oid?
    {
        let tree: OpaquePointer? =
            if var base {
                try make("git_tree_lookup") { git_tree_lookup(&$0, repo, &base) }
            } else {
                nil
            }
        defer { tree.map { git_tree_free($0) } }
        let builder = try make("git_treebuilder_new") { git_treebuilder_new(&$0, repo, tree) }
        defer { git_treebuilder_free(builder) }
        for (name, change) in changes {
            let existing = tree.flatMap { git_tree_entry_byname($0, name) }.map { TreeDifference.Entry($0) }
            switch change {
            case .leaf(let old, let new):
                if existing?.mode == GIT_FILEMODE_TREE { throw NotTrivial() }
                // Base deleted it too: git may see a rename on either side (rename/rename,
                // rename/delete), which only a real merge tells.
                if existing == nil && new == nil { throw NotTrivial() }
                if existing == new { continue }  // base has it already
                guard existing == old else { throw NotTrivial() }  // base changed it too
                if var new {
                    try GitError.check(
                        git_treebuilder_insert(nil, builder, name, &new.id, new.mode), "git_treebuilder_insert")
                } else {
                    try GitError.check(git_treebuilder_remove(builder, name), "git_treebuilder_remove")
                }
            case .directory(let inner):
                if let existing, existing.mode != GIT_FILEMODE_TREE { throw NotTrivial() }
                if var subtree = try apply(inner, to: existing?.id, in: repo, isRoot: false) {
                    try GitError.check(
                        git_treebuilder_insert(nil, builder, name, &subtree, GIT_FILEMODE_TREE),
                        "git_treebuilder_insert")
                } else if existing != nil {
                    try GitError.check(git_treebuilder_remove(builder, name), "git_treebuilder_remove")
                }
            }
        }
        if !isRoot && git_treebuilder_entrycount(builder) == 0 { return nil }
        var written = git_oid()
        try GitError.check(git_treebuilder_write(&written, builder), "git_treebuilder_write")
        return written
    }

    // MARK: Commits

    private static func makeCommit(
        like original: OpaquePointer, tree: git_oid, parent: ObjectID, committer: UnsafePointer<git_signature>,
        in repo: OpaquePointer
    ) throws -> ObjectID {
        var treeOID = tree
        let treeObject = try make("git_tree_lookup") { git_tree_lookup(&$0, repo, &treeOID) }
        defer { git_tree_free(treeObject) }
        let parentCommit = try lookupCommit(parent, in: repo)
        defer { git_commit_free(parentCommit) }
        var parents: [OpaquePointer?] = [parentCommit]
        var id = git_oid()
        // As libgit2's rebase writes it: the original's author, message and encoding.
        try GitError.check(
            git_commit_create(
                &id, repo, nil, git_commit_author(original), committer, git_commit_message_encoding(original),
                git_commit_message(original), treeObject, 1, &parents),
            "git_commit_create")
        return ObjectID(id)
    }

    private static func lookupCommit(_ id: ObjectID, in repo: OpaquePointer) throws -> OpaquePointer {
        var oid = id.oid
        return try make("git_commit_lookup") { git_commit_lookup(&$0, repo, &oid) }
    }

    private static func treeID(of commit: ObjectID, in repo: OpaquePointer) throws -> git_oid {
        let object = try lookupCommit(commit, in: repo)
        defer { git_commit_free(object) }
        guard let id = git_commit_tree_id(object) else { throw NotTrivial() }
        return id.pointee
    }

    private static func oidsEqual(_ left: git_oid, _ right: git_oid) -> Bool {
        var left = left
        var right = right
        return git_oid_equal(&left, &right) != 0
    }
}
