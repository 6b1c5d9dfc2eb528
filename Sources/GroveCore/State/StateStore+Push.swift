import Foundation
import GRDB

extension StateStore {
    /// Records a push outcome, replacing the row of the same (run, task, remote), and stamps the time.
    public func savePush(_ record: PushRecord) throws {
        var record = record
        record.updatedAt = Date()
        try pool.write { db in try record.save(db) }
    }

    /// The last push of one task branch to one remote, nil when grove never pushed it there.
    /// Its `commit` is the expected old id of `--force-with-lease`.
    public func push(run: Int, task: String, remote: String) throws -> PushRecord? {
        try pool.read { db in try PushRecord.fetchOne(db, key: ["run": run, "task": task, "remote": remote]) }
    }

    /// A run's push rows, in task order (then by remote): what `grove status` and `grove report`
    /// show of `grove push`. Empty when the run was never pushed.
    public func pushes(run: Int) throws -> [PushRecord] {
        try rowsInTaskOrder(PushRecord.self, run: run, then: ["task", "remote"])
    }
}
