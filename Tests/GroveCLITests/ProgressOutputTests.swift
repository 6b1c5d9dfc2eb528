import Foundation
import GroveCore
import Synchronization
import TestSupport
import Testing

@testable import GroveCLI

/// Collects what a writer writes, one entry per sink call, as a user's stream would receive it.
private final class Capture: Sendable {
    private let writes = Mutex<[String]>([])

    var sink: OutputSink { { text in self.writes.withLock { $0.append(text) } } }
    var chunks: [String] { writes.withLock { $0 } }
    var text: String { chunks.joined() }
    var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

private let start = Date(timeIntervalSince1970: 1_700_000_000)

private func event(
    _ kind: RunEvent.Kind, _ task: String? = nil, at offset: Double = 0, _ change: (inout RunEvent) -> Void = { _ in }
) -> RunEvent {
    var event = RunEvent(kind, run: 3, task: task, time: start.addingTimeInterval(offset))
    change(&event)
    return event
}

/// A whole small run: started, four tasks through their lives, finished.
private let runEvents: [RunEvent] = [
    event(.runStarted) {
        $0.tasks = ["a", "b", "c", "d"]
        $0.jobs = 2
    },
    event(.taskPreparing, "a"),
    event(.taskStarted, "a", at: 0.1) {
        $0.slot = 0
        $0.pid = 4242
        $0.log = "/home/logs/3/a.log"
    },
    event(.taskFinished, "a", at: 1.12) {
        $0.state = .task(.succeeded)
        $0.seconds = 1.02
        $0.exitCode = 0
        $0.commits = 1
        $0.changedFiles = ["x", "y"]
    },
    event(.taskFinished, "b", at: 1.5) {
        $0.state = .task(.failed)
        $0.seconds = 0.51
        $0.exitCode = 3
        $0.commits = 0
        $0.changedFiles = []
    },
    event(.taskFinished, "c", at: 6) {
        $0.state = .task(.timedOut)
        $0.seconds = 5
        $0.signal = 15
        $0.reason = "ran past its timeout of 5s"
    },
    event(.taskFinished, "d", at: 6) {
        $0.state = .task(.cancelled)
        $0.seconds = 0
        $0.reason = "the run stopped before\nit started"
    },
    event(.runFinished, at: 6) {
        $0.state = .run(.finished)
        $0.wallSeconds = 12.34
        $0.taskSeconds = 6.53
        $0.speedup = 0.53
    },
]

@Suite("progress output")
struct ProgressOutputTests {
    // MARK: Terminal

    @Test func colourNeedsATerminalThatIsNotDumbAndNoNoColor() {
        #expect(Terminal(isTerminal: true, environment: ["TERM": "xterm-256color"]).allowsColour)
        #expect(!Terminal(isTerminal: false, environment: ["TERM": "xterm-256color"]).allowsColour)
        #expect(!Terminal(isTerminal: true, environment: ["TERM": "dumb"]).allowsColour)
        #expect(!Terminal(isTerminal: true, environment: ["TERM": "dumb"]).allowsCursorMovement)
        #expect(!Terminal(isTerminal: true, environment: ["NO_COLOR": "1"]).allowsColour)
        #expect(!Terminal(isTerminal: true, environment: ["NO_COLOR": ""]).allowsColour)
        #expect(Terminal(isTerminal: true, environment: ["NO_COLOR": "1"]).allowsCursorMovement)
        #expect(TerminalColour.paintState("failed", enabled: false) == "failed")
        #expect(TerminalColour.paintState("succeeded", enabled: true) == "\u{1B}[32msucceeded\u{1B}[0m")
        #expect(TerminalColour.paintState("timed_out", enabled: true) == "\u{1B}[31mtimed_out\u{1B}[0m")
        #expect(TerminalColour.paintState("cancelled", enabled: true) == "\u{1B}[33mcancelled\u{1B}[0m")
        #expect(TerminalColour.paintState("running", enabled: true) == "running")
    }

