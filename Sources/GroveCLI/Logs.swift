import ArgumentParser

struct Logs: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show a task's output.",
        usage: "grove logs TASK [--run RUN] [-f]"
    )
    static let arrivesWith = "the `grove run` issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
