import Clibgit2

extension Repository {
    /// Whether `ancestor` is reachable from `descendant` (a commit counts as its own ancestor,
    /// as in `git merge-base --is-ancestor`).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws -> Bool {
        if ancestor == descendant { return true }
        var commit = descendant.oid
        var candidate = ancestor.oid
        return try GitError.check(git_graph_descendant_of(pointer, &commit, &candidate), "git_graph_descendant_of")
            == 1
    }

    /// How many commits `local` has that `upstream` lacks, and the reverse
    /// (`git rev-list --left-right --count local...upstream`).
    public func aheadBehind(_ local: ObjectID, _ upstream: ObjectID) throws -> (ahead: Int, behind: Int) {
        var ahead = 0
        var behind = 0
        var left = local.oid
        var right = upstream.oid
        try GitError.check(git_graph_ahead_behind(&ahead, &behind, pointer, &left, &right), "git_graph_ahead_behind")
        return (ahead, behind)
    }

    /// The best common ancestor of two commits; nil when their histories are unrelated.
    /// The merge base of `tip` and `base`, or an error saying they share no history: what
    /// `git diff base...tip` starts from.
    func commonAncestor(_ tip: ObjectID, _ base: ObjectID) throws -> ObjectID {
        guard let mergeBase = try mergeBase(tip, base) else {
            throw GitError(
                function: "git_merge_base", code: GIT_ENOTFOUND.rawValue, errorClass: GIT_ERROR_MERGE,
                message: "\(tip.short) and \(base.short) have no common history")
        }
        return mergeBase
    }

    public func mergeBase(_ one: ObjectID, _ two: ObjectID) throws -> ObjectID? {
        var out = git_oid()
        var left = one.oid
        var right = two.oid
        let result = git_merge_base(&out, pointer, &left, &right)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try GitError.check(result, "git_merge_base")
        return ObjectID(out)
    }
}
