import Foundation
import GroveCore

/// The end-of-run summary (and the body of `grove status`): one row per task, then the line that
/// says what running at once saved.
enum SummaryTable {
    /// The table of `report`'s tasks: task, state, seconds, commits, files (and branch when asked).
    /// Commits and files show `-` until a task has ended; seconds show `-` before it started.
    /// With `branches`, a `merge` column follows once any task went through `grove merge`: its
    /// result, or the step it is at while a merge lands it.
    static func table(_ report: StatusReport, branches: Bool = false, colour: Bool = false) -> [String] {
        var columns: [TextTable.Column] = [
            .init("task"), .init("state"), .init("seconds", .right), .init("commits", .right), .init("files", .right),
        ]
        let retried = report.tasks.contains { $0.attempts.count > 1 }
        if retried { columns.insert(.init("attempts", .right), at: 3) }
        if branches { columns.append(.init("branch")) }
        let merges = branches && report.tasks.contains { $0.merge != nil }
        if merges { columns.append(.init("merge")) }
        let syncs = branches && report.tasks.contains { $0.sync != nil }
        if syncs { columns.insert(.init("clone"), at: 2) }
        let pushes = branches && report.tasks.contains { !$0.pushes.isEmpty }
        if pushes { columns.append(.init("push")) }
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
            if retried { row.insert(String(max(1, task.attempts.count)), at: 3) }
            if syncs { row.insert(task.sync ?? "-", at: 2) }
            if branches { row.append(task.branch) }
            if merges { row.append(task.merge.map { $0.result?.rawValue ?? $0.step.rawValue } ?? "-") }
            if pushes {
                row.append(
                    task.pushes.isEmpty
                        ? "-"
                        : task.pushes.map { push in
                            push.state.rawValue + (push.prURL != nil ? " + PR" : "")
                        }.joined(separator: ", "))
            }
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
