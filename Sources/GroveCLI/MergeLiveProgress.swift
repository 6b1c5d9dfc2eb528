import Foundation
import GroveCore

/// `grove merge`'s live display (`MergeLiveProgress`), like `grove run`'s: one line per queue at
/// work (the task, whether it is rebasing or being checked, for how long in that step, and the
/// last line of its check's output) and a total line; each step's outcome is printed as a
/// permanent line above it, worded like the line display.
extension LiveDisplay where State == MergeLiveState {
    /// The block: one line per queue at work, then the total line; cut to `width`, at most
    /// `height - 1` lines (the last queues are left out first; the total line always stays).
    static func frame(_ state: MergeLiveState, now: Date, width: Int, height: Int = .max) -> [String] {
        let budget = max(1, height - 1)
        let shown = state.active.prefix(budget - 1)
        let labelWidth = shown.map { TextWidth.columns($0.label) }.max() ?? 0
        var lines = shown.map { step in
            let label = step.label + String(repeating: " ", count: labelWidth - TextWidth.columns(step.label))
            let elapsed = String(format: "%5.1f s", max(0, now.timeIntervalSince(step.since)))
            var line = "\(label) \(step.phase.padding(toLength: 8, withPad: " ", startingAt: 0)) \(elapsed)"
            if let output = step.lastLine, !output.isEmpty { line += "  " + output }
            return line
        }
        lines.append(totalLine(state, now: now))
        return lines.map { TextWidth.truncate($0, to: width) }
    }

    /// `merge run 3 · 4/10 done · 3 landed · 1 conflict · 2.1 s`.
    static func totalLine(_ state: MergeLiveState, now: Date) -> String {
        var parts = ["merge run \(state.run.map(String.init) ?? "?")"]
        let done = state.results.values.reduce(0, +)
        parts.append(state.taskCount.map { "\(done)/\($0) done" } ?? "\(done) done")
        for result in MergeResult.allCases {
            if let count = state.results[result.rawValue], count > 0 { parts.append("\(count) \(result.rawValue)") }
        }
        if let start = state.startedAt { parts.append(String(format: "%.1f s", max(0, now.timeIntervalSince(start)))) }
        return parts.joined(separator: " · ")
    }
}

/// What the live merge display knows, built from events only.
struct MergeLiveState: LiveDisplayState, Equatable {
    /// A queue's head task while it is rebased or checked.
    struct ActiveStep: Sendable, Equatable {
        /// Repository and task: unique among what is going on.
        var key: String
        /// `[task]`, or `[repo: task]` when several repositories are merged.
        var label: String
        /// `rebasing` or `checking`.
        var phase: String
        var since: Date
        /// The check's log, once it runs.
        var log: String?
        var lastLine: String?
    }

    var run: Int?
    var startedAt: Date?
    var taskCount: Int?
    var manyRepositories = false
    var active: [ActiveStep] = []
    /// Finished tasks by result (`landed`, `conflict`, …), this merge's only.
    var results: [String: Int] = [:]

    mutating func apply(_ event: MergeEvent) {
        if run == nil { run = event.run }
        let key = (event.repo ?? "") + "\u{0}" + (event.task ?? "")
        let repository = manyRepositories ? event.repo.map { ($0 as NSString).lastPathComponent + ": " } ?? "" : ""
        let label = "[\(repository)\(event.task ?? "?")]"
        switch event.kind {
        case .mergeStarted:
            startedAt = event.time
            taskCount = event.tasks?.count
            manyRepositories = (event.repos?.count ?? 0) > 1
        case .taskRebasing:
            active.removeAll { $0.key == key }
            active.append(ActiveStep(key: key, label: label, phase: "rebasing", since: event.time))
        case .taskChecking:
            if let index = active.firstIndex(where: { $0.key == key }) {
                active[index].phase = "checking"
                active[index].since = event.time
                active[index].log = event.log
            } else {
                active.append(ActiveStep(key: key, label: label, phase: "checking", since: event.time, log: event.log))
            }
        case .taskFinished:
            active.removeAll { $0.key == key }
            if event.earlier != true, let result = event.result?.rawValue, result != MergeResult.notReached.rawValue {
                results[result, default: 0] += 1
            }
        case .queueStopped:
            active.removeAll { $0.key.hasPrefix((event.repo ?? "") + "\u{0}") }
        case .taskRecovered, .basePushed, .mergeFinished:
            break
        }
    }

    /// A check being run shows the last line of its log.
    var followedLogs: [(key: String, log: String)] {
        active.compactMap { step in step.log.map { (step.key, $0) } }
    }

    mutating func setLastLine(_ line: String?, of key: String) {
        if let index = active.firstIndex(where: { $0.key == key }) { active[index].lastLine = line }
    }

    func shown(_ event: MergeEvent, colour: Bool) -> LiveDisplayStep {
        if event.kind == .mergeFinished { return .finish([]) }
        // Steps under way are the block's business; only outcomes stay on screen.
        if event.kind == .taskRebasing || event.kind == .taskChecking { return .line(nil) }
        guard var line = MergeLineProgress.line(for: event, showRepository: manyRepositories) else { return .line(nil) }
        if event.kind == .taskFinished, let result = event.result?.rawValue {
            line = line.replacingOccurrences(of: "] \(result)", with: "] " + MergeTable.paint(result, enabled: colour))
        }
        return .line(line)
    }

    func frame(now: Date, width: Int, height: Int) -> [String] {
        MergeLiveProgress.frame(self, now: now, width: width, height: height)
    }
}
