import ArgumentParser
import Foundation
import GroveCore

/// `grove push`: pushes a run's succeeded task branches to a remote, writes a PR body per
/// pushed task and, with `--pr-command`, runs a command per task to open the pull request.
struct Push: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push task branches to their remote and write a PR body per task.",
        usage: """
            grove push [RUN] [--remote NAME] [--task T]... [--force-with-lease]
                       [--pr-command CMD] [--json]
            """,
        discussion: """
            Each succeeded task with commits has its branch pushed to the remote NAME \
            (default: origin) of its repository, as refs/heads/<branch>, and is reported \
            as pushed, up to date, rejected (with the reason) or failed. Running it again \
            is safe: an unchanged branch is up to date. A remote branch that moved on is \
            rejected and left alone; --force-with-lease replaces it only when it is still \
            at the commit grove last pushed there (grove fetches the remote to know).

            For each task on the remote, logs/<run>/<task>.pr.md holds a PR description: \
            a title (the first line of the instructions, else the first commit's subject), \
            the instructions, the command, its duration, the diffstat, the commits and the \
            last 20 lines of the log.

            --pr-command CMD runs once per such task under /bin/sh -c, in the task's \
            repository, with {branch} {base} {title} {body} {repo} {task} filled in, e.g.
              grove push --pr-command \\
                'gh pr create -H {branch} -B {base} -t {title} -F {body}'
            Task data never meets the shell's parser: each placeholder becomes a quoted \
            reference to $GROVE_PR_BRANCH, $GROVE_PR_TITLE… Output goes to \
            logs/<run>/<task>.pr.log; the last http(s):// URL in it is the PR. A task whose \
            PR command succeeded with a URL is not given another while its branch stays up \
            to date.

            Exit status: 0 every task tried is on the remote and every PR command \
            succeeded; 1 otherwise (also when a task named with --task could not be \
            pushed); 2 bad input, nothing done; 130 interrupted.
            """
    )

    @Argument(help: ArgumentHelp("The run whose task branches to push (default: the latest).", valueName: "run"))
    var runNumber: Int?

    @Option(help: ArgumentHelp("The remote of each task's repository to push to.", valueName: "NAME"))
    var remote = "origin"

    @Option(
        name: .customLong("task"),
        help: ArgumentHelp("Push only this task (repeatable).", valueName: "T"))
    var tasks: [String] = []

    @Flag(
        name: .customLong("force-with-lease"),
        help: "Replace a remote branch that does not fast-forward, if it is still where grove last pushed it.")
    var forceWithLease = false

    @Option(
        name: .customLong("pr-command"),
        help: ArgumentHelp(
            "Run per pushed task, with {branch} {base} {title} {body} {repo} {task} filled in.", valueName: "CMD"))
    var prCommand: String?

    @Flag(help: "Print the result as one line of JSON on stdout.")
    var json = false

    func run(in context: CommandContext) async throws -> Int32 {
        let home = try context.home()
        let store = try StoredRuns.existingStore(home: home)
        let options = PushOptions(
            run: runNumber, remote: remote, tasks: tasks, forceWithLease: forceWithLease, prCommand: prCommand)
        let pusher: BranchPusher
        do {
            pusher = try BranchPusher.prepare(options: options, store: store, home: home)
        } catch let error as PushInputError {
            throw CommandFailure.badInput(error.message)
        } catch {
            throw CommandFailure("cannot read \(store.path): \(error.localizedDescription)")
        }
        // Ctrl-C lets the pushes under way finish, ends a running PR command and starts
        // nothing else; a second one ends grove at once.
        let work = Task { await pusher.execute() }
        context.trapSignals { work.cancel() }
        let report = await work.value
        PushOutput.problems(report).forEach(context.stderr.writeLine)
        if json {
            context.stdout.write(report.json() + "\n")
        } else {
            context.stdout.write(PushOutput.render(report, colour: context.stdout.terminal.allowsColour))
            context.stderr.writeLine(PushOutput.totals(report, bodies: home.logDirectory(run: report.run)))
        }
        return Self.exitStatus(report)
    }

    /// 130 when interrupted; 0 when every task tried is on the remote, every PR command
    /// succeeded and every task named with --task was pushed; else 1.
    static func exitStatus(_ report: PushReport) -> Int32 {
        if report.interrupted { return ExitStatus.interrupted }
        return report.succeeded ? ExitStatus.success : ExitStatus.failed
    }
}