    /// Under `swift test` stderr is a file or pipe: the factory must not pick the live display.
    @Test func theFactoryPicksJSONOrLinesOffATerminal() {
        #expect(ProgressDisplay.make(json: true) is JSONEventStream)
        if isatty(STDERR_FILENO) == 0 { #expect(ProgressDisplay.make(json: false) is LineProgress) }
        #expect(ProgressDisplay.make(json: false, environment: ["TERM": "dumb"]) is LineProgress)
    }

    // MARK: Lines

    @Test func lineProgressWritesOneLinePerStateChange() {
        let capture = Capture()
        let progress = LineProgress(sink: capture.sink)
        for event in runEvents { progress.handle(event) }
        #expect(
            capture.lines == [
                "grove: run 3: 4 tasks, 2 at once",
                "grove: [a] preparing",
                "grove: [a] running (slot 0)",
                "grove: [a] succeeded in 1.02 s · 1 commit · 2 files changed",
                "grove: [b] failed in 0.51 s (exit 3) · 0 commits · 0 files changed",
                "grove: [c] timed_out after 5.00 s (signal 15): ran past its timeout of 5s",
                "grove: [d] cancelled after 0.00 s: the run stopped before it started",
                "grove: run 3 finished in 12.3 s: 1 succeeded, 1 failed, 1 timed_out, 1 cancelled",
            ])
        #expect(capture.chunks.allSatisfy { $0.hasSuffix("\n") && $0.filter { $0 == "\n" }.count == 1 })
    }

    @Test func anInterruptedRunSaysSo() {
        let capture = Capture()
        let progress = LineProgress(sink: capture.sink)
        progress.handle(
            event(.runFinished) {
                $0.state = .run(.interrupted)
                $0.wallSeconds = 4.25
            })
        #expect(capture.lines == ["grove: run 3 interrupted after 4.2 s: no task finished"])
    }

    /// Events arrive from many tasks at once: every write is still one whole line.
    @Test func concurrentEventsNeverInterleaveMidLine() {
        let capture = Capture()
        let progress = LineProgress(sink: capture.sink)
        DispatchQueue.concurrentPerform(iterations: 200) { index in
            progress.handle(event(.taskStarted, "task-\(index)") { $0.slot = index % 8 })
        }
        #expect(capture.chunks.count == 200)
        #expect(capture.chunks.allSatisfy { $0.hasPrefix("grove: [task-") && $0.hasSuffix(")\n") })
        #expect(Set(capture.lines).count == 200)
    }

    // MARK: JSON

    @Test func jsonEventsAreOneObjectPerLine() throws {
        let capture = Capture()
        let stream = JSONEventStream(sink: capture.sink)
        for event in runEvents { stream.handle(event) }
        #expect(capture.chunks.count == runEvents.count)
        let objects = try capture.lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(
            objects.map { $0["event"] as? String } == [
                "run_started", "task_preparing", "task_started", "task_finished", "task_finished", "task_finished",
                "task_finished", "run_finished",
            ])
        #expect(objects.allSatisfy { $0["run"] as? Int == 3 })
        #expect(objects[3]["changed_files"] as? [String] == ["x", "y"])
        #expect(objects[4]["exit_code"] as? Int == 3)
        #expect(capture.lines[2] == runEvents[2].jsonLine())
    }

