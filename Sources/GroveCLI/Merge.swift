import ArgumentParser

struct Merge: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Land the succeeded tasks one at a time through the serial merge queue.",
        usage: "grove merge [RUN] [--check CMD] [--on-conflict skip|stop] [--plan] [--push [REMOTE]] [--keep] [--json]"
    )
    static let arrivesWith = "the `grove merge` issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
