import Foundation
import GroveCore
import Synchronization

/// `grove merge`'s result: a table per repository — task, result, the commit it landed as, the
/// conflicting paths — then each reason worth reading, then one totals line.
enum MergeTable {
    static func render(_ report: MergeReport, colour: Bool = false) -> String {
        var lines: [String] = []
        for repository in report.repositories {
            let bases = Array(Set(repository.tasks.map(\.base))).sorted()
            lines.append("\(repository.shown) → \(bases.joined(separator: ", "))")
            var table = TextTable([.init("task"), .init("result"), .init("commit"), .init("conflicting paths")])
            for task in repository.tasks {
                table.append([
                    task.task, task.result.rawValue + (task.earlier ? " (earlier)" : ""),
                    task.commit.map { String($0.prefix(7)) } ?? "", task.conflicts.joined(separator: " "),
                ])
            }
            lines += table.lines { _, column, text in column == 1 ? paint(text, enabled: colour) : text }
            for task in repository.tasks {
                guard let reason = task.reason, task.result != .nothingToLand, !task.earlier else { continue }
                // The task the queue stopped at carries the stop's reason: said once, below.
                if task.result == .notReached && reason == repository.stopped { continue }
                lines.append("  \(task.task): \(reason)")
            }
            if let stopped = repository.stopped { lines.append("  stopped: \(stopped)") }
            for push in repository.pushes {
                lines.append(
                    "  push \(push.base) → \(push.remote): \(push.outcome.rawValue)"
                        + (push.reason.map { " (\($0))" } ?? ""))
            }
            lines.append("")
        }
        if !report.notQueued.isEmpty {
            let names = report.notQueued.map { "\($0.task) (\($0.state.rawValue))" }.joined(separator: ", ")
            lines.append("not queued (did not succeed): \(names)")
        }
        lines.append(totals(report))
        return lines.map { $0 + "\n" }.joined()
    }

    /// `run 3: 8 landed, 2 conflict` (results in a fixed order), or `run 3: nothing to merge`.
    static func totals(_ report: MergeReport) -> String {
        let counts = report.counts
        let parts = MergeResult.allCases.compactMap { result in
            counts[result.rawValue].map { "\($0) \(result.rawValue)" }
        }
        let summary = parts.isEmpty ? "nothing to merge" : parts.joined(separator: ", ")
        return "run \(report.run): \(summary)" + (report.interrupted ? " (interrupted)" : "")
    }

    /// A result word in the colour of its meaning.
    static func paint(_ text: String, enabled: Bool) -> String {
        let word = text.split(separator: " ").first.map(String.init) ?? text
        let colour: TerminalColour? =
            switch MergeResult(rawValue: word) {
            case .landed: .green
            case .conflict, .checkFailed, .error: .red
            case .notReached, .blocked: .yellow
            case .nothingToLand, nil: nil
            }
        return colour?.paint(text, enabled: enabled) ?? text
    }
}

/// Merge progress on stderr: one line per step, `grove: [task] …`, serialized (queues of
/// several repositories report at once).
final class MergeLineProgress: MergeObserver {
    private let sink: OutputSink
    /// Also serializes the writes; holds whether more than one repository is merged, to say which.
    private let state = Mutex(false)

    init(sink: @escaping OutputSink) {
        self.sink = sink
    }

    func handle(_ event: MergeEvent) {
        state.withLock { manyRepositories in
            if event.kind == .mergeStarted { manyRepositories = (event.repos?.count ?? 0) > 1 }
            guard let line = Self.line(for: event, showRepository: manyRepositories) else { return }
            sink("grove: " + line + "\n")
        }
    }

    static func line(for event: MergeEvent, showRepository: Bool) -> String? {
        let repository = showRepository ? event.repo.map { ($0 as NSString).lastPathComponent + ": " } ?? "" : ""
        let task = "[\(repository)\(event.task ?? "?")]"
        switch event.kind {
        case .mergeStarted:
            let tasks = event.tasks?.count ?? 0
            let repos = event.repos?.count ?? 0
            return "merging run \(event.run): \(ProgressText.plural(tasks, "task")) in \(repos) "
                + (repos == 1 ? "repository" : "repositories")
        case .taskRecovered:
            return "\(task) recovered: \(event.reason ?? "")"
        case .taskRebasing:
            return "\(task) rebasing onto \(event.base ?? "base")"
        case .taskChecking:
            return "\(task) checking \(event.commit.map { String($0.prefix(7)) } ?? "the candidate")"
                + (event.log.map { " (log: \($0))" } ?? "")
        case .taskFinished:
            guard event.earlier != true, event.result != .task(.notReached) else { return nil }
            var line = "\(task) \(event.result?.rawValue ?? "finished")"
            if let commit = event.commit { line += " as \(commit.prefix(7))" }
            if let commits = event.commits { line += " (\(ProgressText.plural(commits, "commit")))" }
            if let conflicts = event.conflicts { line += " in " + conflicts.joined(separator: ", ") }
            if event.cached == true { line += " (cached check)" }
            if let reason = event.reason, event.result != .task(.landed) { line += ": \(reason)" }
            return line
        case .queueStopped:
            return "\(event.repo ?? "queue") stopped: \(event.reason ?? "")"
        case .basePushed:
            let repository = event.repo.map { ($0 as NSString).lastPathComponent + ": " } ?? ""
            return "[\(repository)\(event.base ?? "base")] push \(event.result?.rawValue ?? "done")"
                + (event.reason.map { ": \($0)" } ?? "")
        case .mergeFinished:
            return nil
        }
    }
}

/// `grove merge --plan`: per repository, the order and what each task is predicted to meet.
enum MergePlanTable {
    static func render(_ plan: MergePlan) -> String {
        var lines: [String] = []
        for repository in plan.repositories {
            let bases = Array(Set(repository.tasks.map(\.base))).sorted()
            lines.append("\(repository.shown) → \(bases.joined(separator: ", ")) (order: \(plan.order.rawValue))")
            var table = TextTable([
                .init("#", .right), .init("task"), .init("commits", .right), .init("with base"), .init("predicted"),
                .init("shares paths with"),
            ])
            for (index, task) in repository.tasks.enumerated() {
                let withBase =
                    task.mergesWithBase ? "clean" : "conflicts: " + task.baseConflicts.joined(separator: " ")
                let predicted =
                    task.predicted == .conflict
                    ? "conflict: " + task.predictedConflicts.joined(separator: " ") : task.predicted.rawValue
                let shares = task.sharesPathsWith.keys.sorted().map { other in
                    let paths = (task.sharesPathsWith[other] ?? []).joined(separator: " ")
                    return "\(other): \(paths)" + (task.conflictsWith[other] == nil ? "" : " (conflict)")
                }
                table.append([
                    String(index + 1), task.task, String(task.commits), withBase, predicted,
                    shares.joined(separator: "; "),
                ])
            }
            lines += table.lines()
            for task in repository.tasks { if let reason = task.reason { lines.append("  \(task.task): \(reason)") } }
            lines.append("")
        }
        let counts = Dictionary(grouping: plan.repositories.flatMap(\.tasks), by: \.predicted).mapValues(\.count)
        let parts = MergeResult.allCases.compactMap { result in counts[result].map { "\($0) \(result.rawValue)" } }
        lines.append(
            "run \(plan.run) plan: " + (parts.isEmpty ? "nothing to merge" : parts.joined(separator: ", "))
                + " predicted; nothing was changed")
        return lines.map { $0 + "\n" }.joined()
    }

    /// The plan as one line of JSON (keys sorted).
    static func json(_ plan: MergePlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(plan), as: UTF8.self)
    }
}