    @Test func concurrentJSONStaysValidNDJSON() throws {
        let capture = Capture()
        let stream = JSONEventStream(sink: capture.sink)
        DispatchQueue.concurrentPerform(iterations: 100) { index in
            stream.handle(event(.taskPreparing, "t\(index)"))
        }
        #expect(capture.lines.count == 100)
        for line in capture.lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["event"] as? String == "task_preparing")
        }
    }

    // MARK: The last line of a log

    @Test func theLastLineOfALogIsCleanedOfEscapesAndControls() throws {
        let sandbox = try Sandbox()
        let log = sandbox.child("a.log")
        let text =
            "first line\n\u{1B}[1;32mCompiling\u{1B}[0m foo.c\t(2/9)\u{07}\n"
            + "\u{1B}]0;window title\u{07}\u{1B}(B  \n\n"
        try text.write(toFile: log, atomically: false, encoding: .utf8)
        #expect(LogTail.lastLine(ofFileAt: log) == "Compiling foo.c (2/9)")
    }

    @Test func aProgressBarShowsWhatFollowsItsLastCarriageReturn() throws {
        let sandbox = try Sandbox()
        let log = sandbox.child("bar.log")
        try "downloading\n 10%\r 55%\r 90%\r".write(toFile: log, atomically: false, encoding: .utf8)
        #expect(LogTail.lastLine(ofFileAt: log) == "90%")
        try "".write(toFile: log, atomically: false, encoding: .utf8)
        #expect(LogTail.lastLine(ofFileAt: log) == nil)
        #expect(LogTail.lastLine(ofFileAt: sandbox.child("missing.log")) == nil)
    }

    /// Only the end of a big log is read: its last line is found however long the log is.
    @Test func aBigLogIsReadFromItsEnd() throws {
        let sandbox = try Sandbox()
        let log = sandbox.child("big.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: log))
        let block = Data(String(repeating: "é noise line that goes on\n", count: 4000).utf8)
        for _ in 0..<20 { handle.write(block) }
        handle.write(Data("the end ✓\n".utf8))
        try handle.close()
        #expect(LogTail.lastLine(ofFileAt: log) == "the end ✓")
        // One line longer than the window: its tail is shown, without a broken first character.
        try (String(repeating: "é", count: 5000) + "\n").write(toFile: log, atomically: false, encoding: .utf8)
        let tail = try #require(LogTail.lastLine(ofFileAt: log))
        #expect(!tail.contains("\u{FFFD}") && tail.allSatisfy { $0 == "é" } && !tail.isEmpty)
    }

    // MARK: The live frame

    private func liveState() -> LiveProgressState {
        var state = LiveProgressState()
        for event in runEvents.prefix(4) { state.apply(event) }
        state.apply(event(.taskPreparing, "bravo-long-name", at: 1))
        state.apply(event(.taskPreparing, "c", at: 2))
        state.apply(event(.taskStarted, "c", at: 2.5) { $0.log = "/nowhere" })
        state.active[1].lastLine = String(repeating: "x", count: 300)
        return state
    }

    @Test func theFrameShowsActiveTasksAndATotalLine() {
        var state = liveState()
        state.active[1].lastLine = "compiling"
        let frame = LiveProgress.frame(state, now: start.addingTimeInterval(14), width: 200)
        #expect(
            frame == [
                "[bravo-long-name] preparing 13.0 s",
                "[c]               running   12.0 s  compiling",
                "run 3 · 1/4 done · 2 running · 0 failed · 14.0 s",
            ])
    }

    @Test func everyFrameLineFitsTheWidth() {
        let frame = LiveProgress.frame(liveState(), now: start.addingTimeInterval(14), width: 40)
        #expect(frame.count == 3)
        #expect(frame.allSatisfy { TextWidth.columns($0) <= 40 })
        #expect(frame[1].hasPrefix("[c]               running   12.0 s  xxx"))
        #expect(frame[1].hasSuffix("x…") && TextWidth.columns(frame[1]) == 40)
        #expect(TextWidth.truncate("日本語のログ", to: 5) == "日本…")
        #expect(TextWidth.truncate("short", to: 5) == "short")
    }

    /// Clones and fetches under way get a line each, above the tasks, with objects and size;
    /// a finished one leaves the block and the line display says how it ended.
    @Test func clonesUnderWayShowTheirProgress() {
        var state = LiveProgressState()
        state.apply(event(.runStarted) { $0.tasks = ["a", "b"] })
        state.apply(
            event(.repoSyncing) {
                $0.repo = "https://host/org/a.git"
                $0.action = .clone
            })
        state.apply(
            event(.repoSyncing, at: 0.5) {
                $0.repo = "https://host/org/b.git"
                $0.action = .fetch
            })
        state.apply(
            event(.repoProgress, at: 1) {
                $0.repo = "https://host/org/a.git"
                $0.receivedObjects = 1200
                $0.totalObjects = 5000
                $0.receivedBytes = 3 * 1024 * 1024 + 300_000
            })
        state.apply(event(.taskPreparing, "a"))
        let frame = LiveProgress.frame(state, now: start.addingTimeInterval(2), width: 120)
        #expect(
            frame == [
                "[https://host/org/a.git] cloning 2.0 s  1200/5000 objects · 3.3 MiB",
                "[https://host/org/b.git] fetching 1.5 s",
                "[a] preparing 2.0 s",
                "run 3 · 0/2 done · 1 running · 0 failed · 2.0 s",
            ])
        let done = event(.repoSynced, at: 3) {
            $0.repo = "https://host/org/a.git"
            $0.state = .sync(.failed)
            $0.reason = "https://host/org/a.git: repository not found; check the URL"
        }
        state.apply(done)
        #expect(state.syncing.map(\.repo) == ["https://host/org/b.git"])
        #expect(
            ProgressText.line(for: done, counts: FinishedCounts())
                == "https://host/org/a.git: repository not found; check the URL")
    }

    @Test func tasksThatDoNotFitTheHeightAreCounted() {
        var state = LiveProgressState()
        state.apply(event(.runStarted) { $0.tasks = (0..<10).map { "t\($0)" } })
        for index in 0..<10 { state.apply(event(.taskPreparing, "t\(index)")) }
        state.apply(event(.taskFinished, "t9", at: 1) { $0.state = .task(.failed) })
        state.apply(event(.taskFinished, "t8", at: 1) { $0.state = .task(.timedOut) })
        state.apply(event(.taskFinished, "t7", at: 1) { $0.state = .task(.cancelled) })
        let frame = LiveProgress.frame(state, now: start.addingTimeInterval(2), width: 80, height: 6)
        #expect(frame.count == 5)
        #expect(frame[0].hasPrefix("[t0] preparing 2.0 s"))
        #expect(frame[3] == "… and 4 more")
        #expect(frame[4] == "run 3 · 3/10 done · 7 running · 2 failed · 1 cancelled · 2.0 s")
    }

    /// The display as a terminal receives it: permanent lines above a block that is redrawn in
    /// place and erased at the end.
    @Test func theLiveDisplayRedrawsInPlaceAndErasesItsBlock() throws {
        let sandbox = try Sandbox()
        let log = sandbox.child("a.log")
        try "building\n\u{1B}[33mstep 2\u{1B}[0m\n".write(toFile: log, atomically: false, encoding: .utf8)
        let capture = Capture()
        let live = LiveProgress(sink: capture.sink, colour: true, size: { (60, 24) }, refresh: nil)
        live.handle(event(.runStarted) { $0.tasks = ["a", "b"] })
        live.handle(event(.taskStarted, "a") { $0.log = log })
        live.draw(now: start.addingTimeInterval(1))
        #expect(
            capture.chunks == [
                "run 3: 2 tasks\n[a] running   1.0 s  step 2\nrun 3 · 0/2 done · 1 running · 0 failed · 1.0 s\n"
            ])
        live.handle(
            event(.taskFinished, "a", at: 2) {
                $0.state = .task(.succeeded)
                $0.seconds = 2
            })
        live.draw(now: start.addingTimeInterval(2))
        #expect(
            capture.chunks.last
                == "\r\u{1B}[2A\u{1B}[J[a] \u{1B}[32msucceeded\u{1B}[0m in 2.00 s\nrun 3 · 1/2 done · 0 running · 0 failed · 2.0 s\n"
        )
        live.handle(
            event(.runFinished, at: 3) {
                $0.state = .run(.finished)
                $0.wallSeconds = 3
            })
        #expect(capture.chunks.last == "\r\u{1B}[1A\u{1B}[Jrun 3 finished in 3.0 s: 1 \u{1B}[32msucceeded\u{1B}[0m\n")
        let count = capture.chunks.count
        live.draw(now: start.addingTimeInterval(4))
        live.handle(event(.taskPreparing, "b"))
        #expect(capture.chunks.count == count, "nothing is drawn after the run finished")
    }

    @Test func theTimerDrawsAndStopsAtTheEnd() async throws {
        let capture = Capture()
        let live = LiveProgress(sink: capture.sink, size: { (80, 24) }, refresh: .milliseconds(20))
        live.handle(event(.runStarted) { $0.tasks = ["a"] })
        live.handle(event(.taskPreparing, "a"))
        try await Task.sleep(for: .milliseconds(200))
        #expect(capture.text.contains("[a] preparing"))
        live.handle(event(.runFinished) { $0.state = .run(.finished) })
        let count = capture.chunks.count
        try await Task.sleep(for: .milliseconds(100))
        #expect(capture.chunks.count == count)
    }

    // MARK: Summary

    private func report() throws -> StatusReport {
        let json = """
            {"run":3,"state":"finished","wall_seconds":12.345,"task_seconds":61.04,"speedup":4.96,"tasks":[
            {"name":"fix-auth-bug","repo":"/r/a","base":"main","branch":"grove/3/fix-auth-bug","worktree":"/w/a",
             "state":"succeeded","exit_code":0,"seconds":41.5,"commits":2,"changed_files":["a","b","c"],"log":"/l/a","pushes":[],"attempts":[],"depends_on":[]},
            {"name":"b","repo":"/r/b","base":"main","branch":"grove/3/b","worktree":"/w/b",
             "state":"failed","exit_code":3,"seconds":9.54,"commits":null,"changed_files":[],"log":"/l/b","pushes":[],"attempts":[],"depends_on":[]},
            {"name":"c","repo":"/r/c","base":"main","branch":"grove/3/c","worktree":"/w/c",
             "state":"queued","exit_code":null,"seconds":null,"commits":null,"changed_files":[],"log":"/l/c","pushes":[],"attempts":[],"depends_on":[]}]}
            """
        return try JSONDecoder().decode(StatusReport.self, from: Data(json.utf8))
    }

    @Test func theSummaryTableAlignsItsColumns() throws {
        #expect(
            SummaryTable.render(try report()) == """
                task          state      seconds  commits  files
                fix-auth-bug  succeeded    41.50        2      3
                b             failed        9.54        -      0
                c             queued           -        -      -
                wall 12.3 s · task time 61.0 s · speedup 4.96×

                """)
        let withBranches = SummaryTable.table(try report(), branches: true)
        #expect(withBranches[0] == "task          state      seconds  commits  files  branch")
        #expect(withBranches[3] == "c             queued           -        -      -  grove/3/c")
    }

    @Test func colourNeverUpsetsTheAlignment() throws {
        let plain = SummaryTable.table(try report())
        let coloured = SummaryTable.table(try report(), colour: true)
        #expect(coloured[1] == plain[1].replacingOccurrences(of: "succeeded", with: "\u{1B}[32msucceeded\u{1B}[0m"))
        #expect(coloured[3] == plain[3])
    }

    @Test func theTotalsLineHasOneDecimalForSecondsAndTwoForSpeedup() throws {
        var report = try report()
        report.wallSeconds = 2
        report.taskSeconds = 0.04
        report.speedup = 0.02
        #expect(SummaryTable.totals(report) == "wall 2.0 s · task time 0.0 s · speedup 0.02×")
    }

    @Test func aTableRightAlignsNumbersAndDropsTrailingSpaces() {
        var table = TextTable([.init("name"), .init("n", .right), .init("note")])
        table.append(["a", "1", ""])
        table.append(["日本", "100", "x"])
        #expect(table.lines() == ["name    n  note", "a       1", "日本  100  x"])
    }
}
