import ArgumentParser
import Foundation
import GroveCore

/// `grove merge`: the serial merge queue. Lands a run's succeeded tasks into their bases one at
/// a time per repository (rebased in memory, landed by compare-and-swap), then removes their
/// worktrees and branches; prints a table per repository.
struct Merge: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Land the succeeded tasks one at a time through the serial merge queue.",
        usage: """
            grove merge [RUN] [--check CMD] [--on-conflict skip|stop]
                        [--order run|planned] [--plan] [--push [REMOTE]]
                        [--keep] [--json]
            """,
        discussion: """
            Per repository, in run order: each task's commits are rebased in memory onto the current tip \
            of its base (authors and messages kept), base moves to the result by compare-and-swap (a \
            checkout of base is updated like `git merge --ff-only`), then the task's worktree and branch \
            are removed. A task whose commits do not apply is parked as `conflict`, its branch untouched. \
            With --check, the task's worktree is first brought to the rebased commit and CMD runs there \
            (under /bin/sh -c, with the run's timeout, output in logs/<run>/<task>.check.log); a failure \
            parks the task as `check_failed` and puts its branch back. A tree that was checked with the \
            same command before is not checked again.

            A task with depends_on lands after its dependencies, with only its own commits (those after \
            where its branch started). When a dependency does not land, its dependents are parked as \
            `blocked`, their branches untouched; the next `grove merge` tries them again.

            --plan changes nothing: it prints per repository the order, and for each queued task the \
            paths it shares with other tasks, whether it merges cleanly with base and with each other \
            task, and what the queue will meet (the queue's own rebases, run in memory). --order planned \
            lands first the tasks that conflict with nobody.

            --push sends each base to REMOTE once its queue is done (default: the remote of the base's \
            upstream, else origin), never forced: a remote that moved on is refused and reported. Every \
            step is journaled first: a merge that was killed is finished by the next one.

            With --json, stdout carries one JSON event per line, and the last line is the run's summary: \
            the document `grove status --json` prints (merge results included), with "event": "summary" \
            added. --plan --json prints the plan as one JSON document.

            Exit status: 0 every queued task landed (or had nothing to land); 1 some did not; 2 bad input \
            (nothing changed); 3 another grove is merging into one of the repositories; 130 interrupted.
            """
    )

    /// What a conflict does to the rest of the queue.
    enum ConflictChoice: String, ExpressibleByArgument, CaseIterable {
        case skip, stop
    }

    // Positional words rather than a typed RUN, because `--push` takes an optional REMOTE, which
    // ArgumentParser cannot express: a number is the run, a name after --push is the remote.
    @Argument(
        help: ArgumentHelp(
            "The run whose tasks to land (default: the latest); with --push, also the remote.",
            valueName: "run"))
    var words: [String] = []

    @Flag(help: "Push each base once its queue is done (to REMOTE, else its upstream's remote, else origin).")
    var push = false

    @Option(help: "A shell command that must pass on each rebased task before it lands, e.g. \"make test\".")
    var check: String?

    @Option(name: .customLong("on-conflict"), help: "skip: park the task and go on (default); stop: stop the queue.")
    var onConflict: ConflictChoice?

    /// The order tasks land in.
    enum OrderChoice: String, ExpressibleByArgument, CaseIterable {
        case run, planned
    }

    @Option(help: "run: run order (default); planned: tasks that conflict with nobody first.")
    var order: OrderChoice = .run

    @Flag(help: "Print the order and the predicted conflicts; change nothing.")
    var plan = false

    @Flag(help: "Keep landed tasks' worktrees and branches (the branch moves to the landed commit).")
    var keep = false

    @Flag(help: "Newline-delimited JSON events on stdout instead of progress lines and tables.")
    var json = false

    /// The run named on the command line, if any.
    var runNumber: Int? { words.lazy.compactMap { Int($0) }.first }

    /// The remote named after `--push`, if any.
    var remote: String? { words.first { Int($0) == nil } }

    func validate() throws {
        let numbers = words.filter { Int($0) != nil }
        let names = words.filter { Int($0) == nil }
        if numbers.count > 1 { throw ValidationError("give one run, not \(numbers.joined(separator: " and "))") }
        if let name = names.first, !push || names.count > 1 {
            throw ValidationError(
                push
                    ? "give one remote to push to, not \(names.joined(separator: " and "))"
                    : "'\(name)' is not a run number; to push to a remote, write --push \(name)")
        }
        if plan {
            let ignored = [
                check.map { _ in "--check" }, onConflict.map { _ in "--on-conflict" }, keep ? "--keep" : nil,
                push ? "--push" : nil,
            ].compactMap { $0 }
            if !ignored.isEmpty {
                throw ValidationError(
                    "--plan changes nothing, so \(ignored.joined(separator: " and ")) would do nothing with it;"
                        + " leave \(ignored.count == 1 ? "it" : "them") out")
            }
        }
    }

    func run(in context: CommandContext) async throws -> Int32 {
        let control = context.runControl()
        let home = try context.home()
        let store = try StoredRuns.existingStore(home: home)
        let options = MergeOptions(
            run: runNumber, check: check, onConflict: onConflict == .stop ? .stop : .skip,
            order: order == .planned ? .planned : .run, keep: keep,
            push: push ? remote.map { .remote($0) } ?? .upstream : nil)
        let queue: MergeQueue
        do {
            queue = try MergeQueue.prepare(options: options, store: store, home: home)
        } catch let error as MergeInputError {
            throw CommandFailure.badInput(error.message)
        } catch let error as StateError {
            throw CommandFailure.badInput(error.localizedDescription)
        }

        if plan {
            let plan = try await queue.plan()
            context.stdout.write(json ? try MergePlanTable.json(plan) + "\n" : MergePlanTable.render(plan))
            return ExitStatus.success
        }

        let report: MergeReport
        do {
            report = try await queue.execute(observer: context.mergeProgress(json: json), control: control)
        } catch let locked as RepositoryLockedError {
            throw CommandFailure(locked.localizedDescription, status: ExitStatus.locked)
        }
        if json {
            // The run as `grove status --json` shows it now, merge results included.
            context.stdout.write(try StatusSummary.line(store.statusReport(run: report.run)) + "\n")
        } else {
            context.stdout.write(MergeTable.render(report, colour: context.stdout.terminal.allowsColour))
        }
        return Self.exitStatus(report)
    }

    /// 130 when interrupted, 0 when every queued task landed (or had nothing to land), else 1.
    static func exitStatus(_ report: MergeReport) -> Int32 {
        if report.interrupted { return ExitStatus.interrupted }
        return report.succeeded ? ExitStatus.success : ExitStatus.failed
    }
}
