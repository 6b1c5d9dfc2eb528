import Foundation
import GroveCore

/// `grove run`'s live display (`LiveProgress`): one line per task being prepared or run (name,
/// elapsed time, last line of its output) and a total line; a task's end is printed as a
/// permanent line above the block, and the block is erased when the run ends.
extension LiveDisplay where State == LiveProgressState {
    /// The block for `state` at `now`: one line per active task, then the total line, each at most
    /// `width` columns; at most `height - 1` lines (the cursor needs the last row), the tasks that
    /// do not fit counted on one line. Plain text: colour could not be cut to width safely.
    static func frame(_ state: LiveProgressState, now: Date, width: Int, height: Int = .max) -> [String] {
        let budget = max(1, height - 1)
        let now = now
        // Clones and fetches under way come first, one line each: they hold up their tasks.
        let syncLines = state.syncing.map { sync in
            var line =
                "[\(sync.repo)] \(sync.action == "fetch" ? "fetching" : "cloning") "
                + String(format: "%.1f s", max(0, now.timeIntervalSince(sync.since)))
            if let total = sync.totalObjects, total > 0 {
                line +=
                    "  "
                    + ProgressText.transfer(
                        received: sync.receivedObjects ?? 0, total: total, bytes: sync.receivedBytes ?? 0)
            }
            return line
        }
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
        let room = max(0, budget - lines.count)
        var syncShown = Array(syncLines.prefix(room))
        if syncLines.count > room, room > 0 {
            syncShown = Array(syncLines.prefix(room - 1)) + ["… and \(syncLines.count - room + 1) more repositories"]
        }
        return (syncShown + lines).suffix(budget).map { TextWidth.truncate($0, to: width) }
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
        if state.counts.skipped > 0 { parts.append("\(state.counts.skipped) skipped") }
        if let start = state.startedAt { parts.append(String(format: "%.1f s", max(0, now.timeIntervalSince(start)))) }
        return parts.joined(separator: " · ")
    }
}

/// What the live display knows about a run: built from events only, drawn by `LiveProgress.frame`.
struct LiveProgressState: LiveDisplayState, Equatable {
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

    /// A URL repository being cloned or fetched.
    struct ActiveSync: Sendable, Equatable {
        var repo: String
        var action: String
        var since: Date
        var receivedObjects: Int?
        var totalObjects: Int?
        var receivedBytes: Int?
    }

    var run: Int?
    var startedAt: Date?
    var taskCount: Int?
    var syncing: [ActiveSync] = []
    var active: [ActiveTask] = []
    var counts = FinishedCounts()

    mutating func apply(_ event: RunEvent) {
        if run == nil { run = event.run }
        if startedAt == nil { startedAt = event.time }
        if let repo = event.repo {
            let index = syncing.firstIndex { $0.repo == repo }
            switch event.kind {
            case .repoSyncing:
                if index == nil {
                    syncing.append(ActiveSync(repo: repo, action: event.action?.rawValue ?? "clone", since: event.time))
                }
            case .repoProgress:
                if let index {
                    syncing[index].receivedObjects = event.receivedObjects
                    syncing[index].totalObjects = event.totalObjects
                    syncing[index].receivedBytes = event.receivedBytes
                }
            case .repoSynced:
                if let index { syncing.remove(at: index) }
            default: break
            }
            return
        }
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
            counts.add(event.state?.rawValue)
        case .runStarted, .runStopping, .runFinished, .repoSyncing, .repoProgress, .repoSynced, .taskRetrying:
            break
        }
    }

    /// Running tasks show the last line of their log.
    var followedLogs: [(key: String, log: String)] {
        active.compactMap { task in task.phase == .running ? task.log.map { (task.name, $0) } : nil }
    }

    mutating func setLastLine(_ line: String?, of key: String) {
        if let index = active.firstIndex(where: { $0.name == key }) { active[index].lastLine = line }
    }

    func shown(_ event: RunEvent, colour: Bool) -> LiveDisplayStep {
        switch event.kind {
        case .runStarted:
            .line(ProgressText.runStarted(event))
        case .taskFinished:
            .line(ProgressText.taskFinished(event, colour: colour))
        case .runStopping:
            .line(ProgressText.line(for: event, counts: counts))
        case .runFinished:
            // Erase the block and leave only permanent lines: the summary follows on stdout.
            .finish([ProgressText.runFinished(event, counts: counts, colour: colour)])
        case .repoSynced:
            .line(ProgressText.repoSynced(event))
        case .taskRetrying:
            .line(ProgressText.taskRetrying(event, colour: colour))
        case .taskPreparing, .taskStarted, .repoSyncing, .repoProgress:
            .line(nil)
        }
    }

    func frame(now: Date, width: Int, height: Int) -> [String] {
        LiveProgress.frame(self, now: now, width: width, height: height)
    }
}
