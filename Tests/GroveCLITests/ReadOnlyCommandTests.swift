import Foundation
import GroveCore
import TestSupport
import Testing

/// `grove status`, `logs` and `report` only look: after each of them — good input or bad — the
/// state database and its WAL have the same bytes and the same mtime, and no file appeared in the
/// home; and while a run goes on they still see what it writes (WAL readers).
@Suite("read-only commands never write")
struct ReadOnlyCommandTests: GroveCommandSuite {
    let sandbox: Sandbox
    let repo: TestRepository
    let home: String

    init() throws {
        sandbox = try Sandbox()
        repo = try sandbox.repository("repo", files: ["README.md": "hello\n"])
        home = sandbox.child("home")
    }

    private var database: String { GroveHome(path: home).database }

    /// Every reading command, with its expected exit status: good input, then bad.
    private static let readings: [([String], Int32)] = [
        (["status"], 0), (["status", "1"], 0), (["status", "--json"], 0), (["status", "1", "--json"], 0),
        (["logs", "t-1"], 0), (["logs", "t-1", "1"], 0), (["logs", "t-1", "--run", "1"], 0),
        (["logs", "-f", "t-1"], 0),
        (["report"], 0), (["report", "1"], 0), (["report", "--format", "json"], 0), (["report", "--json"], 0),
        (["status", "99"], 2), (["status", "99", "--json"], 2), (["status", "one"], 2),
        (["logs", "nope"], 2), (["logs", "t-1", "99"], 2), (["logs", "t-1", "1", "--run", "2"], 2),
        (["report", "99"], 2), (["report", "--format", "xml"], 2), (["report", "--json", "--format", "md"], 2),
    ]

    /// A file's size, mtime (nanoseconds) and bytes.
    private struct FileState: Equatable, CustomStringConvertible {
        var size: Int
        var mtime: String
        var bytes: Data
        var description: String { "\(size) bytes, mtime \(mtime)" }
    }

    /// The state of the file at `path`; nil when it does not exist.
    private func state(of path: String) -> FileState? {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else { return nil }
        return FileState(
            size: Int(info.st_size), mtime: "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)", bytes: data)
    }

    /// The database and its WAL as they are now, and the names of the home's files.
    private struct Snapshot: Equatable, CustomStringConvertible {
        var database: FileState?
        var wal: FileState?
        var files: [String]
        var description: String {
            "grove.sqlite: \(database.map(\.description) ?? "none"); -wal: \(wal.map(\.description) ?? "none");"
                + " files: \(files.joined(separator: " "))"
        }
    }

    private func snapshot() throws -> Snapshot {
        Snapshot(
            database: state(of: database), wal: state(of: database + "-wal"),
            files: try FileManager.default.contentsOfDirectory(atPath: home).sorted())
    }

