import Foundation
import GroveCore
import TestSupport
import Testing

/// The last lines of a log, read from its end, against a whole-file reading and `tail -n`.
@Suite("run report: log tail")
struct RunReportLogTailTests {
    private func file(_ sandbox: Sandbox, _ bytes: [UInt8], name: String = "task.log") throws -> String {
        let path = sandbox.child(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func file(_ sandbox: Sandbox, _ text: String) throws -> String {
        try file(sandbox, Array(text.utf8))
    }

    /// The reference: the whole file split into lines (a final newline ends the last line).
    private func expected(_ text: String, _ count: Int) -> [String] {
        var lines = text.components(separatedBy: "\n")
        if text.hasSuffix("\n") { lines.removeLast() }
        if text.isEmpty { lines = [] }
        return Array(lines.suffix(count))
    }

    @Test func linesWithAndWithoutAFinalNewline() throws {
        let sandbox = try Sandbox()
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "a\nb\nc\n"), count: 2) == ["b", "c"])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "a\nb\nc"), count: 2) == ["b", "c"])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "a\nb\nc\n"), count: 20) == ["a", "b", "c"])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "only"), count: 20) == ["only"])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "a\n\n\nb\n\n"), count: 20) == ["a", "", "", "b", ""])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "\n"), count: 20) == [""])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, ""), count: 20) == [])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "a\r\nb\r\n"), count: 20) == ["a", "b"])
        #expect(LogTail.lines(ofFileAt: try file(sandbox, "a\nb\n"), count: 0) == [])
    }

    @Test func aMissingFileHasNoLines() throws {
        let sandbox = try Sandbox()
        #expect(LogTail.lines(ofFileAt: sandbox.child("never-written.log")) == [])
        #expect(LogTail.lines(ofFileAt: sandbox.path) == [])  // a directory reads as nothing
    }

    /// Every split of every small file into chunks gives what reading the whole file gives.
    @Test func anyChunkSizeAgreesWithReadingTheWholeFile() throws {
        let sandbox = try Sandbox()
        let texts = ["x\n", "one\ntwo\n", "one\ntwo", "\n\nab\n\ncd\nefg\n", "ab\ncd\nef\ngh\nij\nkl\n", "a\n\n"]
        for text in texts {
            let path = try file(sandbox, text)
            for chunkSize in 1...8 {
                for count in 1...7 {
                    #expect(
                        LogTail.lines(ofFileAt: path, count: count, chunkSize: chunkSize) == expected(text, count),
                        "\(text.debugDescription) chunk \(chunkSize) count \(count)")
                }
            }
        }
    }

    @Test func aLogLargerThanAChunkAgreesWithTail() throws {
        let sandbox = try Sandbox()
        // ~400 KB over several 64 KiB chunks, lines of varied lengths.
        let text = (1...6000).map { "line \($0) " + String(repeating: "x", count: $0 % 97) + "\n" }.joined()
        let path = try file(sandbox, text)
        let tail = try Shell.run(["tail", "-n", "20", path]).lines
        #expect(LogTail.lines(ofFileAt: path) == tail)
        #expect(tail.count == 20 && tail.last?.hasPrefix("line 6000 ") == true)
        let tail200 = try Shell.run(["tail", "-n", "200", path]).lines
        #expect(LogTail.lines(ofFileAt: path, count: 200, chunkSize: 1000) == tail200)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let sandbox = try Sandbox()
        let path = try file(sandbox, Array("ok\n".utf8) + [0x66, 0xFF, 0xFE, 0x67, 0x0A] + Array("é\n".utf8))
        #expect(LogTail.lines(ofFileAt: path) == ["ok", "f\u{FFFD}\u{FFFD}g", "é"])
    }

    /// A huge log costs one bounded read: a sparse 500 MB file of NUL bytes without newlines, then
    /// two lines. Only `maxBytes` at its end are read.
    @Test func aHugeLogIsReadOnlyAtItsEnd() throws {
        let sandbox = try Sandbox()
        let path = sandbox.child("huge.log")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 500 * 1024 * 1024)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\nlast but one\nlast\n".utf8))
        try handle.close()

        let clock = ContinuousClock()
        var lines: [String] = []
        let elapsed = clock.measure { lines = LogTail.lines(ofFileAt: path, count: 20) }
        #expect(lines == ["last but one", "last"])
        #expect(elapsed < .seconds(2))

        // One line longer than the limit: its end, never starting inside a UTF-8 sequence.
        let long = try file(sandbox, Array(String(repeating: "é", count: 1000).utf8) + [0x0A], name: "long.log")
        let cut = LogTail.lines(ofFileAt: long, count: 5, chunkSize: 64, maxBytes: 101)
        #expect(cut == [String(repeating: "é", count: 50)])
    }
}

