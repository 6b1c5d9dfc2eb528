import Foundation
import GroveCore
import Synchronization

/// Progress for a stderr that is not a terminal (a CI log, a file, a pipe): one complete line per
/// state change, prefixed `grove: ` so it stands out among other tools' output, never redrawn.
final class LineProgress: RunObserver {
    private let sink: OutputSink
    /// Also serializes the writes: events come from many tasks at once, lines must not mix.
    private let counts = Mutex(FinishedCounts())

    init(sink: @escaping OutputSink) {
        self.sink = sink
    }

    func handle(_ event: RunEvent) {
        counts.withLock { counts in
            if event.kind == .taskFinished { counts.add(event.state?.rawValue) }
            guard let line = ProgressText.line(for: event, counts: counts) else { return }
            sink("grove: " + line + "\n")
        }
    }
}

/// How many tasks ended in each final state, for the run's closing line and the live total line.
struct FinishedCounts: Sendable, Equatable {
    var succeeded = 0
    var failed = 0
    var timedOut = 0
    var cancelled = 0
    var skipped = 0

    /// Every task that reached a final state.
    var done: Int { succeeded + failed + timedOut + cancelled + skipped }

    mutating func add(_ state: String?) {
        switch state.flatMap(TaskState.init(rawValue:)) {
        case .succeeded: succeeded += 1
        case .failed: failed += 1
        case .timedOut: timedOut += 1
        case .cancelled: cancelled += 1
        case .skipped: skipped += 1
        default: break
        }
    }

    /// `6 succeeded, 1 failed, 1 timed_out`, leaving out the states no task reached.
    func description(colour: Bool = false) -> String {
        let parts = [
            (succeeded, TaskState.succeeded), (failed, .failed), (timedOut, .timedOut), (cancelled, .cancelled),
            (skipped, .skipped),
        ]
        .filter { $0.0 > 0 }
        .map { "\($0.0) " + TerminalColour.paintState($0.1.rawValue, enabled: colour) }
        return parts.isEmpty ? "no task finished" : parts.joined(separator: ", ")
    }
}

/// The words of progress output, shared by the line and live displays so a task's final line
/// reads the same in a CI log and on a terminal.
enum ProgressText {
    /// The line for one event (without prefix or newline); nil for an event that says nothing new.
    /// `counts` already includes `event` when it is a task's end.
    static func line(for event: RunEvent, counts: FinishedCounts, colour: Bool = false) -> String? {
        switch event.kind {
        case .runStarted:
            return runStarted(event)
        case .taskPreparing:
            return "[\(event.task ?? "?")] preparing" + reasonSuffix(event)
        case .taskStarted:
            let slot = event.slot.map { " (slot \($0))" } ?? ""
            return "[\(event.task ?? "?")] running" + slot + reasonSuffix(event)
        case .taskFinished:
            return taskFinished(event, colour: colour)
        case .taskRetrying:
            return taskRetrying(event, colour: colour)
        case .runStopping:
            return "run \(event.run) stopping" + reasonSuffix(event)
        case .runFinished:
            return runFinished(event, counts: counts, colour: colour)
        case .repoSyncing:
            return (event.action == .fetch ? "fetching " : "cloning ") + (event.repo ?? "?")
        case .repoProgress:
            // Shown by the live display only: a log gets the start and the end.
            return nil
        case .repoSynced:
            return repoSynced(event)
        }
    }

    /// `cloned https://host/org/a.git in 1.20 s` / `https://host/org/b.git: repository not found; …`.
    static func repoSynced(_ event: RunEvent) -> String {
        let repo = event.repo ?? "?"
        guard event.state != .sync(.failed) else {
            // Remote errors already start with the URL: say it once.
            var failed = event
            if let reason = event.reason, reason.hasPrefix(repo + ": ") {
                failed.reason = String(reason.dropFirst(repo.count + 2))
            }
            return "\(repo)" + (reasonSuffix(failed).isEmpty ? ": failed" : reasonSuffix(failed))
        }
        return "\(event.state?.rawValue ?? "synced") \(repo)" + (event.seconds.map { " in " + secondsText($0) } ?? "")
    }

    /// `1234/5000 objects · 3.2 MiB`.
    static func transfer(received: Int, total: Int, bytes: Int) -> String {
        let size =
            bytes >= 1 << 20
            ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
            : String(format: "%.0f KiB", Double(bytes) / 1024)
        return "\(received)/\(total) objects · \(size)"
    }

    /// `run 3: 8 tasks, 2 at once`.
    static func runStarted(_ event: RunEvent) -> String {
        var line = "run \(event.run)"
        if let tasks = event.tasks { line += ": " + plural(tasks.count, "task") }
        if let jobs = event.jobs { line += (event.tasks == nil ? ": " : ", ") + "\(jobs) at once" }
        return line
    }

    /// `[a] succeeded in 1.02 s · 1 commit · 2 files changed`, `[b] failed in 0.51 s (exit 3)`,
    /// `[c] timed_out after 5.00 s (signal 15): ran past its timeout of 5s`.
    static func taskFinished(_ event: RunEvent, colour: Bool = false) -> String {
        let state = event.state?.rawValue ?? "finished"
        var line = "[\(event.task ?? "?")] " + TerminalColour.paintState(state, enabled: colour)
        if let seconds = event.seconds {
            // A stopped task did not finish its work: "after" says it was cut short.
            let word = state == "succeeded" || state == "failed" ? "in" : "after"
            line += " \(word) " + secondsText(seconds)
        }
        if let code = event.exitCode, state != "succeeded" {
            line += " (exit \(code))"
        } else if let signal = event.signal {
            line += " (signal \(signal))"
        }
        if let commits = event.commits { line += " · " + plural(commits, "commit") }
        if let files = event.changedFiles { line += " · " + plural(files.count, "file") + " changed" }
        return line + reasonSuffix(event)
    }

    /// `[a] attempt 1 failed (exit 1), trying again (attempt 2 of 3)…`.
    static func taskRetrying(_ event: RunEvent, colour: Bool = false) -> String {
        let next = event.attempt ?? 2
        var line =
            "[\(event.task ?? "?")] attempt \(next - 1) "
            + TerminalColour.paintState(event.state?.rawValue ?? "failed", enabled: colour)
        if let code = event.exitCode {
            line += " (exit \(code))"
        } else if let signal = event.signal {
            line += " (signal \(signal))"
        }
        return line + reasonSuffix(event) + "; trying again (attempt \(next))"
    }

    /// `run 3 finished in 12.3 s: 6 succeeded, 1 failed` / `run 3 interrupted after 4.2 s: …`.
    static func runFinished(_ event: RunEvent, counts: FinishedCounts, colour: Bool = false) -> String {
        let state = event.state?.rawValue ?? "finished"
        var line = "run \(event.run) " + TerminalColour.paintState(state, enabled: colour)
        if let wall = event.wallSeconds {
            line += (state == "finished" ? " in " : " after ") + String(format: "%.1f s", wall)
        }
        return line + ": " + counts.description(colour: colour) + reasonSuffix(event)
    }

    /// Seconds as the progress lines show them: `1.02 s`.
    static func secondsText(_ seconds: Double) -> String {
        String(format: "%.2f s", seconds)
    }

    /// `1 task`, `2 tasks`, `0 tasks`.
    static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    private static func reasonSuffix(_ event: RunEvent) -> String {
        // A reason may quote a command's output: it must stay on this one line, without escapes.
        let flat = event.reason.map {
            $0.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        }
        guard let reason = flat.map(LogTail.clean), !reason.isEmpty else { return "" }
        return ": " + reason
    }
}
