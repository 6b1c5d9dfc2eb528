import ArgumentParser

struct Report: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the aggregated result of a run.",
        usage: "grove report [RUN] [--format md|json]"
    )
    static let arrivesWith = "the `grove run` issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
