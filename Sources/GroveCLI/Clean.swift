import ArgumentParser
import Foundation
import GroveCore

/// `grove clean`: removes a run's worktrees and finished branches, or (`--stale`) stale
/// worktrees across many repositories — never a change that exists nowhere else.
struct Clean: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Remove worktrees and branches safely: a run's, or stale ones across repositories.",
        usage: """
            grove clean [RUN] [--dry-run] [--force] [--json] [--no-size]
              grove clean --stale [--repo R]... [--scan DIR [--depth N]]
                                  [--older-than D] [--dry-run] [--force] [--json]
                                  [--no-size]
            """,
        discussion: """
            grove clean RUN (default: the latest run) removes the run's worktrees and \
            deletes its branches that landed in their base, made no commits, or are on \
            a remote. A branch whose changes base has under other commits (git cherry \
            marks each `-`, or grove merge found nothing to land) counts as landed; the \
            report says why. A worktree a killed grove left half-made (its task never \
            ran; it holds only the checkout's files) is removed. A worktree with \
            uncommitted changes and a branch with commits in neither its base nor a \
            remote are kept and listed with the next step: grove merge RUN, or --force \
            to delete them. Once nothing of the run is left it is marked cleaned.

            grove clean --stale sorts every linked worktree of the repositories named by \
            --repo, found under --scan DIR, or (with neither) known to grove, made by \
            grove or by git itself, from git's own data:
              missing    its directory is gone: the admin entry is pruned
              merged     clean, its commits all in the base or the base's upstream:
                         worktree and branch removed
              abandoned  clean, no commits beyond base, untouched longer than
                         --older-than: worktree and branch removed
              dirty      uncommitted changes: kept (removed with --force)
              unmerged   commits in neither the base nor a remote: kept (--force)
              locked     never touched; nor is the main worktree or the current one
            grove/* branches without a worktree that are fully merged are deleted. A \
            bare repository (someone's remote, perhaps) is changed only through its \
            linked worktrees; one without any is reported skipped. \
            Each worktree is checked again right before it is removed; a stale lock file \
            a killed grove left on a grove branch is removed first (grove holds the \
            repository's lock, and the file stayed unchanged for a second).

            Exit status: 0 done as asked (with --stale, what is kept is only reported); \
            1 something of the run was kept, or an action or a repository failed; \
            2 bad input (nothing changed); 3 another grove holds a repository's lock; \
            130 interrupted (Ctrl-C finishes the removal under way, then stops).
            """
    )

    @Argument(help: ArgumentHelp("The run to clean (default: the latest run).", valueName: "run"))
    var runNumber: Int?

    @Flag(help: "Clean stale worktrees across repositories instead of a run's.")
    var stale = false

    @Option(
        name: .customLong("repo"),
        help: ArgumentHelp("With --stale: a repository to clean (repeatable).", valueName: "R"))
    var repos: [String] = []

    @Option(
        name: .customLong("scan"),
        help: ArgumentHelp("With --stale: clean every repository found under DIR (repeatable).", valueName: "DIR"))
    var scans: [String] = []

    @Option(help: ArgumentHelp("With --scan: how many levels below DIR to look (default: 3).", valueName: "N"))
    var depth: Int?

    @Option(
        name: .customLong("older-than"),
        help: ArgumentHelp(
            "With --stale: how long a worktree with no commits must be untouched to be abandoned,"
                + " e.g. 14d, 36h (default: 14d).",
            valueName: "D"))
    var olderThan: String?

    @Flag(help: "Print what would be done and change nothing.")
    var dryRun = false

    @Flag(help: "Also remove worktrees with uncommitted changes and branches with commits found nowhere else.")
    var force = false

    @Flag(help: "Print the report as one line of JSON on stdout.")
    var json = false

    @Flag(help: "Do not measure worktree sizes (the only part that walks their files).")
    var noSize = false

    func run(in context: CommandContext) async throws -> Int32 {
        try checkFlags()
        // Ctrl-C lets the removal under way finish (a worktree is never left half deleted) and
        // starts no other; a second one ends grove at once.
        let control = CleanControl()
        context.trapSignals { control.stop() }
        let report: CleanReport
        if stale {
            report = try await cleanStale(control: control, in: context)
        } else {
            report = try await cleanRun(control: control, in: context)
        }
        CleanOutput.problems(report).forEach(context.stderr.writeLine)
        if json {
            context.stdout.write(report.json() + "\n")
        } else {
            context.stdout.write(CleanOutput.render(report, colour: context.stdout.terminal.allowsColour))
        }
        return Self.exitStatus(report)
    }

    /// Flags that belong to the other form are bad input, named with the fix.
    private func checkFlags() throws {
        if stale, let runNumber {
            throw CommandFailure.badInput(
                "give a run (grove clean \(runNumber)) or --stale, not both;"
                    + " --stale looks at every worktree of the repositories"
            )
        }
        guard !stale else { return }
        let staleOnly: [(String, Bool)] = [
            ("--repo", !repos.isEmpty), ("--scan", !scans.isEmpty), ("--depth", depth != nil),
            ("--older-than", olderThan != nil),
        ]
        if let (flag, _) = staleOnly.first(where: { $0.1 }) {
            throw CommandFailure.badInput("\(flag) applies to --stale; add --stale, or leave \(flag) out")
        }
    }

    private func cleanStale(control: CleanControl, in context: CommandContext) async throws -> CleanReport {
        let home = try? context.home()
        var store: StateStore?
        if let home {
            do {
                store = try StateStore.existing(home: home)
            } catch {
                // Named repositories can be cleaned without grove's records; all of grove's cannot.
                guard !repos.isEmpty || !scans.isEmpty else {
                    throw CommandFailure("cannot read \(home.database): \(error.localizedDescription)")
                }
                context.stderr.writeLine(
                    "grove: cannot read \(home.database) (\(error.localizedDescription)); going on without it")
            }
        }
        // A run whose grove died must not keep its worktrees "running" forever.
        _ = try? store?.markInterrupted()
        let options = StaleCleanOptions(
            repositories: repos, scanDirectories: scans, depth: depth, olderThan: olderThan, dryRun: dryRun,
            force: force, measureSize: !noSize, currentDirectory: context.currentDirectory)
        let cleaner: StaleCleaner
        do {
            cleaner = try StaleCleaner.prepare(options: options, store: store, home: home)
        } catch let error as CleanInputError {
            throw CommandFailure.badInput(error.message)
        }
        if cleaner.repositoryPaths.isEmpty && !scans.isEmpty {
            let depth = self.depth ?? StaleCleanOptions.defaultDepth
            context.stderr.writeLine(
                "grove: no repository found under \(scans.joined(separator: ", ")) down to depth \(depth)"
                    + " (--depth N looks deeper)")
        }
        return await cleaner.execute(control: control)
    }

    private func cleanRun(control: CleanControl, in context: CommandContext) async throws -> CleanReport {
        let home = try context.home()
        let store = try StoredRuns.existingStore(home: home)
        let options = RunCleanOptions(
            run: runNumber, dryRun: dryRun, force: force, measureSize: !noSize,
            currentDirectory: context.currentDirectory)
        let cleaner: RunCleaner
        do {
            cleaner = try RunCleaner.prepare(options: options, store: store, home: home)
        } catch let error as CleanInputError {
            throw CommandFailure.badInput(error.message)
        } catch let error as StateError {
            throw CommandFailure.badInput(error.localizedDescription)
        }
        return await cleaner.execute(control: control)
    }

    /// 130 when Ctrl-C stopped it; 3 when another grove held a repository (nothing changed there); 1 when an action or a
    /// repository failed, or when something of the run is kept (`grove clean RUN` was asked to
    /// remove all of it); else 0 — `--stale` keeping dirty or unmerged worktrees is the promise
    /// working, not a failure, and a nightly `grove clean --stale` must not fail for it.
    static func exitStatus(_ report: CleanReport) -> Int32 {
        if report.interrupted { return ExitStatus.interrupted }
        if report.problems.contains(where: { $0.kind == .locked }) { return ExitStatus.locked }
        if report.totals.errors > 0 { return ExitStatus.failed }
        if report.mode == .run && report.items.contains(where: \.keepsSomething) { return ExitStatus.failed }
        return ExitStatus.success
    }
}
