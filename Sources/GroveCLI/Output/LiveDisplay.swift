import Foundation
import GroveCore
import Synchronization

/// What a live display knows, built from its events only, and what it shows.
protocol LiveDisplayState: Sendable {
    associatedtype Event: Sendable

    init()
    /// Takes in one event.
    mutating func apply(_ event: Event)
    /// What `event`, once applied, leaves on screen above the block.
    func shown(_ event: Event, colour: Bool) -> LiveDisplayStep
    /// The steps whose frame line ends with the last line of their log: each one's key and log.
    var followedLogs: [(key: String, log: String)] { get }
    /// Sets the last output line shown for the step `key`.
    mutating func setLastLine(_ line: String?, of key: String)
    /// The block at `now`, each line at most `width` columns, at most `height - 1` lines.
    func frame(now: Date, width: Int, height: Int) -> [String]
}

/// What one event leaves on screen.
enum LiveDisplayStep: Equatable {
    /// A permanent line above the block, or none.
    case line(String?)
    /// The end of the display: the block is erased and these lines stay.
    case finish([String])
}

/// Progress for a stderr that is a terminal — `grove run`'s (`LiveProgress`) and `grove merge`'s
/// (`MergeLiveProgress`): a block redrawn in place, one line per step under way and a total
/// line, with the outcomes printed as permanent lines above it. `State` decides what is said;
/// this keeps the state behind a lock and gets it to the screen through a `LiveBlock`.
///
/// All drawing happens on a timer thread, at most `refresh` apart (10 times a second by default), so
/// a burst of events costs one redraw; only the end draws at once, to leave a clean screen.
final class LiveDisplay<State: LiveDisplayState>: Sendable {
    private let block: LiveBlock
    private let colour: Bool
    private let state = Mutex(State())

    /// `refresh` nil starts no timer: the caller draws with `draw(now:)` (tests).
    init(
        sink: @escaping OutputSink, colour: Bool = false, size: @escaping @Sendable () -> (columns: Int, rows: Int),
        refresh: Duration? = .milliseconds(100)
    ) {
        block = LiveBlock(sink: sink, size: size, refresh: refresh)
        self.colour = colour
    }

    func handle(_ event: State.Event) {
        guard !block.isFinished else { return }
        let step = state.withLock { state in
            state.apply(event)
            return state.shown(event, colour: colour)
        }
        switch step {
        case .line(let line):
            if let line { block.add(line) }
        case .finish(let lines):
            block.finish(with: lines)
            return
        }
        block.keepDrawing { [weak self] in self?.draw() ?? false }
    }

    /// Stops the display without its last event (a command that failed before it could end):
    /// erases the block and prints what was pending, so the terminal is left clean.
    func close() {
        block.finish()
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
}

/// `grove run`'s live display.
typealias LiveProgress = LiveDisplay<LiveProgressState>

/// `grove merge`'s live display.
typealias MergeLiveProgress = LiveDisplay<MergeLiveState>

extension LiveDisplay: RunObserver where State == LiveProgressState {}

extension LiveDisplay: MergeObserver where State == MergeLiveState {}
