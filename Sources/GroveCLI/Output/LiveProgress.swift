import Foundation
import GroveCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Progress for a stderr that is a terminal: a block redrawn in place, one line per task being
/// prepared or run (name, elapsed time, last line of its output) and a total line. A task's end
/// is printed as a permanent line above the block; the block is erased when the run ends.
///
/// All drawing happens on a timer thread, at most `refresh` apart (10 times a second by default), so
/// a burst of events costs one redraw; only `run_finished` draws at once, to leave a clean screen.
final class LiveProgress: RunObserver {
    private struct Shared {
        var progress = LiveProgressState()
        /// Lines to print above the block at the next draw.
        var pending: [String] = []
        /// How many lines of block are on screen, to move the cursor back up over them.
        var drawnLines = 0
        var lastFrame: [String] = []
        var tickerStarted = false
        var finished = false
    }

    private let sink: OutputSink
    private let colour: Bool
    private let size: @Sendable () -> (columns: Int, rows: Int)
    private let refresh: Duration?
    private let shared = Mutex(Shared())

    /// `refresh` nil starts no timer: the caller draws with `draw(now:)` (tests).
    init(
        sink: @escaping OutputSink = StandardStreams.error, colour: Bool = false,
        size: @escaping @Sendable () -> (columns: Int, rows: Int) = { Terminal.size(of: STDERR_FILENO) },
        refresh: Duration? = .milliseconds(100)
    ) {
        self.sink = sink
        self.colour = colour
        self.size = size
        self.refresh = refresh
    }

    func handle(_ event: RunEvent) {
        shared.withLock { shared in
            guard !shared.finished else { return }
            shared.progress.apply(event)
            switch event.kind {
            case .runStarted:
                shared.pending.append(ProgressText.runStarted(event))
            case .taskFinished:
                shared.pending.append(ProgressText.taskFinished(event, colour: colour))
            case .runStopping:
                if let line = ProgressText.line(for: event, counts: shared.progress.counts) {
                    shared.pending.append(line)
                }
            case .runFinished:
                // Erase the block and leave only permanent lines: the summary follows on stdout.
                shared.pending.append(
                    ProgressText.runFinished(event, counts: shared.progress.counts, colour: colour))
                sink(Self.erase(shared.drawnLines) + shared.pending.map { $0 + "\n" }.joined())
                shared.pending = []
                shared.drawnLines = 0
                shared.finished = true
                return
            case .taskPreparing, .taskStarted:
                break
            }
            if !shared.tickerStarted, let refresh {
                shared.tickerStarted = true
                startTicker(every: refresh)
            }
        }
    }

    /// Stops the display without a `run_finished` (a run that failed before it could end): erases
    /// the block and prints what was pending, so the terminal is left clean.
    func close() {
        shared.withLock { shared in
            guard !shared.finished else { return }
            sink(Self.erase(shared.drawnLines) + shared.pending.map { $0 + "\n" }.joined())
            shared.pending = []
            shared.drawnLines = 0
            shared.finished = true
        }
    }

    /// Redraws the block: reads the running tasks' last output lines, then replaces what was
    /// drawn with the pending permanent lines and the new frame, in one write. Returns false
    /// once the display has finished, which stops the timer.
    @discardableResult
    func draw(now: Date = Date()) -> Bool {
        let logs = shared.withLock { shared in
            shared.progress.active.compactMap { task in
                task.phase == .running ? task.log.map { (task.name, $0) } : nil
            }
        }
        // File reads happen outside the lock, so task threads reporting events never wait on disk.
        let lines = logs.map { ($0.0, LogTail.lastLine(ofFileAt: $0.1)) }
        let (columns, rows) = size()
        return shared.withLock { shared in
            guard !shared.finished else { return false }
            for (name, line) in lines {
                if let index = shared.progress.active.firstIndex(where: { $0.name == name }) {
                    shared.progress.active[index].lastLine = line
                }
            }
            let frame = Self.frame(shared.progress, now: now, width: columns, height: rows)
            guard frame != shared.lastFrame || !shared.pending.isEmpty else { return true }
            let permanent = shared.pending.map { $0 + "\n" }.joined()
            sink(Self.erase(shared.drawnLines) + permanent + frame.map { $0 + "\n" }.joined())
            shared.pending = []
            shared.drawnLines = frame.count
            shared.lastFrame = frame
            return true
        }
    }