/// `grove report`'s data, from a real state database, real repositories and real log files.
@Suite("run report")
struct RunReportTests {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    /// The numstat of `git diff --numstat -M from to` as report entries' words, sorted.
    private func gitNumstat(_ repo: TestRepository, _ from: String, _ to: String) throws -> [String] {
        try repo.output("diff", "--numstat", "-M", from, to).components(separatedBy: "\n").sorted()
    }

    private func numstat(_ file: RunReport.FileChange) -> String {
        let counts = file.binary ? "-\t-" : "\(file.insertions)\t\(file.deletions)"
        let path = file.oldPath.map { "\($0) => \(file.path)" } ?? file.path
        return counts + "\t" + path
    }

    private func record(
        _ run: Int, _ name: String, _ position: Int, repo: String, home: GroveHome, worktree: String? = nil
    ) -> TaskRecord {
        TaskRecord(
            run: run, name: name, position: position, repo: repo, base: "main", branch: "grove/\(run)/\(name)",
            worktree: worktree ?? "\(home.worktrees)/\(run)/\(name)", command: ["/bin/sh", "-c", "make fix"],
            log: "\(home.logs)/\(run)/\(name).log", queuedAt: start)
    }

    @Test func theReportHasEachTasksDiffstatReasonAndLogTail() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let repo = try sandbox.repository(
            files: ["README.md": "hello\n", "src/a.txt": "1\n2\n3\n", "gone.txt": "x\ny\n", "move.txt": "m\n"])
        let base = try repo.revParse("main")
        try repo.git("checkout", "-q", "-b", "grove/1/fix")
        try repo.commit("edit", files: ["src/a.txt": "1\ntwo\n3\n4\n", "new.txt": "n\n"])
        try FileManager.default.removeItem(atPath: repo.path + "/gone.txt")
        try repo.git("mv", "move.txt", "moved.txt")
        try Data([0, 1, 2, 0]).write(to: URL(fileURLWithPath: repo.path + "/blob.bin"))
        let head = try repo.commit("more")
        try repo.git("checkout", "-q", "main")
        // A worktree of the same repository: the only local copy of a task whose `repo` is a URL.
        let worktree = sandbox.child("wt")
        try repo.git("worktree", "add", "-q", "-b", "grove/1/remote", worktree, "grove/1/fix")

        let store = try StateStore(home: home)
        try store.createRun(jobs: 2, startedAt: start) { run in
            [
                record(run.number, "fix", 0, repo: repo.path, home: home),
                record(run.number, "broken", 1, repo: repo.path, home: home),
                record(run.number, "waiting", 2, repo: repo.path, home: home),
                record(run.number, "vanished", 3, repo: sandbox.child("deleted-repo"), home: home),
                record(run.number, "collected", 4, repo: repo.path, home: home),
                record(
                    run.number, "remote", 5, repo: "https://example.com/org/repo.git", home: home, worktree: worktree),
            ]
        }
        for (name, seconds) in [("fix", 4.0), ("vanished", 1.0), ("collected", 1.0), ("remote", 2.0)] {
            try store.updateTask(run: 1, name: name) {
                $0.baseCommit = base
                $0.headCommit = name == "collected" ? String(repeating: "ab", count: 20) : head
                $0.start(at: start)
                $0.commits = 2
                $0.finish(.succeeded, at: start.addingTimeInterval(seconds), exitCode: 0)
            }
        }
        try store.updateTask(run: 1, name: "broken") {
            $0.baseCommit = base
            $0.start(at: start)
            $0.finish(.failed, at: start.addingTimeInterval(2), exitCode: 3, reason: "the command exited with 3")
        }
        try store.setRunState(1, .finished, at: start.addingTimeInterval(5))
        try FileManager.default.createDirectory(atPath: home.logs + "/1", withIntermediateDirectories: true)
        let log = (1...30).map { "output \($0)" }.joined(separator: "\n") + "\n"
        try log.write(toFile: home.logs + "/1/fix.log", atomically: false, encoding: .utf8)
        try "boom\n".write(toFile: home.logs + "/1/broken.log", atomically: false, encoding: .utf8)

