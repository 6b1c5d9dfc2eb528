import ArgumentParser
import Foundation
import GroveCore

/// `grove`: the root command. Each subcommand lives in its own file, named by its verb.
public struct GroveCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "grove",
        abstract: "Run many tasks at once, each in its own git worktree and branch; land the results one at a time.",
        discussion: """
            A typical session:
              grove run grove.yaml   a worktree + branch per task, all run at once
              grove status           the tasks of the latest run and their states
              grove merge            land the succeeded tasks one at a time
              grove clean            remove the run's worktrees and landed branches

            --json: the commands that stream (run, retry, merge) print one JSON event per line and end \
            with a summary line, the `grove status --json` document with "event": "summary" added; the \
            others (status, clean, push, report, merge --plan) print one JSON document.

            Exit status: 0 all went well; 1 some task or landing failed; 2 bad input or usage, nothing \
            changed; 3 another grove holds the repository's lock; 130 interrupted.
            """,
        version: GroveVersion.description,
        subcommands: [Run.self, Status.self, Logs.self, Retry.self, Merge.self, Clean.self, Push.self, Report.self]
    )

    public init() {}

    /// Runs grove like `AsyncParsableCommand.main()`, except that usage errors exit 2 — grove's
    /// code for "bad input, nothing changed" — rather than ArgumentParser's 64.
    public static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            printToStandardError("error: \(failure.message)")
            exit(withError: ExitCode(failure.status))
        } catch {
            if exitCode(for: error) == .validationFailure {
                printToStandardError(usageLine(for: error))
                exit(withError: ExitCode(ExitStatus.badInput))
            }
            exit(withError: error)
        }
    }
}

extension GroveCommand {
    /// A usage error as one line, like every other bad input: ArgumentParser's message and where
    /// to read more ("error: Unknown option '--frob' (see 'grove run --help' for more information)").
    static func usageLine(for error: any Error) -> String {
        let lines = fullMessage(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var first = lines.first ?? message(for: error)
        if first.hasPrefix("Error: ") { first.removeFirst("Error: ".count) }
        guard var see = lines.last(where: { $0.hasPrefix("See '") }) else { return "error: " + first }
        if see.hasSuffix(".") { see.removeLast() }
        return "error: \(first) (s\(see.dropFirst()))"
    }
}

/// grove's exit statuses (DESIGN.md, "Commands").
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failed: Int32 = 1
    public static let badInput: Int32 = 2
    public static let locked: Int32 = 3
    public static let interrupted: Int32 = 130
}
