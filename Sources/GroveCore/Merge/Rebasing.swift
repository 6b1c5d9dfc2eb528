import GroveGit

/// How a task's branch goes onto its base: one function shared by the queue and by `--plan`'s
/// simulation, so the plan predicts exactly what the queue meets.
enum Rebasing {
    enum Result: Equatable {
        /// Base already has everything; `alreadyApplied` when only patch-equal commits were left.
        case nothingToLand(alreadyApplied: Bool)
        /// `commit` (one of the branch's) does not apply; `paths` conflict.
        case conflict(commit: ObjectID, paths: [String])
        /// The rebased tip and how many commits it adds to base.
        case candidate(tip: ObjectID, commits: Int)
    }

    /// Replays the commits of `tip` that `baseTip` lacks onto `baseTip`, in memory (only new
    /// commit objects are written). A branch already on top of base with a linear history is
    /// its own candidate, as `git rebase` leaves it; merge commits are flattened, so base's
    /// history stays linear either way.
    static func rebase(_ tip: ObjectID, onto baseTip: ObjectID, in repository: Repository, committer: Signature?)
        throws -> Result
    {
        let ahead = try repository.aheadBehind(tip, baseTip).ahead
        if ahead == 0 { return .nothingToLand(alreadyApplied: false) }
        if try repository.isAncestor(baseTip, of: tip), try isLinear(repository, from: tip, down: baseTip, count: ahead)
        {
            return .candidate(tip: tip, commits: ahead)
        }
        switch try repository.rebaseInMemory(tip, onto: baseTip, committer: committer) {
        case .conflict(let commit, let paths):
            return .conflict(commit: commit, paths: paths)
        case .rebased(let newTip, let commits):
            return commits.isEmpty
                ? .nothingToLand(alreadyApplied: true) : .candidate(tip: newTip, commits: commits.count)
        }
    }

    /// True when the `count` commits from `tip` down to `base` form a single line of
    /// single-parent commits.
    private static func isLinear(_ repository: Repository, from tip: ObjectID, down base: ObjectID, count: Int) throws
        -> Bool
    {
        var current = tip
        for _ in 0..<count {
            let parents = try repository.commit(current).parents
            guard parents.count == 1 else { return false }
            current = parents[0]
        }
        return current == base
    }
}
