import Foundation
import GroveCore

/// `grove push`'s result for people: one line per task (state, where it went or why not, the
/// PR step), then tasks not pushed; the totals line goes to stderr.
enum PushOutput {
    static func render(_ report: PushReport, colour: Bool = false) -> String {
        let names = report.tasks.map(\.task) + report.notPushed.map(\.task)
        let width = names.map(\.count).max() ?? 0
        var lines: [String] = []
        for task in report.tasks {
            let name = task.task.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(name)  " + describe(task, colour: colour))
        }
        for task in report.notPushed {
            let name = task.task.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(name)  " + TerminalColour.yellow.paint("not pushed", enabled: colour) + ": \(task.reason)")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// What could not be recorded, one line each for stderr.
    static func problems(_ report: PushReport) -> [String] {
        report.tasks.compactMap { task in task.recordProblem.map { "error: \(task.task): \($0)" } }
    }

    /// `pushed      grove/1/a → origin  PR: https://…`, `rejected: <reason>`, `failed: <reason>`.
    static func describe(_ task: PushReport.TaskPush, colour: Bool) -> String {
        let word = self.word(task.state)
        switch task.state {
        case .pushed, .upToDate:
            let state =
                TerminalColour.green.paint(word, enabled: colour)
                + String(repeating: " ", count: max(0, self.word(.upToDate).count - word.count))
            var line = "\(state)  \(task.branch) → \(task.remote)"
            if let note = pullRequest(task, colour: colour) { line += "  " + note }
            return line
        case .rejected, .failed:
            return TerminalColour.red.paint(word, enabled: colour) + ": " + (task.reason ?? "no reason given")
        }
    }

    /// The PR step: `PR: <url>`, `PR exists: <url>`, `PR command failed (exit 1), see <log>`.
    static func pullRequest(_ task: PushReport.TaskPush, colour: Bool) -> String? {
        switch task.pullRequest {
        case .notRun:
            return nil
        case .created:
            return task.prURL.map { "PR: \($0)" } ?? "PR command done (no URL printed), see \(task.prLog ?? "its log")"
        case .exists:
            return "PR exists: \(task.prURL ?? "?")"
        case .failed(let how):
            let failed = TerminalColour.red.paint("PR command failed", enabled: colour)
            return "\(failed) (\(how))" + (task.prLog.map { ", see \($0)" } ?? "")
        case .skipped(let why):
            return TerminalColour.yellow.paint("PR command not run", enabled: colour) + ": \(why)"
        }
    }

    /// `run 3 → origin: 2 pushed, 1 up to date, 1 rejected; 2 not pushed; 1 PR command failed; PR bodies in <dir>`.
    static func totals(_ report: PushReport, bodies: String) -> String {
        let counts = report.counts
        var parts = PushState.allCases.compactMap { state in counts[state].map { "\($0) \(word(state))" } }
        if parts.isEmpty { parts = ["nothing pushed"] }
        var line = "grove: run \(report.run) → \(report.remote): " + parts.joined(separator: ", ")
        if !report.notPushed.isEmpty { line += "; \(report.notPushed.count) not pushed" }
        var failed = 0
        var skipped = 0
        for task in report.tasks {
            switch task.pullRequest {
            case .failed: failed += 1
            case .skipped: skipped += 1
            case .notRun, .created, .exists: break
            }
        }
        if failed > 0 { line += "; \(failed) PR command\(failed == 1 ? "" : "s") failed" }
        if skipped > 0 { line += "; \(skipped) PR command\(skipped == 1 ? "" : "s") not run" }
        if report.tasks.contains(where: { $0.prBody != nil }) { line += "; PR bodies in \(bodies)" }
        if report.interrupted { line += " (interrupted)" }
        return line
    }

    /// A state in words: `pushed`, `up to date`, `rejected`, `failed`.
    static func word(_ state: PushState) -> String {
        state == .upToDate ? "up to date" : state.rawValue
    }
}
