import Foundation
import GRDB

/// One earlier attempt of a task that was tried again (`--retries`, `grove retry`): how it
/// ended, its log (`logs/<run>/<task>.<n>.log`), and the ref that keeps what it left behind
/// (`refs/grove/attempts/<run>/<task>/<n>`). The task's own row is its latest attempt.
public struct AttemptRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public let run: Int
    public let task: String
    /// 1 for the first attempt.
    public let number: Int
    public var state: TaskState
    public var exitCode: Int32?
    public var signal: Int32?
    public var reason: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var seconds: Double?
    public var log: String
    /// The ref holding the attempt's commits and uncommitted changes; nil when it left nothing.
    public var savedRef: String?
    public var savedCommit: String?

    public static let databaseTableName = "attempt"

    public init(
        run: Int, task: String, number: Int, state: TaskState, exitCode: Int32?, signal: Int32?, reason: String?,
        startedAt: Date?, finishedAt: Date?, seconds: Double?, log: String, savedRef: String?, savedCommit: String?
    ) {
        self.run = run
        self.task = task
        self.number = number
        self.state = state
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.seconds = seconds
        self.log = log
        self.savedRef = savedRef
        self.savedCommit = savedCommit
    }

    enum CodingKeys: String, CodingKey {
        case run, task, number, state, signal, reason, seconds, log
        case exitCode = "exit_code"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case savedRef = "saved_ref"
        case savedCommit = "saved_commit"
    }
}

extension StateStore {
    /// Records a finished earlier attempt.
    public func saveAttempt(_ attempt: AttemptRecord) throws {
        try pool.write { db in try attempt.save(db) }
    }

    /// A run's earlier attempts, by task position then number.
    public func attempts(run: Int) throws -> [AttemptRecord] {
        try rowsInTaskOrder(AttemptRecord.self, run: run, then: ["number"])
    }
}
