import Foundation
import GroveCore

/// The end-of-run summary (and the body of `grove status`): one row per task, then the line that
/// says what running at once saved.
enum SummaryTable {
    /// The table of `report`'s tasks: task, state, seconds, commits, files (and branch when asked).
    /// Commits and files show `-` until a task has ended; seconds show `-` before it started.
    static func table(_ report: StatusReport, branches: Bool = false, colour: Bool = false) -> [String] {
        var columns: [TextTable.Column] = [
            .init("task"), .init("state"), .init("seconds", .right), .init("commits", .right), .init("files", .right),
        ]
        if branches { columns.append(.init("branch")) }
        var table = TextTable(columns)
        for task in report.tasks {
            let ended = task.state.isFinal
            var row = [
                task.name,
                task.state.rawValue,
                task.seconds.map { String(format: "%.2f", $0) } ?? "-",
                ended ? task.commits.map(String.init) ?? "-" : "-",
                ended ? String(task.changedFiles.count) : "-",
            ]
            if branches { row.append(task.branch) }
            table.append(row)
        }
        return table.lines { _, column, text in
            column == 1 ? TerminalColour.paintState(text, enabled: colour) : text
        }
    }

    /// `wall 12.3 s · task time 61.0 s · speedup 4.96×`.
    static func totals(_ report: StatusReport) -> String {
        String(
            format: "wall %.1f s · task time %.1f s · speedup %.2f×", report.wallSeconds, report.taskSeconds,
            report.speedup)
    }

    /// What a non-JSON `grove run` prints on stdout at its end: the table, then the totals line.
    static func render(_ report: StatusReport, colour: Bool = false) -> String {
        (table(report, colour: colour) + [totals(report)]).map { $0 + "\n" }.joined()
    }
}
