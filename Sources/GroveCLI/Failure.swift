import ArgumentParser
import Foundation
import GroveCore

/// A command's failure: one line for the user (what went wrong and what to do) and grove's exit
/// status for it. `GroveCommand.main` prints it as `error: <message>` and exits with `status`.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var status: Int32

    init(_ message: String, status: Int32 = ExitStatus.failed) {
        self.message = message
        self.status = status
    }

    /// Bad input (an unknown run or task, a bad task file): exit 2, nothing was changed. Always
    /// one line, even when the message quotes input with a line break in it.
    static func badInput(_ message: String) -> CommandFailure {
        CommandFailure(PlanError.oneLine(message), status: ExitStatus.badInput)
    }

    var description: String { message }
}
