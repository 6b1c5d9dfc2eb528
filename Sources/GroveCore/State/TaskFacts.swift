import Foundation

/// What `grove status --json` and `grove report` both say of a task: who it is, where it works,
/// how it ended and where it was pushed. Each document adds its own keys beside these
/// (`TaskDocument`). Every key is always present, `null` when unknown.
public struct TaskFacts: Codable, Sendable, Equatable {
    public var name: String
    public var repo: String
    /// For a URL repository: the URL (without credentials); `repo` is then its cached clone.
    @Nullable public var source: String?
    /// For a URL repository: `cloned`, `fetched` or `failed` (this run's clone or fetch).
    @Nullable public var sync: String?
    public var base: String
    public var branch: String
    public var worktree: String
    public var state: TaskState
    @Nullable public var exitCode: Int32?
    /// Why the task failed or was cancelled when its exit code does not say it.
    @Nullable public var reason: String?
    @Nullable public var seconds: Double?
    @Nullable public var commits: Int?
    public var changedFiles: [String]
    public var log: String
    /// What `grove push` did with the task's branch, one entry per remote (empty until pushed).
    public var pushes: [StatusReport.PushEntry]

    /// The facts of `task` as stored; `seconds` as the document counts them (so far, while it runs).
    init(_ task: TaskRecord, seconds: Double?, pushes: [PushRecord]) {
        name = task.name
        repo = task.repo
        source = task.source
        sync = task.sourceSync?.rawValue
        base = task.base
        branch = task.branch
        worktree = task.worktree
        state = task.state
        exitCode = task.exitCode
        reason = task.reason
        self.seconds = seconds
        commits = task.commits
        changedFiles = task.changedFiles
        log = task.log
        self.pushes = pushes.filter { $0.task == task.name }.map(StatusReport.PushEntry.init)
    }

    enum CodingKeys: String, CodingKey {
        case name, repo, source, sync, base, branch, worktree, state, reason, seconds, commits, log, pushes
        case exitCode = "exit_code"
        case changedFiles = "changed_files"
    }
}

/// One task of a document: the `TaskFacts` every document shares and the document's own keys
/// (`Extra`), written side by side in one JSON object. Fields of both read as the task's own
/// (`task.state`, `task.attempts`).
@dynamicMemberLookup
public struct TaskDocument<Extra: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var facts: TaskFacts
    public var extra: Extra

    init(_ facts: TaskFacts, _ extra: Extra) {
        self.facts = facts
        self.extra = extra
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<TaskFacts, Value>) -> Value {
        get { facts[keyPath: keyPath] }
        set { facts[keyPath: keyPath] = newValue }
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<Extra, Value>) -> Value {
        get { extra[keyPath: keyPath] }
        set { extra[keyPath: keyPath] = newValue }
    }

    public init(from decoder: any Decoder) throws {
        facts = try TaskFacts(from: decoder)
        extra = try Extra(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try facts.encode(to: encoder)
        try extra.encode(to: encoder)
    }
}
