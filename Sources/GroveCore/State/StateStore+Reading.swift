import Foundation
import GRDB

extension StateStore {
    /// Opens the database of `home` for the reading commands (`grove status`, `logs`, `report`),
    /// nil when grove has never run there. Looking never writes: `grove.sqlite` and its `-wal`
    /// keep their bytes and times, and nothing is created.
    ///
    /// - With a `-wal` file (a grove is running, or one ended without closing its connections,
    ///   which is how a grove process exits): a read-only connection, a WAL reader that sees each
    ///   transaction a live grove commits. It cannot checkpoint, so the WAL is left as it is.
    /// - Without one (the database was checkpointed, no grove has it open): the file is copied into
    ///   memory through a plain connection which, the last to close, removes the `-wal` and `-shm`
    ///   files it made (a read-only one would leave them behind, empty). The copy is what the
    ///   database held at that moment; no grove was writing it.
    ///
    /// A run whose grove died reads as `interrupted` (as `markInterrupted()` would store it), and
    /// a database of an older schema reads migrated: both on an in-memory copy, never on disk.
    /// Writing through a reader fails (read-only connection) or changes only that copy.
    public static func reader(
        home: GroveHome, busyTimeout: TimeInterval = 10, isAlive: (Int32) -> Bool = ProcessLiveness.isAlive
    ) throws -> StateStore? {
        try reader(path: home.database, busyTimeout: busyTimeout, isAlive: isAlive)
    }

    /// `reader(home:)` for the database at `path`.
    public static func reader(
        path: String, busyTimeout: TimeInterval = 10, isAlive: (Int32) -> Bool = ProcessLiveness.isAlive
    ) throws -> StateStore? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "grove.state.reader"

        var connection: any DatabaseWriter
        var copied = false
        if FileManager.default.fileExists(atPath: path + "-wal") {
            configuration.readonly = true
            connection = try DatabaseQueue(path: path, configuration: configuration)
        } else {
            connection = try memoryCopy(of: DatabaseQueue(path: path, configuration: configuration))
            copied = true
        }

        let migrator = Schema.migrator
        let (superseded, complete) = try connection.read { db in
            (try migrator.hasBeenSuperseded(db), try migrator.hasCompletedMigrations(db))
        }
        if superseded { throw StateError.newerSchema(path: path) }
        // An older schema, or none yet (a grove that died while creating the database).
        if !complete {
            if !copied { connection = try memoryCopy(of: connection) }
            copied = true
            try migrate(connection, path: path)
        }
        let running = try connection.read { db in
            try RunRecord.filter(RunRecord.Columns.state == RunState.running).fetchAll(db)
        }
        let dead = running.contains { !isAlive($0.pid) }
        if dead && !copied { connection = try memoryCopy(of: connection) }
        let store = StateStore(path: path, reader: connection)
        if dead { try store.markInterrupted(isAlive: isAlive) }
        return store
    }

    /// The database of `source`, copied into memory (one read transaction, so one moment).
    private static func memoryCopy(of source: any DatabaseReader) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.label = "grove.state.copy"
        let copy = try DatabaseQueue(configuration: configuration)
        try source.backup(to: copy)
        return copy
    }
}
