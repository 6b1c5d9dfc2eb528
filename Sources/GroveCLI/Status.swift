import ArgumentParser
import Foundation
import GroveCore

/// `grove status [RUN] [--json]`: a run's tasks and their states, read from the state database.
/// It never writes (a run whose grove died reads as interrupted without being stored so), so it
/// works from another terminal while `grove run` goes on and creates nothing in a home grove
/// never ran in.
struct Status: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a run's tasks and their states; works while the run goes on.",
        usage: "grove status [RUN] [--json]"
    )

    @Argument(help: ArgumentHelp("The run's number (default: the latest run).", valueName: "run"))
    var runNumber: Int?

    @Flag(help: "Print the status document as one line of JSON on stdout.")
    var json = false

    func run(in context: CommandContext) async throws -> Int32 {
        let report = try Self.report(run: runNumber, in: context)
        if json {
            context.stdout.write(try report.json() + "\n")
        } else {
            context.stdout.write(Self.render(report, colour: context.stdout.terminal.allowsColour))
        }
        return ExitStatus.success
    }

    /// The run's status document, as a run whose grove died reads (interrupted).
    static func report(run: Int?, in context: CommandContext) throws -> StatusReport {
        let store = try context.reader()
        do {
            return try store.statusReport(run: run)
        } catch let error as StateError {
            switch error {
            case .noSuchRun, .noRuns: throw CommandFailure.badInput(error.localizedDescription)
            default: throw CommandFailure(error.localizedDescription)
            }
        } catch {
            throw CommandFailure("cannot read the state in \(store.path): \(error.localizedDescription)")
        }
    }

    /// The human form: `run 3 · running · 4 tasks · wall 12.3 s`, the task table with branches,
    /// then the totals line.
    static func render(_ report: StatusReport, colour: Bool = false) -> String {
        let header = [
            "run \(report.run)", TerminalColour.paintState(report.state.rawValue, enabled: colour),
            ProgressText.plural(report.tasks.count, "task"), String(format: "wall %.1f s", report.wallSeconds),
        ]
        .joined(separator: " · ")
        let lines =
            [header] + SummaryTable.table(report, branches: true, colour: colour) + [SummaryTable.totals(report)]
            + notes(report)
        return lines.map { $0 + "\n" }.joined()
    }

    /// What the table has no room for, one line each: why tasks did not succeed, which pushes
    /// were refused and why, and the pull requests made.
    static func notes(_ report: StatusReport) -> [String] {
        var notes: [String] = []
        for task in report.tasks {
            if task.state != .succeeded, let reason = task.reason {
                notes.append("\(task.name): \(LogTail.clean(reason))")
            }
            for attempt in task.attempts.dropLast() {
                notes.append(
                    "\(task.name): attempt \(attempt.number) \(attempt.state.rawValue)"
                        + (attempt.exitCode.map { " (exit \($0))" } ?? "") + ", log \(attempt.log)"
                        + (attempt.savedRef.map { ", what it left is in \($0)" } ?? ""))
            }
            for push in task.pushes {
                if !push.state.isSuccess {
                    notes.append(
                        "\(task.name): push to \(push.remote) \(push.state.rawValue)"
                            + (push.reason.map { ": " + LogTail.clean($0) } ?? ""))
                }
                if let url = push.prURL {
                    notes.append("\(task.name): pull request \(url)")
                } else if let code = push.prExitCode, code != 0 {
                    notes.append("\(task.name): PR command exited \(code)")
                }
            }
        }
        return notes.isEmpty ? [] : [""] + notes
    }
}
