import Foundation
import GroveCore

/// `grove report`'s Markdown: meant to be pasted into a PR, an issue or a chat, so task data
/// (paths, reasons, log lines) is quoted such that it can never break the document's structure.
enum MarkdownReport {
    static func render(_ report: RunReport) -> String {
        var lines: [String] = ["# grove run \(report.run)", ""]
        lines.append(
            "**\(report.state.rawValue)** · \(taskCounts(report.tasks)) · +\(report.insertions) -\(report.deletions)")
        lines.append("")
        lines.append(
            "wall \(oneDecimal(report.wallSeconds)) s · task time \(oneDecimal(report.taskSeconds)) s"
                + " · speedup \(String(format: "%.2f", report.speedup))×")
        lines.append("")
        if !report.tasks.isEmpty {
            lines.append("| task | state | seconds | commits | files | +/- |")
            lines.append("|---|---|---:|---:|---:|---|")
            for task in report.tasks {
                let known = task.note == nil
                let cells = [
                    Markdown.cell(task.name), task.state.rawValue, task.seconds.map(oneDecimal) ?? "—",
                    task.commits.map(String.init) ?? "—", known ? String(task.diffstat.count) : "—",
                    known ? "+\(task.insertions) -\(task.deletions)" : "—",
                ]
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
            lines.append("")
        }
        for task in report.tasks {
            lines += section(task)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One task's section: where it ran, how it ended, what it changed, and its last output.
    private static func section(_ task: RunReport.TaskReport) -> [String] {
        var lines = ["## \(Markdown.inline(task.name))", ""]
        lines.append("- state: **\(task.state.rawValue)**" + (task.seconds.map { " after \(oneDecimal($0)) s" } ?? ""))
        lines.append("- repository: \(Markdown.code(task.repo))")
        if let source = task.source {
            lines.append("- source: \(Markdown.code(source))" + (task.sync.map { " (\($0))" } ?? ""))
        }
        lines.append(
            "- branch: \(Markdown.code(task.branch))"
                + (task.headCommit.map { " at \(Markdown.code(String($0.prefix(7))))" } ?? ""))
        lines.append(
            "- base: \(Markdown.code(task.base))"
                + (task.baseCommit.map { " at \(Markdown.code(String($0.prefix(7))))" } ?? ""))
        lines.append("- worktree: \(Markdown.code(task.worktree))")
        if let exitCode = task.exitCode { lines.append("- exit code: \(exitCode)") }
        if let signal = task.signal { lines.append("- signal: \(signal)") }
        if let reason = task.reason { lines.append("- reason: \(Markdown.inline(reason))") }
        for push in task.pushes {
            var line = "- push to \(Markdown.code(push.remote)): \(push.state.rawValue)"
            if let commit = push.commit, push.state.isSuccess {
                line += " at \(Markdown.code(String(commit.prefix(7))))"
            }
            if let reason = push.reason { line += ": \(Markdown.inline(reason))" }
            lines.append(line)
            if let url = push.prURL {
                lines.append("- pull request: \(url)")
            } else if let code = push.prExitCode, code != 0 {
                lines.append("- PR command: exit \(code)")
            }
        }
        lines.append("")

        if let note = task.note {
            lines.append("_\(Markdown.inline(note))_")
        } else if task.diffstat.isEmpty {
            lines.append("_No changes._")
        } else {
            lines.append("| path | + | − |")
            lines.append("|---|---:|---:|")
            for file in task.diffstat {
                let path =
                    file.oldPath.map { "\(Markdown.cellCode($0)) → \(Markdown.cellCode(file.path))" }
                    ?? Markdown.cellCode(file.path)
                if file.binary {
                    lines.append("| \(path) (binary) | — | — |")
                } else {
                    lines.append("| \(path) | \(file.insertions) | \(file.deletions) |")
                }
            }
            if task.diffstat.count > 1 {
                lines.append(
                    "| **\(task.diffstat.count) files** | **\(task.insertions)** | **\(task.deletions)** |")
            }
        }
        lines.append("")

        if task.logTail.isEmpty {
            lines.append("_Nothing in the log \(Markdown.code(task.log))._")
            lines.append("")
        } else {
            let count = task.logTail.count
            lines.append("Last \(count == 1 ? "line" : "\(count) lines") of \(Markdown.code(task.log)):")
            lines.append("")
            let fence = Markdown.fence(for: task.logTail)
            lines.append(fence + "text")
            lines += task.logTail
            lines.append(fence)
            lines.append("")
        }
        return lines
    }

    /// "3 tasks: 2 succeeded, 1 failed", states in lifecycle order.
    private static func taskCounts(_ tasks: [RunReport.TaskReport]) -> String {
        let counts = TaskState.allCases.compactMap { state -> String? in
            let count = tasks.count { $0.state == state }
            return count > 0 ? "\(count) \(state.rawValue)" : nil
        }
        let total = "\(tasks.count) task\(tasks.count == 1 ? "" : "s")"
        return counts.isEmpty ? total : total + ": " + counts.joined(separator: ", ")
    }

    private static func oneDecimal(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
