import Foundation
import GroveCore
import Synchronization

/// `grove run --json` and `grove merge --json`: every event as one line of JSON on stdout
/// (NDJSON), for scripts. Writes are serialized and each line goes out in one write, so
/// concurrent tasks (or queues) never mix two lines.
final class JSONEventStream: RunObserver, MergeObserver {
    private let sink: OutputSink
    private let writing = Mutex(())

    init(sink: @escaping OutputSink = StandardStreams.output) {
        self.sink = sink
    }

    func handle(_ event: RunEvent) {
        write(event.jsonLine())
    }

    func handle(_ event: MergeEvent) {
        write(event.jsonLine())
    }

    private func write(_ line: String) {
        writing.withLock { _ in sink(line + "\n") }
    }
}

/// Chooses how `grove run` shows progress: JSON events when asked, a live display when stderr is
/// a terminal that can move its cursor, one line per state change otherwise.
enum ProgressDisplay {
    static func make(
        json: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> any RunObserver {
        if json { return JSONEventStream() }
        let terminal = Terminal.standardError(environment: environment)
        if terminal.allowsCursorMovement { return LiveProgress(colour: terminal.allowsColour) }
        return LineProgress()
    }
}
