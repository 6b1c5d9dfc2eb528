import Foundation
import GroveCore
import Synchronization
import TestSupport
import Testing

@Suite("state store")
struct StateStoreTests {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func task(_ run: Int, _ name: String, position: Int) -> TaskRecord {
        TaskRecord(
            run: run, name: name, position: position, repo: "/repos/\(name)", base: "main",
            branch: "grove/\(run)/\(name)", worktree: "/home/worktrees/\(run)/\(name)",
            command: ["/bin/sh", "-c", "make fix"], instructions: "fix \(name)",
            log: "/home/logs/\(run)/\(name).log", queuedAt: start)
    }

    @Test func migrationCreatesTheSchemaInTheHome() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("nested/home"))
        try StateStore(home: home).createRun(jobs: 1)
        #expect(FileManager.default.fileExists(atPath: home.database))
        let rows = try SQLite.query(
            home.database,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('run', 'task', 'grdb_migrations') ORDER BY name"
        )
        #expect(rows.map { $0[0] as? String } == ["grdb_migrations", "run", "task"])
        #expect(
            try SQLite.query(home.database, "SELECT identifier FROM grdb_migrations").map { $0[0] as? String } == [
                "v1", "v2", "v3", "v4-clean", "v5-remote", "v6-strategies", "v7-claims",
            ]
        )
        #expect(try SQLite.query(home.database, "PRAGMA journal_mode").first?.first as? String == "wal")
        let columns = try SQLite.query(home.database, "SELECT name FROM pragma_table_info('task')").compactMap {
            $0[0] as? String
        }
        for column in [
            "run", "name", "repo", "base", "branch", "worktree", "command", "state", "exit_code", "signal",
            "reason", "queued_at", "started_at", "finished_at", "seconds", "commits", "changed_files", "log", "slot",
            "claim", "base_commit", "head_commit",
        ] {
            #expect(columns.contains(column), "task.\(column)")
        }
        // Opening again (a second `grove status`) migrates nothing and keeps the data.
        let again = try StateStore(home: home)
        #expect(try again.latestRun()?.number == 1)
    }

    @Test func runsAreNumberedOneTwoThreeAndNeverReused() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        #expect(try store.createRun(jobs: 2).number == 1)
        #expect(try store.createRun(jobs: 2).number == 2)
        let third = try store.createRun(jobs: 4, taskFile: "/x/grove.yaml", timeoutSeconds: 90, failFast: true)
        #expect(third.number == 3)
        #expect(try store.latestRun() == third)
        #expect(try store.run(number: 2)?.jobs == 2)
        // grove never deletes a run; one removed by hand does not give its number back.
        try Shell.run(["sqlite3", sandbox.child("grove.sqlite"), "DELETE FROM run WHERE number = 3;"])
        #expect(try store.createRun(jobs: 1).number == 4)
        #expect(try store.runs().map(\.number) == [1, 2, 4])
        #expect(try store.run(number: 3) == nil)
    }

    @Test func severalStoresAllocateDistinctNumbersConcurrently() throws {
        let sandbox = try Sandbox()
        let path = sandbox.child("grove.sqlite")
        // Four openers race on a new file: migrations must not trip over each other.
        let stores = try (0..<4).map { _ in try StateStore(path: path) }
        let numbers = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { index in
            let number = try? stores[index % stores.count].createRun(jobs: 1).number
            numbers.withLock { $0.append(number ?? -1) }
        }
        #expect(numbers.withLock { $0.sorted() } == Array(1...40))
    }

    @Test func concurrentOpeningOfANewDatabaseMigratesOnce() throws {
        let sandbox = try Sandbox()
        let path = sandbox.child("grove.sqlite")
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            if (try? StateStore(path: path)) == nil { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(
            try SQLite.query(path, "SELECT identifier FROM grdb_migrations").map { $0[0] as? String } == [
                "v1", "v2", "v3", "v4-clean", "v5-remote", "v6-strategies", "v7-claims",
            ])
    }

    @Test func createRunStoresItsTasksInOrderAndUpdatesRoundTrip() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        let run = try store.createRun(jobs: 2, arguments: ["grove", "run"], pid: 4242, startedAt: start) { run in
            [task(run.number, "b", position: 1), task(run.number, "a", position: 0)]
        }
        #expect(run.pid == 4242)
        #expect(run.state == .running)
        #expect(run.arguments == ["grove", "run"])
        #expect(try store.tasks(run: 1).map(\.name) == ["a", "b"])

        let updated = try store.updateTask(run: 1, name: "a") { task in
            task.start(at: start.addingTimeInterval(1), slot: 0, claim: .processGroup(100))
        }
        #expect(updated.state == .running)
        try store.updateTask(run: 1, name: "a") { task in
            task.commits = 2
            task.changedFiles = ["README.md", "src/a b.swift"]
            task.finish(.failed, at: start.addingTimeInterval(3.5), exitCode: 1, reason: "left its branch")
        }
        let stored = try #require(try store.task(run: 1, name: "a"))
        #expect(stored.state == .failed)
        #expect(stored.exitCode == 1)
        #expect(stored.reason == "left its branch")
        #expect(stored.seconds == 2.5)
        #expect(stored.commits == 2)
        #expect(stored.changedFiles == ["README.md", "src/a b.swift"])
        #expect(stored.command == ["/bin/sh", "-c", "make fix"])
        #expect(stored.instructions == "fix a")
        #expect(stored.startedAt == start.addingTimeInterval(1))
        #expect(stored.queuedAt == start)
        #expect(stored.claim == .processGroup(100))
        #expect(stored.slot == nil)
        #expect(try store.task(run: 1, name: "b")?.state == .queued)
        // Stored as plain words and JSON, readable by any SQLite client.
        let raw = try SQLite.query(store.path, "SELECT state, changed_files FROM task WHERE name = 'a'")
        #expect(raw.first?[0] as? String == "failed")
        #expect(
            raw.first?[1] as? String == #"["README.md","src\/a b.swift"]"#
                || raw.first?[1] as? String == #"["README.md","src/a b.swift"]"#)

        #expect(throws: StateError.noSuchTask(run: 1, name: "zz")) {
            try store.updateTask(run: 1, name: "zz") { $0.commits = 1 }
        }
        #expect(throws: StateError.noSuchRun(9)) { try store.setRunState(9, .finished) }
    }

    @Test func statusJSONHasExactlyTheDocumentedShape() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        #expect(throws: StateError.noRuns) { try store.statusReport() }
        try store.createRun(jobs: 2, startedAt: start) { run in
            [
                task(run.number, "a", position: 0), task(run.number, "b", position: 1),
                task(run.number, "c", position: 2),
            ]
        }
        try store.updateTask(run: 1, name: "a") {
            $0.start(at: start)
            $0.commits = 1
            $0.changedFiles = ["README.md"]
            $0.finish(.succeeded, at: start.addingTimeInterval(4), exitCode: 0)
        }
        try store.updateTask(run: 1, name: "b") {
            $0.start(at: start)
            $0.finish(.failed, at: start.addingTimeInterval(2), exitCode: 3)
        }
        try store.setRunState(1, .finished, at: start.addingTimeInterval(4))

        let report = try store.statusReport()
        #expect(report.run == 1)
        #expect(report.state == .finished)
        #expect(report.wallSeconds == 4)
        #expect(report.taskSeconds == 6)
        #expect(report.speedup == 1.5)

        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["run", "state", "wall_seconds", "task_seconds", "speedup", "tasks"])
        #expect(object["run"] as? Int == 1)
        #expect(object["state"] as? String == "finished")
        let tasks = try #require(object["tasks"] as? [[String: Any]])
        #expect(tasks.count == 3)
        let keys: Set<String> = [
            "name", "repo", "base", "branch", "worktree", "state", "exit_code", "seconds", "commits",
            "changed_files", "log", "merge", "source", "sync", "reason", "pushes", "attempts", "depends_on",
        ]
        for entry in tasks { #expect(Set(entry.keys) == keys) }
        #expect(tasks.map { $0["name"] as? String } == ["a", "b", "c"])
        #expect(tasks.map { $0["state"] as? String } == ["succeeded", "failed", "queued"])
        #expect(tasks[0]["exit_code"] as? Int == 0)
        #expect(tasks[0]["seconds"] as? Double == 4)
        #expect(tasks[0]["commits"] as? Int == 1)
        #expect(tasks[0]["changed_files"] as? [String] == ["README.md"])
        #expect(tasks[0]["branch"] as? String == "grove/1/a")
        #expect(tasks[0]["worktree"] as? String == "/home/worktrees/1/a")
        #expect(tasks[0]["log"] as? String == "/home/logs/1/a.log")
        #expect(tasks[0]["repo"] as? String == "/repos/a")
        #expect(tasks[0]["base"] as? String == "main")
        #expect(tasks[2]["exit_code"] is NSNull)
        #expect(tasks[2]["seconds"] is NSNull)
        #expect(tasks[2]["commits"] is NSNull)
        #expect(tasks[2]["changed_files"] as? [String] == [])
        // The document decodes back to itself.
        #expect(try JSONDecoder().decode(StatusReport.self, from: Data(report.json().utf8)) == report)
    }

    @Test func aRunningRunCountsTimeUpToNow() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        try store.createRun(jobs: 2, startedAt: start) { run in
            [task(run.number, "a", position: 0), task(run.number, "b", position: 1)]
        }
        try store.updateTask(run: 1, name: "a") { $0.start(at: start) }
        try store.updateTask(run: 1, name: "b") { $0.start(at: start.addingTimeInterval(1)) }
        let report = try store.statusReport(run: 1, now: start.addingTimeInterval(10))
        #expect(report.state == .running)
        #expect(report.wallSeconds == 10)
        #expect(report.tasks.map(\.seconds) == [10, 9])
        #expect(report.taskSeconds == 19)
        #expect(report.speedup == 1.9)
        #expect(throws: StateError.noSuchRun(2)) { try store.statusReport(run: 2) }
    }

    @Test func aRunWhoseGroveDiedIsMarkedInterrupted() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        let deadPID = try Self.deadPID()
        try store.createRun(jobs: 2, pid: deadPID, startedAt: start) { run in
            [
                task(run.number, "a", position: 0), task(run.number, "b", position: 1),
                task(run.number, "c", position: 2),
            ]
        }
        try store.updateTask(run: 1, name: "a") {
            $0.start(at: start)
            $0.finish(.succeeded, at: start.addingTimeInterval(2), exitCode: 0)
        }
        try store.updateTask(run: 1, name: "b") { $0.start(at: start.addingTimeInterval(3), claim: .processGroup(77)) }
        let live = try store.createRun(jobs: 1)  // this process: alive

        #expect(try store.markInterrupted() == [1])
        let run = try #require(try store.run(number: 1))
        #expect(run.state == .interrupted)
        #expect(run.finishedAt == start.addingTimeInterval(3))
        #expect(run.wallSeconds == 3)
        let tasks = try store.tasks(run: 1)
        #expect(tasks.map(\.state) == [.succeeded, .cancelled, .cancelled])
        #expect(tasks[1].reason == "grove (pid \(deadPID)) ended before the task finished")
        #expect(tasks[1].claim == .processGroup(77))
        #expect(tasks[0].reason == nil)
        #expect(try store.run(number: live.number)?.state == .running)
        #expect(try store.markInterrupted() == [])
        #expect(try store.statusReport(run: 1).state == .interrupted)
        #expect(!ProcessLiveness.isAlive(deadPID))
        #expect(ProcessLiveness.isAlive(getpid()))
    }

    @Test func anotherProcessReadsWhileARunWrites() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        try store.createRun(jobs: 1) { run in (0..<20).map { task(run.number, "t\($0)", position: $0) } }
        let reader = try SQLite.spawn(
            """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], timeout=0.05)
            seen = 0
            for _ in range(400):
                seen = max(seen, db.execute("SELECT count(*) FROM task WHERE state = 'succeeded'").fetchone()[0])
            print(seen)
            """, store.path)
        var index = 0
        while reader.process.isRunning {
            try store.updateTask(run: 1, name: "t\(index % 20)") {
                $0.start()
                $0.finish(.succeeded)
            }
            index += 1
        }
        let result = reader.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(index > 0)
    }

    @Test func aWriterInAnotherProcessMakesUsWaitNotFail() throws {
        let sandbox = try Sandbox()
        let store = try StateStore(path: sandbox.child("grove.sqlite"))
        let marker = sandbox.child("locked")
        let writer = try SQLite.spawn(
            """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO run (state, started_at, pid, jobs) VALUES ('finished', '2024-01-01 00:00:00.000', 1, 1)")
            open(sys.argv[2], "w").close()
            time.sleep(0.4)
            db.execute("COMMIT")
            """, store.path, marker)
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: marker) && Date() < deadline { usleep(5_000) }
        let began = Date()
        let run = try store.createRun(jobs: 1)
        #expect(Date().timeIntervalSince(began) > 0.2)
        #expect(run.number == 2)
        #expect(writer.finish().status == 0)
        #expect(try store.run(number: 1)?.state == .finished)
    }

    /// Another grove creating the same new database holds it locked while it switches it to WAL;
    /// opening it then waits instead of failing with "database is locked" (seen in CI when two
    /// runs started at once in a new home).
    @Test func openingANewDatabaseThatAnotherProcessHoldsWaits() throws {
        let sandbox = try Sandbox()
        let path = sandbox.child("grove.sqlite")
        let marker = sandbox.child("locked")
        let holder = try SQLite.spawn(
            """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            open(sys.argv[2], "w").close()
            time.sleep(0.4)
            db.execute("COMMIT")
            """, path, marker)
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: marker) && Date() < deadline { usleep(5_000) }
        let began = Date()
        let store = try StateStore(path: path)
        #expect(Date().timeIntervalSince(began) > 0.2)
        #expect(try store.createRun(jobs: 1).number == 1)
        #expect(holder.finish().status == 0)
    }

    /// The pid of a process that has exited and been reaped.
    private static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exit 0"]
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}

