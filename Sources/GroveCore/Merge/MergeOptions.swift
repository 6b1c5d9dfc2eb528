import GroveGit

/// What `grove merge` was asked to do.
public struct MergeOptions: Sendable, Equatable {
    /// What a conflict does to the rest of a repository's queue.
    public enum ConflictPolicy: String, Sendable, Equatable, CaseIterable {
        /// Park the task as `conflict` and go on with the next one.
        case skip
        /// Park the task and stop the repository's queue.
        case stop
    }

    /// The order tasks are landed in.
    public enum Order: String, Sendable, Equatable, CaseIterable {
        /// Run order (the task file's).
        case run
        /// Tasks `--plan` predicts conflict with nobody (neither base nor another task) first,
        /// then the others, each group in run order.
        case planned
    }

    /// Where `--push` sends each landed base.
    public enum PushTarget: Sendable, Equatable {
        /// The remote of the base's upstream (`branch.<base>.remote`), else `origin`.
        case upstream
        /// This configured remote.
        case remote(String)
    }

    /// The run whose tasks to land; nil for the latest.
    public var run: Int?
    /// `--check CMD`: a shell command run in the task's worktree at the candidate.
    public var check: String?
    public var onConflict: ConflictPolicy
    public var order: Order
    /// `--keep`: landed tasks keep their worktree and branch (moved to the landed commit).
    public var keep: Bool
    /// `--push [REMOTE]`: push each repository's bases there once its queue is done.
    public var push: PushTarget?
    /// The committer of rebased commits; nil for each repository's configured identity.
    public var committer: Signature?

    public init(
        run: Int? = nil, check: String? = nil, onConflict: ConflictPolicy = .skip, order: Order = .run,
        keep: Bool = false, push: PushTarget? = nil, committer: Signature? = nil
    ) {
        self.run = run
        self.check = check
        self.onConflict = onConflict
        self.order = order
        self.keep = keep
        self.push = push
        self.committer = committer
    }
}
