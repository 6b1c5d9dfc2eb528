import ArgumentParser

struct Status: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a run's tasks and their states; works while the run goes on.",
        usage: "grove status [RUN] [--json]"
    )
    static let arrivesWith = "the `grove run` issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
