import GRDB

// Stored by raw value, so the database reads the same words as `--json`.
extension TaskState: DatabaseValueConvertible {}
extension RunState: DatabaseValueConvertible {}
extension SyncOutcome: DatabaseValueConvertible {}
