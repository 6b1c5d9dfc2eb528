import ArgumentParser
import Foundation
import GroveCore
import GroveGit

/// `grove run`: plan (exit 2 on bad input, nothing created), then run every task in its own
/// worktree and branch with a live display, and print the summary.
struct Run: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create a worktree + branch per task, run the commands concurrently, commit what each leaves behind.",
        usage: """
            grove run [FILE] [--repo R]... [--repos-file F] [--count N] [--name NAME]
                      [--copy PATH]... [-j N] [--clone-jobs N] [--timeout D]
                      [--retries N] [--first N] [--fail-fast] [--json] [-- CMD...]
            """,
        discussion: """
            Tasks come from FILE (grove.yaml; JSON too) or from the flags: one task per --repo, or \
            --count variants of one task. Each task gets the branch grove/<run>/<task> from its base and a \
            worktree under $GROVE_HOME/worktrees/<run>/<task>; its output goes to \
            $GROVE_HOME/logs/<run>/<task>.log. Tasks start from the committed tip of their base: uncommitted \
            changes in the repository's checkout are not in their worktrees (grove warns once per \
            repository), except the paths named by --copy (or copy: in FILE).

            A repository may be a URL (https, ssh, git, file://): it is cloned once, bare, into \
            $GROVE_HOME/repos/<host>/<path>.git, and fetched by later runs; tasks start from the remote's \
            default branch (or base:) as fetched now. Credentials: the URL's user:token, else GROVE_TOKEN, \
            else git's credential helpers; ssh uses the ssh agent. Secrets are never stored or shown.

            Tasks with depends_on start once their dependencies succeeded, on a branch made from theirs; a \
            task whose dependency did not succeed is skipped. --retries N tries a failed or timed-out task \
            again in its worktree, reset to its start (what the attempt left is kept in \
            refs/grove/attempts/<run>/<task>/<n>); --first N cancels the rest once N tasks succeeded.

            With --json, stdout carries one JSON event per line, and the last line is the run's summary: \
            the document `grove status --json` prints, with "event": "summary" added.

            Exit status: 0 all tasks succeeded (with --first N: N did); 1 some task failed, timed out, was \
            cancelled or skipped; 2 bad input (nothing was created); 130 interrupted (Ctrl-C or SIGTERM).
            """
    )

    @Argument(help: "The task file (YAML or JSON).")
    var file: String?

    @Option(
        name: .customLong("repo"), help: "A repository to run the command in (repeatable); default: the current one.")
    var repos: [String] = []

    @Option(help: "A file listing repositories (URLs or paths), one per line, like --repo each.")
    var reposFile: String?

    @Option(
        name: .customLong("copy"),
        help: ArgumentHelp(
            "A file or directory to copy from the repository's checkout into each worktree, e.g. .env"
                + " (repeatable; like copy: in a task file).",
            valueName: "path"))
    var copy: [String] = []

    // `.unconditional`: a negative number is this option's (bad) value, not a missing one.
    @Option(parsing: .unconditional, help: "URL repositories cloned or fetched at once (default 4).")
    var cloneJobs: Int?

    @Option(parsing: .unconditional, help: "Run N variants of one task in one repository (named <name>-1 … <name>-N).")
    var count: Int?

    @Option(help: "The task's name (with --count, the stem of the variants' names).")
    var name: String?

    @Option(
        name: [.short, .customLong("jobs")], parsing: .unconditional,
        help: "Tasks at once (default: the task file's jobs, else CPU cores).")
    var jobs: Int?

    @Option(
        parsing: .unconditional,
        help: "Per-task time limit, e.g. 90s, 20m, 2h: SIGTERM to the task's processes, then SIGKILL 5 s later.")
    var timeout: String?

    @Flag(help: "Cancel the other tasks at the first failure.")
    var failFast = false

    @Option(
        parsing: .unconditional,
        help: "Try a failed or timed-out task again, up to N more times (overrides the task file's retries:).")
    var retries: Int?

    @Option(
        parsing: .unconditional,
        help: "Stop once N tasks succeeded: the others are cancelled (with --count: race N variants, keep the winners)."
    )
    var first: Int?

    @Flag(help: "Newline-delimited JSON events on stdout instead of the display and summary.")
    var json = false

    @Argument(parsing: .postTerminator, help: "The command to run (after --), as argv: -- sh -c '…' for a shell.")
    var command: [String] = []

    func run(in context: CommandContext) async throws -> Int32 {
        // Trapped before planning: a Ctrl-C from here on stops the run cleanly (no task starts).
        let control = context.runControl()
        let home = try context.home()
        let flags = RunFlags(
            file: file, repos: repos, count: count, name: name, jobs: jobs, timeout: timeout, failFast: failFast,
            command: command, reposFile: reposFile, cloneJobs: cloneJobs, retries: retries, first: first,
            copy: copy)
        let runner: Runner
        do {
            runner = try Runner.start(
                flags: flags, home: home, currentDirectory: context.currentDirectory,
                arguments: context.arguments.map(RepositoryReference.redacted))
        } catch let error as PlanError {
            throw CommandFailure.badInput(error.description)
        }

        for warning in Self.uncommittedChanges(runner.plan) { context.stderr.writeLine(warning) }
        let report = try await runner.execute(observer: context.runProgress(json: json), control: control)
        try Self.printSummary(report, json: json, to: context.stdout)
        return Self.exitStatus(report, first: runner.plan.first)
    }

    /// The end of a run or retry on stdout: with `--json` the summary line, else the summary table.
    static func printSummary(_ report: StatusReport, json: Bool, to stdout: OutputChannel) throws {
        stdout.write(json ? try StatusSummary.line(report) + "\n" : SummaryTable.render(report))
    }

    /// 130 when interrupted; with `--first N`, 0 once N tasks succeeded; else 1 when any task did
    /// not succeed, 0 when all did.
    static func exitStatus(_ report: StatusReport, first: Int? = nil) -> Int32 {
        if report.state == .interrupted { return ExitStatus.interrupted }
        let succeeded = report.tasks.count { $0.state == .succeeded }
        if let first { return succeeded >= first ? ExitStatus.success : ExitStatus.failed }
        return succeeded == report.tasks.count ? ExitStatus.success : ExitStatus.failed
    }

    /// One warning per local repository whose checkout has uncommitted changes to tracked files:
    /// the tasks start from the base's commit, so those changes are not in their worktrees.
    /// Untracked files are not looked at (a build directory would warn every time), and a
    /// repository that cannot be read is left to the run to report.
    static func uncommittedChanges(_ plan: Plan) -> [String] {
        var warnings: [String] = []
        var seen: Set<String> = []
        for task in plan.tasks where task.source == nil && seen.insert(task.repository).inserted {
            guard let repository = try? Repository.open(at: task.repository), !repository.isBare,
                let status = try? repository.status(includeUntracked: false), !status.isClean
            else { continue }
            var starts: [String] = []
            for other in plan.tasks where other.repository == task.repository {
                let start = other.base + (other.baseCommit.map { " at \($0.short)" } ?? "")
                if !starts.contains(start) { starts.append(start) }
            }
            warnings.append(
                "grove: warning: \(task.repository) has uncommitted changes (\(ProgressText.plural(status.entries.count, "path"))):"
                    + " tasks start from \(starts.joined(separator: ", ")); your uncommitted changes are not in their"
                    + " worktrees (commit them first, or name files to bring along with --copy)")
        }
        return warnings
    }
}