/// A second process on the database: Python's sqlite3 module, nothing of grove or GRDB.
extension StateStoreTests {
    /// A database written by the grove before typed claims (schema v6: a run finished, a merge
    /// killed during its check, a run killed while its tasks ran): every pid column becomes the
    /// same claim, and nothing else changes.
    @Test func aVersionSixDatabaseMigratesItsPidColumnsToClaims() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        let fixture = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "StateFixtures/grove-v6.sqlite").path
        try FileManager.default.copyItem(atPath: fixture, toPath: home.database)
        let groups = try SQLite.query(home.database, "SELECT run, name, pid, pgid, state FROM task ORDER BY run, name")
        let checks = try SQLite.query(
            home.database, "SELECT run, task, check_pgid FROM merge WHERE check_pgid IS NOT NULL")
        #expect(groups.count == 4 && checks.count == 1, "the fixture holds pids to migrate")

        let store = try StateStore(home: home)
        for row in groups {
            let run = try #require(row[0] as? Int)
            let name = try #require(row[1] as? String)
            let pgid = try #require(row[3] as? Int)
            let task = try #require(try store.task(run: run, name: name))
            #expect(row[2] as? Int == pgid, "the old pid always equalled the pgid")
            #expect(task.claim == .processGroup(Int32(pgid)), "\(name)")
            #expect(task.state.rawValue == row[4] as? String)
        }
        let checkRun = try #require(checks[0][0] as? Int)
        let checkTask = try #require(checks[0][1] as? String)
        let checkGroup = try #require(checks[0][2] as? Int)
        let merge = try #require(try store.merge(run: checkRun, task: checkTask))
        #expect(merge.checkClaim == .processGroup(Int32(checkGroup)))
        let columns = try SQLite.query(home.database, "SELECT name FROM pragma_table_info('task')").compactMap {
            $0[0] as? String
        }
        #expect(!columns.contains("pid") && !columns.contains("pgid") && columns.contains("claim"))
        let firstGroup = try #require(groups[0][3] as? Int)
        let stored = try SQLite.query(home.database, "SELECT claim FROM task ORDER BY run, name LIMIT 1")
        #expect(stored.first?.first as? String == #"{"kind":"process_group","pgid":\#(firstGroup)}"#)
    }
}

private enum SQLite {
    /// Rows of `sql` as read by another process.
    static func query(_ path: String, _ sql: String) throws -> [[Any]] {
        let script =
            "import json, sqlite3, sys\nprint(json.dumps(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))"
        let result = try Shell.run(["python3", "-c", script, path, sql])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[Any]] ?? []
    }

    /// Starts `script` in python3 with `arguments` as `sys.argv[1...]`.
    static func spawn(_ script: String, _ arguments: String...) throws -> Child {
        let child = Child()
        child.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.process.arguments = ["python3", "-c", script] + arguments
        child.process.standardOutput = child.stdout
        child.process.standardError = child.stderr
        try child.process.run()
        return child
    }

    final class Child {
        let process = Process()
        let stdout = Pipe()
        let stderr = Pipe()

        /// Waits for the exit; the script's output is small, so pipes cannot fill up.
        func finish() -> (status: Int32, stdout: String, stderr: String) {
            process.waitUntilExit()
            let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, out, err)
        }
    }
}
