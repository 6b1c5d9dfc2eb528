import GroveGit

/// How a task's branch goes onto its base: one function shared by the queue and by `--plan`'s
/// simulation, so the plan predicts exactly what the queue meets.
enum Rebasing {
    enum Result: Equatable {
        /// Nothing needs landing; the reason says why.
        case nothingToLand(Empty)
        /// `commit` (one of the branch's) does not apply; `paths` conflict.
        case conflict(commit: ObjectID, paths: [String])
        /// The rebased tip and how many commits it adds to base.
        case candidate(tip: ObjectID, commits: Int)
    }

    /// Why a task has nothing to land.
    enum Empty: Equatable {
        /// Base already has its tip.
        case inBase
        /// Only patch-equal commits were left: base has its changes.
        case alreadyApplied
        /// A dependent without commits beyond where it started (its dependencies' tips).
        case noOwnCommits
    }

    /// Replays the task's commits onto `baseTip`, in memory (only new commit objects are
    /// written): those of `tip` that `baseTip` lacks; for a dependent (`start` set: where its
    /// branch started, its dependencies' tips), only its own (see `upstream`), so its
    /// dependencies' commits, landed before it, are not replayed again. A branch already on
    /// top of base with a linear history is its own candidate, as `git rebase` leaves it;
    /// merge commits are flattened, so base's history stays linear either way.
    static func rebase(
        _ tip: ObjectID, onto baseTip: ObjectID, start: ObjectID? = nil, in repository: Repository,
        committer: Signature?
    ) throws -> Result {
        let ahead = try repository.aheadBehind(tip, baseTip).ahead
        if ahead == 0 { return .nothingToLand(.inBase) }
        if let start, try repository.aheadBehind(tip, start).ahead == 0 { return .nothingToLand(.noOwnCommits) }
        let upstream = try self.upstream(of: tip, start: start, baseTip: baseTip, in: repository)
        if upstream == nil, try repository.isAncestor(baseTip, of: tip),
            try isLinear(repository, from: tip, down: baseTip, count: ahead)
        {
            return .candidate(tip: tip, commits: ahead)
        }
        switch try repository.rebaseInMemory(tip, onto: baseTip, upstream: upstream, committer: committer) {
        case .conflict(let commit, let paths):
            return .conflict(commit: commit, paths: paths)
        case .rebased(let newTip, let commits):
            return commits.isEmpty
                ? .nothingToLand(.alreadyApplied) : .candidate(tip: newTip, commits: commits.count)
        }
    }

    /// Where a dependent's own commits begin: its start, when its branch still has it and base
    /// does not (its dependencies landed rebased, so their original commits are not base's).
    /// Nil — its commits are all those base lacks, as for any task — for an independent task,
    /// when base has the start already (its dependencies landed as they were), or when the
    /// branch no longer has it (rebased by hand since).
    static func upstream(of tip: ObjectID, start: ObjectID?, baseTip: ObjectID, in repository: Repository) throws
        -> ObjectID?
    {
        guard let start, try repository.isAncestor(start, of: tip), try !repository.isAncestor(start, of: baseTip)
        else { return nil }
        return start
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
