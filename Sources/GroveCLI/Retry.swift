import ArgumentParser
import Foundation
import GroveBasics
import GroveCore

/// `grove retry [RUN] [--task T]...`: runs the chosen tasks of an existing run again — by default
/// every one that did not succeed — in their own worktrees, keeping what each last attempt left.
struct Retry: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Run a run's failed, timed-out, cancelled or skipped tasks again, in the same run.",
        usage: "grove retry [RUN] [--task T]... [-j N] [--json]",
        discussion: """
            Each task is reset to its start commit in its worktree (made again if it is gone); what its \
            last attempt left — commits and uncommitted changes — is kept in \
            refs/grove/attempts/<run>/<task>/<n>, and its log in logs/<run>/<task>.<n>.log. A task whose \
            dependencies are retried too starts from their new branches.

            With --json, stdout carries one JSON event per line, and the last line is the run's summary: \
            the document `grove status --json` prints, with "event": "summary" added.

            Exit status: 0 every task of the run has succeeded now; 1 some task still did not; 2 bad \
            input (an unknown run or task, a task that succeeded); 130 interrupted.
            """
    )

    @Argument(help: ArgumentHelp("The run's number (default: the latest run).", valueName: "run"))
    var runNumber: Int?

    @Option(name: .customLong("task"), help: "A task to retry (repeatable); default: every task that did not succeed.")
    var tasks: [String] = []

    @Option(name: [.short, .customLong("jobs")], help: "Tasks at once (default: the run's).")
    var jobs: Int?

    @Flag(help: "Newline-delimited JSON events on stdout instead of the display and summary.")
    var json = false

    func run(in context: CommandContext) async throws -> Int32 {
        let control = context.runControl()
        let home = try context.home()
        if let jobs, jobs < 1 { throw CommandFailure.badInput("-j: -j is \(jobs); give at least 1") }
        let runner: Runner
        do {
            guard let prepared = try Runner.retry(run: runNumber, tasks: tasks, home: home, jobs: jobs) else {
                context.stderr.writeLine("grove: every task of the run has succeeded; nothing to retry")
                if json {
                    // Nothing streamed, but the run's summary still ends the output.
                    context.stdout.write(
                        try StatusSummary.line(StoredRuns.reader(home: home).statusReport(run: runNumber)) + "\n")
                }
                return ExitStatus.success
            }
            runner = prepared
        } catch let error as RetryInputError {
            throw CommandFailure.badInput(error.message)
        } catch let error as StateError {
            switch error {
            case .noSuchRun, .noRuns: throw CommandFailure.badInput(error.localizedDescription)
            default: throw CommandFailure(error.localizedDescription)
            }
        } catch {
            // Keeping a task's last attempt failed (its worktree or repository would not let
            // grove save it): nothing was reset, so the run is as it was.
            throw CommandFailure(
                "could not keep what the run's tasks last left, so nothing was retried: \(describe(error))")
        }
        let report = try await runner.execute(observer: context.runProgress(json: json), control: control)
        try Run.printSummary(report, json: json, to: context.stdout)
        return Run.exitStatus(report)
    }
}
