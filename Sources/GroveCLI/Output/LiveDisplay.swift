import Foundation
import GroveCore
import Synchronization

/// What a live display knows, built from events only, and how it is drawn.
protocol LiveDisplayState: Sendable {
    /// The steps whose frame line ends with the last line of their log: each one's key and log.
    var followedLogs: [(key: String, log: String)] { get }
    /// Sets the last output line shown for the step `key`.
    mutating func setLastLine(_ line: String?, of key: String)
    /// The block at `now`, each line at most `width` columns, at most `height - 1` lines.
    func frame(now: Date, width: Int, height: Int) -> [String]
}

/// The half every live display shares (`grove run`'s, `grove merge`'s): its state behind a lock,
/// its block on the terminal, and the redraw. The owner turns events into state and permanent lines.
final class LiveDisplay<State: LiveDisplayState>: Sendable {
    let block: LiveBlock
    let colour: Bool
    private let state: Mutex<State>

    /// `refresh` nil starts no timer: the caller draws with `draw(now:)` (tests).
    init(
        _ initial: State, sink: @escaping OutputSink, colour: Bool,
        size: @escaping @Sendable () -> (columns: Int, rows: Int), refresh: Duration?
    ) {
        block = LiveBlock(sink: sink, size: size, refresh: refresh)
        self.colour = colour
        state = Mutex(initial)
    }

    /// Runs `body` on the state under the lock.
    func update<Result: Sendable>(_ body: (inout State) -> Result) -> Result {
        state.withLock { body(&$0) }
    }

    /// Redraws the block: reads the followed logs' last lines, then replaces what was drawn with
    /// the pending permanent lines and the new frame, in one write. Returns false once the
    /// display has finished, which stops the timer.
    @discardableResult
    func draw(now: Date = Date()) -> Bool {
        let logs = state.withLock { $0.followedLogs }
        // File reads happen outside the lock, so threads reporting events never wait on disk.
        let lines = logs.map { ($0.key, LogTail.lastLine(ofFileAt: $0.log)) }
        let (columns, rows) = block.size()
        let frame = state.withLock { state in
            for (key, line) in lines { state.setLastLine(line, of: key) }
            return state.frame(now: now, width: columns, height: rows)
        }
        return block.show(frame)
    }

    /// Starts the timer that redraws (once, and only with a `refresh`).
    func keepDrawing() {
        block.keepDrawing { [weak self] in self?.draw() ?? false }
    }
}
