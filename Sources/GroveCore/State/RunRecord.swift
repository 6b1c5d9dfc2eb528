import Foundation
import GRDB

/// One `grove run` as stored: what was asked (jobs, file, flags) and how it went, so `grove status`,
/// `grove report` and `grove merge` can work from another process or long after the run.
public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public let number: Int
    public var state: RunState
    public var startedAt: Date
    public var finishedAt: Date?
    public var wallSeconds: Double?
    /// The grove process that drives the run: a dead pid on a `running` run means it crashed.
    public var pid: Int32
    public var jobs: Int
    public var taskFile: String?
    public var timeoutSeconds: Double?
    public var failFast: Bool
    /// grove's own command line (already redacted by the caller), for reports.
    public var arguments: [String]
    /// When `grove clean` removed the last of the run's worktrees and branches; nil until then.
    public var cleanedAt: Date?

    public static let databaseTableName = "run"

    enum CodingKeys: String, CodingKey {
        case number, state, pid, jobs, arguments
        case cleanedAt = "cleaned_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case wallSeconds = "wall_seconds"
        case taskFile = "task_file"
        case timeoutSeconds = "timeout_seconds"
        case failFast = "fail_fast"
    }

    /// Typed columns for queries (`RunRecord.Columns.state == RunState.running`).
    public enum Columns {
        public static let number = Column(CodingKeys.number)
        public static let state = Column(CodingKeys.state)
    }
}

/// What `createRun` inserts: everything but the number, which SQLite allocates inside the
/// insert's write transaction, so two processes can never get the same one.
struct NewRunRow: Encodable, PersistableRecord {
    var state: RunState
    var startedAt: Date
    var pid: Int32
    var jobs: Int
    var taskFile: String?
    var timeoutSeconds: Double?
    var failFast: Bool
    var arguments: [String]

    static let databaseTableName = RunRecord.databaseTableName

    enum CodingKeys: String, CodingKey {
        case state, pid, jobs, arguments
        case startedAt = "started_at"
        case taskFile = "task_file"
        case timeoutSeconds = "timeout_seconds"
        case failFast = "fail_fast"
    }
}
