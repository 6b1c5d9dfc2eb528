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
        } catch {
            let stderr = OutputChannel.fileDescriptor(STDERR_FILENO, environment: ProcessInfo.processInfo.environment)
            if let status = report(error, to: stderr) { exit(withError: ExitCode(status)) }
            exit(withError: error)
        }
    }

    /// Runs the command line `arguments` (without `grove`) in `context` as `main` runs the
    /// process's, and returns the exit status: how tests run a command in-process.
    static func execute(_ arguments: [String], in context: CommandContext) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if let subcommand = command as? any GroveSubcommand { return try await subcommand.run(in: context) }
            try command.run()
            return ExitStatus.success
        } catch {
            if let status = report(error, to: context.stderr) { return status }
            // Help, version and the like, as ArgumentParser prints them.
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty { (code == .success ? context.stdout : context.stderr).writeLine(message) }
            return code.rawValue
        }
    }
}

extension GroveCommand {
    /// grove's own failures, printed on `stderr` in one line: a `CommandFailure` as `error: <message>`
    /// with its status, a usage error as `usageLine` with 2. Nil for the rest (help, an `ExitCode`).
    static func report(_ error: any Error, to stderr: OutputChannel) -> Int32? {
        if let failure = error as? CommandFailure {
            stderr.writeLine("error: \(failure.message)")
            return failure.status
        }
        if exitCode(for: error) == .validationFailure {
            stderr.writeLine(usageLine(for: error))
            return ExitStatus.badInput
        }
        return nil
    }

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

/// A grove subcommand: `run()` makes the `CommandContext` from the process and hands over to
/// `run(in:)`, which does the work and returns the exit status — and which tests call in-process
/// with a context of their own.
protocol GroveSubcommand: AsyncParsableCommand {
    func run(in context: CommandContext) async throws -> Int32
}

extension GroveSubcommand {
    func run() async throws {
        let status = try await run(in: .process())
        if status != ExitStatus.success { throw ExitCode(status) }
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