    /// Runs every reading command and expects the database untouched after each.
    private func expectEveryReadingLeavesTheDatabase(_ label: String) throws {
        for (arguments, expected) in Self.readings {
            let before = try snapshot()
            let result = try grove(arguments)
            #expect(result.status == expected, "\(label): grove \(arguments.joined(separator: " ")): \(result.stderr)")
            let after = try snapshot()
            #expect(
                after == before, "\(label): grove \(arguments.joined(separator: " ")) wrote:\n\(before)\n→ \(after)")
        }
    }

    @Test func afterARealRunNoReadingWritesTheDatabase() throws {
        let run = try grove(["run", "--count", "2", "--name", "t", "--", "sh", "-c", "echo out; echo more > f.txt"])
        #expect(run.status == 0, "\(run.stderr)")
        // The grove closed its connections on the way out, the last one checkpointing the WAL
        // away: readers must not make one (nor a -shm).
        try #require(!FileManager.default.fileExists(atPath: database + "-wal"))
        try expectEveryReadingLeavesTheDatabase("as the run left it")
        #expect(!FileManager.default.fileExists(atPath: database + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: database + "-shm"))

        // A writer holds the database open, as a running grove does, with transactions in its
        // WAL that no checkpoint has moved into grove.sqlite: readers leave both as they are.
        let writer = try StateStore(home: GroveHome(path: home))
        let finished = try #require(try writer.run(number: 1)?.finishedAt)
        try writer.setRunState(1, .finished, at: finished)
        try #require(state(of: database + "-wal").map { $0.size > 0 } == true)
        try expectEveryReadingLeavesTheDatabase("with a writer's WAL")
        #expect(try status(1).tasks.map(\.state) == [.succeeded, .succeeded])
        _ = writer
    }

    /// A run whose grove died reads as interrupted, its unfinished task cancelled, and the
    /// database still says `running`: the reader marks it in a copy, not on disk.
    @Test func aRunWhoseGroveDiedReadsInterruptedWithoutBeingWritten() throws {
        let groveHome = GroveHome(path: home)
        let dead = try reapedPID()
        do {
            let store = try StateStore(home: groveHome)
            try store.createRun(jobs: 1, pid: dead) { run in
                [
                    TaskRecord(
                        run: run.number, name: "t-1", position: 0, repo: repo.path, base: "main", branch: "grove/1/t-1",
                        worktree: groveHome.worktree(run: run.number, task: "t-1"), command: ["true"],
                        log: groveHome.logs + "/1/t-1.log")
                ]
            }
            try store.updateTask(run: 1, name: "t-1") { $0.start(at: Date(), slot: 0) }
        }
        try FileManager.default.createDirectory(atPath: groveHome.logs + "/1", withIntermediateDirectories: true)
        try "partial\n".write(toFile: groveHome.logs + "/1/t-1.log", atomically: false, encoding: .utf8)

        let before = try snapshot()
        let report = try status()
        #expect(report.state == .interrupted)
        #expect(report.tasks.map(\.state) == [.cancelled])
        #expect(report.tasks.first?.reason?.contains("pid \(dead)") == true)
        let follow = try grove(["logs", "-f", "t-1"])
        #expect(follow.status == 0, "\(follow.stderr)")
        #expect(follow.stdout == "partial\n")
        #expect(try grove(["report", "--json"]).stdout.contains("\"cancelled\""))
        #expect(try snapshot() == before)
        // On disk the run is still running: the next writing grove marks it.
        let stored = try #require(try StateStore.reader(path: database, isAlive: { _ in true })?.run(number: 1))
        #expect(stored.state == .running)
    }

    /// A grove killed mid-run leaves its WAL (and -shm) behind, never checkpointed: readers
    /// recover from it read-only, show the run interrupted, and leave grove.sqlite and the WAL
    /// as the killed grove left them.
    @Test func aKilledGrovesWALIsReadAsItIs() throws {
        let run = try BackgroundProcess(
            [try builtBinary(), "run", "--count", "2", "--name", "t", "--", "sh", "-c", "echo out; sleep 30"],
            in: repo.path, environment: environment)
        let running = try eventually(within: .seconds(60)) {
            let result = try grove(["status", "--json"])
            let report = try? JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
            return report?.tasks.map(\.state) == [.running, .running]
        }
        #expect(running)
        run.send(SIGKILL)
        _ = run.wait()
        try #require(state(of: database + "-wal").map { $0.size > 0 } == true)
        let before = try snapshot()
        let report = try status()
        #expect(report.state == .interrupted)
        #expect(report.tasks.map(\.state) == [.cancelled, .cancelled])
        try expectEveryReadingLeavesTheDatabase("after a SIGKILL")
        #expect(try snapshot() == before)
    }

    /// A database a grove died creating (the empty file grove makes before SQLite fills it):
    /// readers find no run (exit 2) and leave the file empty, with no tables added.
    @Test func aDatabaseWithoutTablesReadsAsNoRunAndStaysEmpty() throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: database, contents: nil))
        let before = try snapshot()
        for arguments in [["status"], ["status", "--json"], ["logs", "t-1"], ["report", "--json"]] {
            let result = try grove(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("no run"), "\(arguments): \(result.stderr)")
            #expect(try snapshot() == before, "\(arguments)")
        }
        #expect(state(of: database)?.size == 0)
    }

    /// While a run goes on, a reader sees its tasks running, then finished, from its WAL.
    @Test func aReaderSeesTheTasksOfARunInProgress() throws {
        let release = sandbox.child("release")
        let run = try BackgroundProcess(
            [
                try builtBinary(), "run", "--count", "2", "--name", "w", "-j", "2", "--", "sh", "-c",
                "echo started; while [ ! -e \(release) ]; do sleep 0.05; done",
            ],
            in: repo.path, environment: environment)
        defer { if run.isRunning { run.send(SIGKILL) } }
        let sawRunning = try eventually(within: .seconds(60)) {
            let result = try grove(["status", "--json"])
            guard result.status == 0,
                let report = try? JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
            else { return false }
            return report.state == .running && report.tasks.map(\.state) == [.running, .running]
        }
        #expect(sawRunning)
        #expect(try eventually { try grove(["logs", "w-1"]).stdout == "started\n" })
        let live = try grove(["report", "--json"])
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stdout.contains("\"running\""))

        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        let finished = run.wait()
        #expect(finished.status == 0, "\(finished.stderr)")
        let report = try status()
        #expect(report.state == .finished)
        #expect(report.tasks.map(\.state) == [.succeeded, .succeeded])
    }

    /// A pid that certainly names no process: one of ours, already exited and reaped.
    private func reapedPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
