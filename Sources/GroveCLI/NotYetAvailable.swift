import ArgumentParser

/// A command that DESIGN.md promises but this version does not carry yet. It says so plainly,
/// changes nothing, and exits 1 — it never pretends to have done the work.
protocol NotYetAvailable: AsyncParsableCommand {
    /// The issue that brings the command, for the message.
    static var arrivesWith: String { get }
    var arguments: [String] { get }
}

extension NotYetAvailable {
    func run() async throws {
        let name = Self.configuration.commandName ?? "this command"
        printToStandardError(
            "grove \(name) is not available in this version yet (\(Self.arrivesWith)); nothing was changed")
        throw ExitCode(ExitStatus.failed)
    }
}