    /// A thread of its own, not a task: the cooperative pool may be busy with a run's blocking
    /// work, and the display must keep moving then above all. It ends at the first tick after
    /// the display finished (or was released).
    private func startTicker(every interval: Duration) {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let thread = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: seconds)
                guard let self, self.draw() else { return }
            }
        }
        thread.name = "grove progress"
        thread.start()
    }

    /// Moves the cursor up over `lines` lines of block and clears from there to the end of the screen.
    static func erase(_ lines: Int) -> String {
        lines > 0 ? "\r\u{1B}[\(lines)A\u{1B}[J" : ""
    }

    /// The block for `state` at `now`: one line per active task, then the total line, each at most
    /// `width` columns; at most `height - 1` lines (the cursor needs the last row), the tasks that
    /// do not fit counted on one line. Plain text: colour could not be cut to width safely.
    static func frame(_ state: LiveProgressState, now: Date, width: Int, height: Int = .max) -> [String] {
        let budget = max(1, height - 1)
        var shown = state.active
        var hidden = 0
        if shown.count + 1 > budget {
            let keep = max(0, budget - 2)
            hidden = shown.count - keep
            shown = Array(shown.prefix(keep))
        }
        let names = shown.map { "[\($0.name)]" }
        let nameWidth = names.map(TextWidth.columns).max() ?? 0
        let elapsed = shown.map { String(format: "%.1f s", max(0, now.timeIntervalSince($0.since))) }
        let elapsedWidth = elapsed.map(\.count).max() ?? 0
        var lines: [String] = []
        for (index, task) in shown.enumerated() {
            let name = names[index] + String(repeating: " ", count: nameWidth - TextWidth.columns(names[index]))
            let phase = task.phase.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            let time = String(repeating: " ", count: elapsedWidth - elapsed[index].count) + elapsed[index]
            var line = "\(name) \(phase) \(time)"
            if let output = task.lastLine, !output.isEmpty { line += "  " + output }
            lines.append(line)
        }
        if hidden > 0 && budget >= 2 { lines.append("… and \(hidden) more") }
        lines.append(totalLine(state, now: now))
        return lines.suffix(budget).map { TextWidth.truncate($0, to: width) }
    }

    /// `run 3 · 2/8 done · 2 running · 1 failed · 14.0 s` (failed counts timed-out tasks too;
    /// cancelled ones appear only when there are some).
    static func totalLine(_ state: LiveProgressState, now: Date) -> String {
        var parts: [String] = []
        if let run = state.run { parts.append("run \(run)") }
        let done = state.counts.done
        parts.append(state.taskCount.map { "\(done)/\($0) done" } ?? "\(done) done")
        parts.append("\(state.active.count) running")
        parts.append("\(state.counts.failed + state.counts.timedOut) failed")
        if state.counts.cancelled > 0 { parts.append("\(state.counts.cancelled) cancelled") }
        if let start = state.startedAt { parts.append(String(format: "%.1f s", max(0, now.timeIntervalSince(start)))) }
        return parts.joined(separator: " · ")
    }
}

/// What the live display knows about a run: built from events only, drawn by `LiveProgress.frame`.
struct LiveProgressState: Sendable, Equatable {
    /// A task being prepared or run, in the order it began.
    struct ActiveTask: Sendable, Equatable {
        enum Phase: String, Sendable {
            case preparing
            case running
        }
        var name: String
        var phase: Phase
        /// When its time started counting: preparing counts, as in `grove status`.
        var since: Date
        var log: String?
        var lastLine: String?
    }

    var run: Int?
    var startedAt: Date?
    var taskCount: Int?
    var active: [ActiveTask] = []
    var counts = FinishedCounts()

    mutating func apply(_ event: RunEvent) {
        if run == nil { run = event.run }
        if startedAt == nil { startedAt = event.time }
        guard let name = event.task else {
            if event.kind == .runStarted {
                startedAt = event.time
                taskCount = event.tasks?.count
            }
            return
        }
        let index = active.firstIndex { $0.name == name }
        switch event.kind {
        case .taskPreparing:
            if index == nil { active.append(ActiveTask(name: name, phase: .preparing, since: event.time)) }
        case .taskStarted:
            if let index {
                active[index].phase = .running
                active[index].log = event.log
            } else {
                active.append(ActiveTask(name: name, phase: .running, since: event.time, log: event.log))
            }
        case .taskFinished:
            if let index { active.remove(at: index) }
            counts.add(event.state)
        case .runStarted, .runStopping, .runFinished:
            break
        }
    }
}
