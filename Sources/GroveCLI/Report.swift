import ArgumentParser
import Foundation
import GroveCore

/// `grove report`: a run's aggregated result — states, times, what each task changed, why the
/// failures failed and the end of their logs — as Markdown for people or JSON for scripts.
struct Report: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the aggregated result of a run.",
        usage: "grove report [RUN] [--format md|json] [--json]",
        discussion: """
            md (the default) prints a Markdown document: the run's times, a table of its tasks, then per \
            task its branch, base, worktree, how it ended, a diffstat of its branch and the last 20 lines \
            of its log. json (or --json) prints the same data as one JSON document, every key always \
            present.
            """
    )

    /// The two renderings of the report.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, json
    }

    @Argument(help: ArgumentHelp("The run to report on (default: the latest).", valueName: "run"))
    var runNumber: Int?

    @Option(help: "md (Markdown, the default) or json.")
    var format: Format?

    @Flag(help: "The same as --format json, like the other commands' --json.")
    var json = false

    func validate() throws {
        if json && format == .md { throw ValidationError("--json and --format md ask for two formats; give one") }
    }

    func run(in context: CommandContext) async throws -> Int32 {
        let store = try context.reader()
        let report: RunReport
        do {
            report = try RunReport(store: store, run: runNumber)
        } catch let error as StateError {
            throw CommandFailure.badInput(error.localizedDescription)
        } catch {
            throw CommandFailure("cannot build the report: \(error.localizedDescription)")
        }
        switch json ? .json : format ?? .md {
        case .json: context.stdout.write(try report.json() + "\n")
        case .md: context.stdout.write(MarkdownReport.render(report))
        }
        return ExitStatus.success
    }
}
