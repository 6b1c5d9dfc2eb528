import GroveGit

/// A fully validated run: every repository opened, every base found, every branch name free.
/// The runner acts on this and nothing else, so bad input never gets past planning.
public struct Plan: Sendable, Equatable {
    public var run: Int
    /// Tasks at once.
    public var jobs: Int
    public var failFast: Bool
    /// URL repositories cloned or fetched at once (`--clone-jobs`).
    public var cloneJobs: Int
    /// `--first N`: the run stops (cancelling the rest) once this many tasks succeeded.
    public var first: Int?
    /// The task file's absolute path, when the run came from one.
    public var taskFile: String?
    /// In start order.
    public var tasks: [PlannedTask]
}

/// One task, resolved: where it runs, from what, on which branch, doing what.
public struct PlannedTask: Sendable, Equatable {
    public var name: String
    /// The repository's absolute path (its working directory; the git directory if bare). For a
    /// URL repository, its clone in the cache (which may not exist yet).
    public var repository: String
    /// Set when the repository is a URL: the run clones or fetches it before the task starts.
    public var source: RemoteSource?
    /// The base branch. Empty for a URL repository that names none until it is fetched: then it is
    /// the remote's default branch.
    public var base: String
    /// Where `base` pointed when the plan was made; for a URL repository, where the remote's
    /// branch pointed when this run fetched it (nil until then).
    public var baseCommit: ObjectID?
    public var branch: String
    /// `$GROVE_HOME/worktrees/<run>/<task>` (not created by planning).
    public var worktree: String
    public var command: TaskCommand
    public var setup: TaskCommand?
    /// Paths relative to the repository's checkout, checked to stay inside it.
    public var copy: [String]
    public var environment: [String: String]
    public var timeout: Duration?
    public var instructions: String
    /// Tasks of this run that must succeed first; the branch starts from their tip (or merge).
    public var dependsOn: [String]
    /// Extra attempts after a failed or timed-out one.
    public var retries: Int

    /// What the placeholders of an argv command stand for in this task.
    public var commandValues: CommandValues {
        CommandValues(
            task: name, instructions: instructions, repo: source?.display ?? repository, branch: branch, base: base,
            worktree: worktree)
    }

    /// The argv to execute for the command (`/bin/sh -c` for a string command).
    public var argv: [String] { command.argv(commandValues) }
}

/// What `grove run` was given on the command line, before validation.
public struct RunFlags: Sendable, Equatable {
    /// The task file, if any.
    public var file: String?
    /// `--repo`, repeatable.
    public var repos: [String]
    /// `--count N`: N variants of one task.
    public var count: Int?
    /// `--name`: the task name (with `--count`, the stem of `<name>-1`…).
    public var name: String?
    /// `-j N`.
    public var jobs: Int?
    /// `--timeout D`, as typed.
    public var timeout: String?
    public var failFast: Bool
    /// The argv after `--`; empty when none was given.
    public var command: [String]
    /// `--repos-file FILE`: one repository (URL or path) per line, like `--repo` each.
    public var reposFile: String?
    /// `--clone-jobs N`: URL repositories cloned or fetched at once.
    public var cloneJobs: Int?
    /// `--retries N`: extra attempts for every task (overrides `retries:`).
    public var retries: Int?
    /// `--first N`: stop once N tasks succeeded.
    public var first: Int?
    /// `--copy PATH`, repeatable: the flag form's `copy:`.
    public var copy: [String]

    public init(
        file: String? = nil, repos: [String] = [], count: Int? = nil, name: String? = nil, jobs: Int? = nil,
        timeout: String? = nil, failFast: Bool = false, command: [String] = [], reposFile: String? = nil,
        cloneJobs: Int? = nil, retries: Int? = nil, first: Int? = nil, copy: [String] = []
    ) {
        self.copy = copy
        self.retries = retries
        self.first = first
        self.file = file
        self.reposFile = reposFile
        self.cloneJobs = cloneJobs
        self.repos = repos
        self.count = count
        self.name = name
        self.jobs = jobs
        self.timeout = timeout
        self.failFast = failFast
        self.command = command
    }
}
