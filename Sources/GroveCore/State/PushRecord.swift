import Foundation
import GRDB

/// How `grove push` left one task branch on one remote. Raw values are what `grove push --json`
/// and the state database use.
public enum PushState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// The remote's branch now points at the task branch's tip.
    case pushed
    /// The remote's branch already pointed there; nothing was sent.
    case upToDate = "up_to_date"
    /// The push was refused (non-fast-forward, a stale lease, a hook); the remote was left alone.
    case rejected
    /// grove could not try (no such remote, the branch is gone, the connection failed).
    case failed

    /// True when the remote holds the task branch's tip.
    public var isSuccess: Bool { self == .pushed || self == .upToDate }
}

/// The last push of one task branch to one remote, and its PR step: one row per
/// (run, task, remote), replaced by each `grove push`. `grove status` and `grove report` read
/// them with `StateStore.pushes(run:)`.
public struct PushRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public let run: Int
    public let task: String
    /// The remote's name in the task's repository (`origin`).
    public let remote: String
    /// The remote ref written, `refs/heads/<branch>`.
    public var ref: String
    public var state: PushState
    /// Why it was rejected or failed (the remote's own words when it gave some); nil otherwise.
    public var reason: String?
    /// The commit grove last knew the remote's branch to be at because grove put it there (or
    /// found it there, up to date): `--force-with-lease` expects the remote still there. A later
    /// rejected or failed push keeps it.
    public var commit: String?
    /// `logs/<run>/<task>.pr.md`, written for pushed and up-to-date tasks.
    public var prBody: String?
    /// The exit status of the last `--pr-command` for the task; nil when none ran (or a signal ended it).
    public var prExitCode: Int32?
    /// The last `http(s)://` URL the PR command printed: the pull request, for the usual commands.
    public var prURL: String?
    /// `logs/<run>/<task>.pr.log`: the PR command's output.
    public var prLog: String?
    public var updatedAt: Date

    public static let databaseTableName = "push"

    public init(
        run: Int, task: String, remote: String, ref: String, state: PushState, reason: String? = nil,
        commit: String? = nil, prBody: String? = nil, prExitCode: Int32? = nil, prURL: String? = nil,
        prLog: String? = nil, updatedAt: Date = Date()
    ) {
        self.run = run
        self.task = task
        self.remote = remote
        self.ref = ref
        self.state = state
        self.reason = reason
        self.commit = commit
        self.prBody = prBody
        self.prExitCode = prExitCode
        self.prURL = prURL
        self.prLog = prLog
        self.updatedAt = updatedAt
    }

    /// True when a PR command ran to success and named its pull request: it is not run again
    /// while the branch stays where it was.
    public var hasPullRequest: Bool { prExitCode == 0 && prURL != nil }

    enum CodingKeys: String, CodingKey {
        case run, task, remote, ref, state, reason, commit
        case prBody = "pr_body"
        case prExitCode = "pr_exit_code"
        case prURL = "pr_url"
        case prLog = "pr_log"
        case updatedAt = "updated_at"
    }

    /// Typed columns for queries.
    public enum Columns {
        public static let run = Column(CodingKeys.run)
        public static let task = Column(CodingKeys.task)
        public static let remote = Column(CodingKeys.remote)
    }
}
