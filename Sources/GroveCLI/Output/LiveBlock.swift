import Foundation
import Synchronization

/// A block of lines redrawn in place on a terminal, with permanent lines printed above it: the
/// drawing half of every live display (`grove run`, `grove merge`). The owner decides what the
/// block says; this decides when and how it reaches the screen — one write per redraw, nothing
/// when the frame did not change, and a clean screen at the end.
final class LiveBlock: Sendable {
    private struct State {
        /// Lines to print above the block at the next draw.
        var pending: [String] = []
        /// How many lines of block are on screen, to move the cursor back up over them.
        var drawnLines = 0
        var lastFrame: [String] = []
        var tickerStarted = false
        var finished = false
    }

    private let sink: OutputSink
    /// The terminal's size, read at each redraw (the window may change).
    let size: @Sendable () -> (columns: Int, rows: Int)
    /// Time between redraws; nil starts no timer: the owner draws by hand (tests).
    private let refresh: Duration?
    private let state = Mutex(State())

    init(
        sink: @escaping OutputSink, size: @escaping @Sendable () -> (columns: Int, rows: Int),
        refresh: Duration?
    ) {
        self.sink = sink
        self.size = size
        self.refresh = refresh
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Queues a permanent line, printed above the block at the next draw.
    func add(_ line: String) {
        state.withLock { state in
            if !state.finished { state.pending.append(line) }
        }
    }

    /// Replaces the block with `frame` (and prints the pending permanent lines above it).
    /// Returns false once the block has finished, which stops a ticker.
    @discardableResult
    func show(_ frame: [String]) -> Bool {
        state.withLock { state in
            guard !state.finished else { return false }
            guard frame != state.lastFrame || !state.pending.isEmpty else { return true }
            let permanent = state.pending.map { $0 + "\n" }.joined()
            sink(Self.erase(state.drawnLines) + permanent + frame.map { $0 + "\n" }.joined())
            state.pending = []
            state.drawnLines = frame.count
            state.lastFrame = frame
            return true
        }
    }

    /// Erases the block and prints the pending lines and `lines`; nothing is drawn afterwards.
    func finish(with lines: [String] = []) {
        state.withLock { state in
            guard !state.finished else { return }
            sink(Self.erase(state.drawnLines) + (state.pending + lines).map { $0 + "\n" }.joined())
            state.pending = []
            state.drawnLines = 0
            state.finished = true
        }
    }

    /// Calls `tick` every `refresh` on a thread of its own until it returns false; started once,
    /// and not at all without `refresh`. A thread, not a task: the cooperative pool may be busy
    /// with blocking work, and the display must keep moving then above all.
    func keepDrawing(_ tick: @escaping @Sendable () -> Bool) {
        guard let refresh else { return }
        let start = state.withLock { state in
            defer { state.tickerStarted = true }
            return !state.tickerStarted
        }
        guard start else { return }
        let seconds = Double(refresh.components.seconds) + Double(refresh.components.attoseconds) / 1e18
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: seconds)
                guard tick() else { return }
            }
        }
        thread.name = "grove progress"
        thread.start()
    }

    /// Moves the cursor up over `lines` lines of block and clears from there to the end of the screen.
    static func erase(_ lines: Int) -> String {
        lines > 0 ? "\r\u{1B}[\(lines)A\u{1B}[J" : ""
    }
}
