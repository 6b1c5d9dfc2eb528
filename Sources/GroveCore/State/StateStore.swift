import Foundation
import GRDB

/// grove's durable state (`$GROVE_HOME/grove.sqlite`): runs and tasks, written by `grove run` and
/// read at the same time by `grove status` in other processes.
///
/// WAL mode lets readers go on while a run writes; a busy timeout makes a second process wait for
/// the write lock instead of failing. Writes are short `BEGIN IMMEDIATE` transactions. The store is
/// `Sendable`: share one per process between concurrent tasks. Methods block for the length of
/// one short transaction (or the busy timeout at worst).
///
/// `reader(home:)` opens a store that never writes the database (`status`, `logs`, `report`):
/// see StateStore+Reading.swift.
public final class StateStore: Sendable {
    /// Where the database lives.
    public let path: String
    /// A `DatabasePool` for a writing store; for a reader, a read-only connection or an in-memory copy.
    let pool: any DatabaseWriter
    /// True for a store from `reader(home:)`: what it writes never reaches `path`.
    public let isReader: Bool

    /// Opens (creating, then migrating) the database of a grove home.
    public convenience init(home: GroveHome, busyTimeout: TimeInterval = 10) throws {
        try self.init(path: home.database, busyTimeout: busyTimeout)
    }

