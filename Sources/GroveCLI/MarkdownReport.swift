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
                    cell(task.name), task.state.rawValue, task.seconds.map(oneDecimal) ?? "—",
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
        var lines = ["## \(inline(task.name))", ""]
        lines.append("- state: **\(task.state.rawValue)**" + (task.seconds.map { " after \(oneDecimal($0)) s" } ?? ""))
        lines.append("- repository: \(code(task.repo))")
        lines.append(
            "- branch: \(code(task.branch))" + (task.headCommit.map { " at \(code(String($0.prefix(7))))" } ?? ""))
        lines.append("- base: \(code(task.base))" + (task.baseCommit.map { " at \(code(String($0.prefix(7))))" } ?? ""))
        lines.append("- worktree: \(code(task.worktree))")
        if let exitCode = task.exitCode { lines.append("- exit code: \(exitCode)") }
        if let signal = task.signal { lines.append("- signal: \(signal)") }
        if let reason = task.reason { lines.append("- reason: \(inline(reason))") }
        lines.append("")

        if let note = task.note {
            lines.append("_\(inline(note))_")
        } else if task.diffstat.isEmpty {
            lines.append("_No changes._")
        } else {
            lines.append("| path | + | − |")
            lines.append("|---|---:|---:|")
            for file in task.diffstat {
                let path =
                    file.oldPath.map { "\(cellCode($0)) → \(cellCode(file.path))" } ?? cellCode(file.path)
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
            lines.append("_Nothing in the log \(code(task.log))._")
            lines.append("")
        } else {
            let count = task.logTail.count
            lines.append("Last \(count == 1 ? "line" : "\(count) lines") of \(code(task.log)):")
            lines.append("")
            let fence = self.fence(for: task.logTail)
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

    /// A fence longer than any run of backticks in `lines`, so no log line can close the block.
    static func fence(for lines: [String]) -> String {
        var longest = 0
        for line in lines {
            var run = 0
            for character in line {
                run = character == "`" ? run + 1 : 0
                longest = max(longest, run)
            }
        }
        return String(repeating: "`", count: max(3, longest + 1))
    }

    /// `text` as a code span: delimited by more backticks than it contains in a row, padded when
    /// it starts or ends with a backtick, on one line.
    static func code(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        var longest = 0
        var run = 0
        for character in flat {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let ticks = String(repeating: "`", count: longest + 1)
        let padding = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return ticks + padding + flat + padding + ticks
    }

    /// A code span inside a table cell: GFM splits cells at `|` even inside code, unless escaped.
    static func cellCode(_ text: String) -> String {
        code(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Plain text inside a table cell.
    static func cell(_ text: String) -> String {
        inline(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Free text (a task's reason) on one line, with Markdown's punctuation escaped so that it
    /// reads as written.
    static func inline(_ text: String) -> String {
        var result = ""
        for character in text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ") {
            if "\\`*_[]<>#|~".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    private static func oneDecimal(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