        let report = try RunReport(store: store)
        #expect(report.run == 1)
        #expect(report.state == .finished)
        #expect(report.wallSeconds == 5)
        #expect(report.taskSeconds == 10)
        #expect(report.speedup == 2)
        #expect(report.tasks.map(\.name) == ["fix", "broken", "waiting", "vanished", "collected", "remote"])

        let fix = report.tasks[0]
        let expected = try gitNumstat(repo, base, head)
        #expect(fix.diffstat.map(numstat).sorted() == expected)
        #expect(
            expected == [
                "-\t-\tblob.bin", "0\t0\tmove.txt => moved.txt", "0\t2\tgone.txt", "1\t0\tnew.txt", "2\t1\tsrc/a.txt",
            ])
        #expect(fix.insertions == 3 && fix.deletions == 3)
        #expect(fix.note == nil)
        #expect(fix.logTail == (11...30).map { "output \($0)" })
        #expect(fix.baseCommit == base && fix.headCommit == head)
        #expect(fix.exitCode == 0 && fix.seconds == 4 && fix.commits == 2)

        let broken = report.tasks[1]
        #expect(broken.reason == "the command exited with 3")
        #expect(broken.exitCode == 3)
        #expect(broken.diffstat.isEmpty)
        #expect(broken.note == "no diffstat: grove recorded no head commit for this task")
        #expect(broken.logTail == ["boom"])

        let waiting = report.tasks[2]
        #expect(waiting.note == "no diffstat yet: the task is queued")
        #expect(waiting.logTail == [])
        #expect(waiting.seconds == nil)

        #expect(report.tasks[3].diffstat.isEmpty)
        #expect(report.tasks[3].note?.contains("deleted-repo is gone") == true)
        #expect(report.tasks[4].diffstat.isEmpty)
        #expect(report.tasks[4].note?.contains("is no longer in \(repo.path)") == true)
        // A URL repository is read through the task's worktree.
        #expect(report.tasks[5].diffstat == fix.diffstat)
        #expect(report.tasks[5].note == nil)

        #expect(report.insertions == 6 && report.deletions == 6)
    }

    @Test func theJSONDocumentAlwaysHasEveryKey() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try StateStore(home: home)
        try store.createRun(jobs: 1, startedAt: start) { run in
            [record(run.number, "only", 0, repo: sandbox.child("repo"), home: home)]
        }
        let report = try RunReport(store: store, run: 1, now: start.addingTimeInterval(2))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "run", "state", "wall_seconds", "task_seconds", "speedup", "insertions", "deletions", "tasks",
            ])
        let task = try #require((object["tasks"] as? [[String: Any]])?.first)
        #expect(
            Set(task.keys) == [
                "name", "repo", "base", "branch", "worktree", "state", "exit_code", "signal", "reason", "seconds",
                "commits", "changed_files", "log", "base_commit", "head_commit", "diffstat", "insertions",
                "deletions", "note", "log_tail", "source", "sync", "pushes",
            ])
        for key in [
            "exit_code", "signal", "reason", "seconds", "commits", "base_commit", "head_commit", "source", "sync",
        ] {
            #expect(task[key] is NSNull, "\(key)")
        }
        #expect(task["diffstat"] as? [Any] != nil)
        #expect(task["log_tail"] as? [String] == [])
        #expect(object["wall_seconds"] as? Double == 2)
        // The document decodes back to itself.
        #expect(try JSONDecoder().decode(RunReport.self, from: Data(report.json().utf8)) == report)
    }

    @Test func aCrashedRunIsReportedInterruptedAndUnknownRunsAreErrors() throws {
        let sandbox = try Sandbox()
        let home = GroveHome(path: sandbox.child("home"))
        let store = try StateStore(home: home)
        #expect(throws: StateError.noRuns) { try RunReport(store: store) }
        // A pid no process can have: the run's grove is gone.
        try store.createRun(jobs: 1, pid: 2_000_000_000, startedAt: start) { run in
            [record(run.number, "t", 0, repo: sandbox.child("repo"), home: home)]
        }
        let report = try RunReport(store: store)
        #expect(report.state == .interrupted)
        #expect(report.tasks.first?.state == .cancelled)
        #expect(report.tasks.first?.reason?.contains("pid 2000000000") == true)
        #expect(throws: StateError.noSuchRun(7)) { try RunReport(store: store, run: 7) }
    }
}
