import Foundation
import GroveCore
import Synchronization

/// `grove run --json` and `grove merge --json`: every event as one line of JSON on stdout
/// (NDJSON), for scripts. Writes are serialized and each line goes out in one write, so
/// concurrent tasks (or queues) never mix two lines.
final class JSONEventStream: RunObserver, MergeObserver {
    private let sink: OutputSink
    private let writing = Mutex(())

    init(sink: @escaping OutputSink) {
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

/// How the streaming commands (`grove run`, `retry`, `merge`) show progress: JSON events on
/// stdout when asked, a live display when stderr is a terminal that can move its cursor, one
/// line per state change otherwise. `CommandContext` makes the display for each command.
enum ProgressDisplay {
    enum Choice: Equatable {
        case events
        case live(colour: Bool)
        case lines
    }

    /// The choice for `--json` and the stream progress goes to.
    static func choice(json: Bool, progress: Terminal) -> Choice {
        if json { return .events }
        return progress.allowsCursorMovement ? .live(colour: progress.allowsColour) : .lines
    }

    /// `grove run`'s display on the process's own streams, under `environment`.
    static func make(
        json: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> any RunObserver {
        CommandContext.process(environment: environment).runProgress(json: json)
    }
}

/// The last line of a streaming command's `--json` (`grove run`, `retry`, `merge`): the run's
/// `grove status --json` document with one key added, `"event": "summary"`, so a script reading
/// events by their `event` key knows it, and one decoding the status document reads it as one
/// (the status document has no `event` key of its own).
struct StatusSummary: Encodable {
    let report: StatusReport

    private enum Key: String, CodingKey {
        case event
    }

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode("summary", forKey: .event)
    }

    /// The summary as one line of JSON, keys sorted like `grove status --json` (no newline).
    static func line(_ report: StatusReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(StatusSummary(report: report)), as: UTF8.self)
    }
}
