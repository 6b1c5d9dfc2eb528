import Foundation
import GroveCore

/// `grove clean`'s report for people: a table (repository, worktree, branch, class, action,
/// size), then what was kept with the command that removes it, then one totals line.
enum CleanOutput {
    static func render(_ report: CleanReport, colour: Bool = false) -> String {
        var lines: [String] = []
        // Tasks with nothing left are counted in the totals, not listed one by one.
        let shown = report.items.filter { $0.kind != .gone }
        if !shown.isEmpty {
            var table = TextTable([
                .init("repository"), .init("worktree"), .init("branch"), .init("class"), .init("action"),
                .init("size", .right),
            ])
            for item in shown {
                table.append([
                    item.repository, item.worktree ?? "—", item.branch ?? "—", item.kind.rawValue,
                    action(item, dryRun: report.dryRun),
                    item.sizeBytes.map(size) ?? "—",
                ])
            }
            lines += table.lines { row, column, text in
                column == 4 ? paint(text, item: shown[row], enabled: colour) : text
            }
            lines.append("")
        }
        // What goes for a reason its class does not tell, said before what stays.
        let why = shown.filter { $0.saysWhy && !$0.keepsSomething && $0.reason != nil }
        if !why.isEmpty {
            lines.append(report.dryRun ? "would remove:" : "removed:")
            for item in why {
                lines.append("  \(item.branch ?? item.worktree ?? item.repository): \(item.reason ?? "")")
            }
            lines.append("")
        }
        let notes = shown.filter { $0.error != nil || $0.fix != nil && $0.keepsSomething }
        if !notes.isEmpty {
            lines.append(report.dryRun ? "would keep:" : "kept:")
            for item in notes {
                var line = "  \(keptName(item, dryRun: report.dryRun)): "
                line += item.error ?? item.reason ?? item.kind.rawValue
                if let fix = item.fix { line += "; \(fix)" }
                lines.append(line)
            }
            lines.append("")
        }
        lines.append(totals(report))
        return lines.map { $0 + "\n" }.joined()
    }

    /// What of the item is kept, as the "kept:" list names it: its worktree while that stays,
    /// else its branch (the worktree went, or there was none).
    static func keptName(_ item: CleanItem, dryRun: Bool) -> String {
        if let worktree = item.worktree, item.worktreeAction == .keep || item.worktreeAction == nil {
            return worktree
        }
        guard let branch = item.branch, item.branchAction == .keep || item.error != nil else {
            return item.worktree ?? item.branch ?? item.repository
        }
        switch item.worktreeAction {
        case .remove: return "branch \(branch) (its worktree \(dryRun ? "would be " : "")removed)"
        case .prune: return "branch \(branch) (its worktree's entry \(dryRun ? "would be " : "")pruned)"
        case .keep, nil: return "branch \(branch)"
        }
    }

    /// One line per repository that could not be worked in (stderr).
    static func problems(_ report: CleanReport) -> [String] {
        report.problems.map { problem in
            switch problem.kind {
            case .vanished, .skipped: "grove: skipped \(problem.repository): \(problem.message)"
            case .unreadable, .locked: "error: \(problem.repository): \(problem.message)"
            }
        }
    }

    /// "removed + branch deleted", "would prune", "kept", "removed, branch kept".
    static func action(_ item: CleanItem, dryRun: Bool) -> String {
        var steps: [String] = []
        switch item.worktreeAction {
        case .remove: steps.append(dryRun ? "remove" : "removed")
        case .prune: steps.append(dryRun ? "prune" : "pruned")
        case .keep, nil: break
        }
        if item.branchAction == .delete { steps.append(dryRun ? "delete branch" : "branch deleted") }
        var text = steps.joined(separator: " + ")
        if dryRun && !text.isEmpty { text = "would " + text }
        if item.error != nil { return text.isEmpty ? "failed" : text + ", failed" }
        if item.worktreeAction == .keep || text.isEmpty && item.branchAction == .keep {
            return text.isEmpty ? "kept" : text + ", kept"
        }
        if item.branchAction == .keep { return text + ", branch kept" }
        return text.isEmpty ? "none" : text
    }

    /// The totals line: what was (or would be) removed and freed, and what stays.
    static func totals(_ report: CleanReport) -> String {
        let totals = report.totals
        var done: [String] = []
        if totals.worktreesRemoved > 0 {
            var removed = "remove\(report.dryRun ? "" : "d") \(count(totals.worktreesRemoved, "worktree", "worktrees"))"
            if let bytes = totals.bytesFreed { removed += " (\(size(bytes))\(report.dryRun ? "" : " freed"))" }
            done.append(removed)
        }
        if totals.entriesPruned > 0 {
            done.append(
                "prune\(report.dryRun ? "" : "d") \(count(totals.entriesPruned, "admin entry", "admin entries"))")
        }
        if totals.branchesDeleted > 0 {
            done.append("delete\(report.dryRun ? "" : "d") \(count(totals.branchesDeleted, "branch", "branches"))")
        }
        var line = done.isEmpty ? "nothing to remove" : done.joined(separator: ", ")
        if report.dryRun && !done.isEmpty { line = "would " + line }
        if totals.kept > 0 { line += "; \(report.dryRun ? "would keep" : "kept") \(totals.kept)" }
        if totals.errors > 0 { line += "; \(count(totals.errors, "error", "errors"))" }
        if let run = report.run {
            line = "run \(run): " + line
            if report.cleaned == true { line += "; run \(run) is cleaned" }
        }
        if report.dryRun { line += " (dry run: nothing was changed)" }
        if report.interrupted { line += " (interrupted: what was not done is kept)" }
        return line
    }

    /// "1 branch", "2 branches".
    static func count(_ number: Int, _ singular: String, _ plural: String) -> String {
        "\(number) \(number == 1 ? singular : plural)"
    }

    /// "0 B", "12 KiB", "3.4 MiB", "1.2 GiB": binary units, as `du -h` counts.
    static func size(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return (value >= 10 ? String(format: "%.0f", value) : String(format: "%.1f", value)) + " " + units[unit]
    }

    /// Green for what goes, yellow for what stays, red for a failure.
    private static func paint(_ text: String, item: CleanItem, enabled: Bool) -> String {
        let colour: TerminalColour =
            item.error != nil ? .red : item.keepsSomething ? .yellow : .green
        return colour.paint(text, enabled: enabled)
    }
}