    /// Opens (creating, then migrating) the database at `path`.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try GroveHome.createPrivateDirectory(atPath: directory)
        }
        Self.makePrivate(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "grove.state"
        let pool = try Self.openPool(path: path, configuration: configuration, patience: busyTimeout)
        try Self.migrate(pool, path: path)
        self.pool = pool
        isReader = false
    }

    /// A reader over `connection` (see `reader(home:)`).
    init(path: String, reader connection: any DatabaseWriter) {
        self.path = path
        pool = connection
        isReader = true
    }

    /// The database is created 0600 before SQLite opens it, and SQLite gives its `-wal` and `-shm`
    /// files the database's mode; a database an older grove made readable to others is tightened
    /// (it is grove's own file, never the user's).
    private static func makePrivate(_ path: String) {
        var info = stat()
        if stat(path, &info) != 0 {
            GroveHome.createPrivateFile(atPath: path)
        } else if info.st_mode & 0o077 != 0 {
            for file in [path, path + "-wal", path + "-shm"] { chmod(file, info.st_mode & 0o700) }
        }
    }

    /// Opens the pool, waiting out another process that is creating the same database: switching
    /// a new file to WAL (`PRAGMA journal_mode = WAL`, run by the pool's first connection) takes
    /// an exclusive lock, and SQLite's busy handler does not cover it, so two groves starting at
    /// once in a new home saw "database is locked" (measured in CI).
    private static func openPool(path: String, configuration: Configuration, patience: TimeInterval) throws
        -> DatabasePool
    {
        let deadline = Date().addingTimeInterval(patience)
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                usleep(20_000)
            }
        }
    }

    /// Opens the database of a home for writing if it exists; nil when grove has never run there,
    /// so that a command finding nothing creates nothing. (Commands that only look use `reader(home:)`.)
    public static func existing(home: GroveHome) throws -> StateStore? {
        guard FileManager.default.fileExists(atPath: home.database) else { return nil }
        return try StateStore(home: home)
    }

    /// The number the next run of `home` will get, creating nothing: 1 when there is no database.
    /// Planning names branches and worktrees after it before anything is stored; `createRun(expecting:)`
    /// then checks that no other grove took it meanwhile.
    ///
    /// It reads through one plain connection, not the pool: opening a pool writes (GRDB creates
    /// and drops a table so that the WAL file exists), and bad input must leave the home as it
    /// was, byte for byte. (A read-only connection would leave `-wal` and `-shm` files behind; this
    /// one, the last to close, removes the ones it made.)
    public static func nextRunNumber(home: GroveHome) throws -> Int {
        guard FileManager.default.fileExists(atPath: home.database) else { return 1 }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        if let number = try? DatabaseQueue(path: home.database, configuration: configuration).read(nextRunNumber) {
            return number
        }
        return try existing(home: home)?.nextRunNumber() ?? 1
    }

    /// The number the next run will get.
    public func nextRunNumber() throws -> Int {
        try pool.read { db in try Self.nextRunNumber(db) }
    }

    private static func nextRunNumber(_ db: Database) throws -> Int {
        // AUTOINCREMENT keeps the highest number ever given in sqlite_sequence (absent until the first insert).
        let last = try Int.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'run'") ?? 0
        return last + 1
    }

    static func migrate(_ pool: any DatabaseWriter, path: String) throws {
        let migrator = Schema.migrator
        if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
            throw StateError.newerSchema(path: path)
        }
        // Processes opening a new database at once can both see a migration as pending; the
        // loser's migration fails (its tables exist) and rolls back, and a later pass finds it
        // applied. Each failure means another process made progress, so a few passes suffice.
        var attempt = 1
        while true {
            do {
                return try migrator.migrate(pool)
            } catch  where attempt < 8 {
                attempt += 1
            }
        }
    }

    // MARK: Runs

    /// Starts a run: allocates its number (1, 2, 3… per home, never reused) and, in the same
    /// transaction, stores its tasks, so no reader ever sees a run without its tasks.
    /// `tasks` gets the new run (its number names branches and worktrees) and returns its tasks.
    /// With `expecting`, the run must get that number (the one planning used), else nothing is
    /// stored and `StateError.runNumberTaken` is thrown: another grove started a run meanwhile.
    @discardableResult
    public func createRun(
        expecting number: Int? = nil, jobs: Int, taskFile: String? = nil, timeoutSeconds: Double? = nil,
        failFast: Bool = false, arguments: [String] = [], pid: Int32 = getpid(), startedAt: Date = Date(),
        tasks: (RunRecord) throws -> [TaskRecord] = { _ in [] }
    ) throws -> RunRecord {
        try pool.write { db in
            if let number, try Self.nextRunNumber(db) != number { throw StateError.runNumberTaken(number) }
            let row = NewRunRow(
                state: .running, startedAt: startedAt, pid: pid, jobs: jobs, taskFile: taskFile,
                timeoutSeconds: timeoutSeconds, failFast: failFast, arguments: arguments)
            try row.insert(db)
            let number = Int(db.lastInsertedRowID)
            guard let run = try RunRecord.fetchOne(db, key: number) else { throw StateError.noSuchRun(number) }
            for task in try tasks(run) {
                try task.insert(db)
            }
            return run
        }
    }

    /// Moves a run to `state`; leaving `running` stamps its end and wall time.
    @discardableResult
    public func setRunState(_ number: Int, _ state: RunState, at date: Date = Date()) throws -> RunRecord {
        try pool.write { db in
            guard var run = try RunRecord.fetchOne(db, key: number) else { throw StateError.noSuchRun(number) }
            run.state = state
            if state == .running {
                run.finishedAt = nil
                run.wallSeconds = nil
            } else {
                run.finishedAt = date
                run.wallSeconds = max(0, date.timeIntervalSince(run.startedAt))
            }
            try run.update(db)
            return run
        }
    }

    /// The run with the highest number, the one `grove status` and `grove merge` default to.
    public func latestRun() throws -> RunRecord? {
        try pool.read { db in
            try RunRecord.order(RunRecord.Columns.number.desc).fetchOne(db)
        }
    }

    /// One run by number, nil when there is none.
    public func run(number: Int) throws -> RunRecord? {
        try pool.read { db in try RunRecord.fetchOne(db, key: number) }
    }

    /// Every run, oldest first (for `grove clean` and `grove report`).
    public func runs() throws -> [RunRecord] {
        try pool.read { db in try RunRecord.order(RunRecord.Columns.number).fetchAll(db) }
    }

    // MARK: Tasks

    /// A run's tasks in task-file order.
    public func tasks(run: Int) throws -> [TaskRecord] {
        try pool.read { db in
            try TaskRecord.filter(TaskRecord.Columns.run == run).order(TaskRecord.Columns.position).fetchAll(db)
        }
    }

    /// A run's rows of a table kept per task (`attempt`, `push`: columns `run` and `task`), in
    /// the order of their tasks, then by `then` (columns of that table).
    func rowsInTaskOrder<Row: FetchableRecord & TableRecord>(_: Row.Type, run: Int, then: [String]) throws -> [Row] {
        let table = Row.databaseTableName
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(table).* FROM \(table)
                    LEFT JOIN task ON task.run = \(table).run AND task.name = \(table).task
                    WHERE \(table).run = ?
                    ORDER BY \((["task.position"] + then.map { "\(table).\($0)" }).joined(separator: ", "))
                    """,
                arguments: [run])
        }
    }

    /// One task, nil when the run has no task of that name.
    public func task(run: Int, name: String) throws -> TaskRecord? {
        try pool.read { db in try TaskRecord.fetchOne(db, key: ["run": run, "name": name]) }
    }

    /// Reads, changes and writes back one task in one transaction, so concurrent updates of
    /// the same task never lose each other's fields. Returns the stored result.
    @discardableResult
    public func updateTask(
        run: Int, name: String, _ change: (inout TaskRecord) throws -> Void
    ) throws -> TaskRecord {
        try pool.write { db in
            guard var task = try TaskRecord.fetchOne(db, key: ["run": run, "name": name]) else {
                throw StateError.noSuchTask(run: run, name: name)
            }
            let before = task
            try change(&task)
            try task.updateChanges(db, from: before)
            return task
        }
    }

    // MARK: Status

    /// The `grove status --json` document of a run (the latest when `number` is nil).
    /// It only reads: call `markInterrupted()` first so a crashed run does not show as running.
    public func statusReport(run number: Int? = nil, now: Date = Date()) throws -> StatusReport {
        let (run, tasks) = try runWithTasks(number: number)
        return StatusReport(
            run: run, tasks: tasks, merges: try merges(run: run.number), pushes: try pushes(run: run.number),
            attempts: try attempts(run: run.number), now: now)
    }

    /// Run `number` (the latest when nil) and its tasks in order, read in one transaction so they
    /// belong to one moment. Throws `StateError.noSuchRun` / `.noRuns`.
    public func runWithTasks(number: Int? = nil) throws -> (RunRecord, [TaskRecord]) {
        try pool.read { db in
            let found =
                if let number {
                    try RunRecord.fetchOne(db, key: number)
                } else {
                    try RunRecord.order(RunRecord.Columns.number.desc).fetchOne(db)
                }
            guard let run = found else { throw number.map { StateError.noSuchRun($0) } ?? StateError.noRuns }
            let tasks = try TaskRecord.filter(TaskRecord.Columns.run == run.number)
                .order(TaskRecord.Columns.position).fetchAll(db)
            return (run, tasks)
        }
    }
}

extension StateStore {
    /// `grove retry`: run `number` goes back to `running` under this process, and the tasks
    /// `names` back to `queued` (their attempt count kept). The run's start moves forward by the
    /// time it stood finished, so its wall time counts only the time grove was running it.
    public func reopenRun(_ number: Int, resetting names: [String], at date: Date = Date()) throws -> RunRecord {
        try pool.write { db in
            guard var run = try RunRecord.fetchOne(db, key: number) else { throw StateError.noSuchRun(number) }
            let ranFor = run.wallSeconds ?? 0
            run.state = .running
            run.pid = getpid()
            run.startedAt = date.addingTimeInterval(-ranFor)
            run.finishedAt = nil
            run.wallSeconds = nil
            run.cleanedAt = nil
            try run.update(db)
            for name in names {
                guard var task = try TaskRecord.fetchOne(db, key: ["run": number, "name": name]) else {
                    throw StateError.noSuchTask(run: number, name: name)
                }
                task.requeue(at: date)
                try task.update(db)
            }
            return run
        }
    }
}
