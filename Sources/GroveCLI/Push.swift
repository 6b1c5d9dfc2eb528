import ArgumentParser

struct Push: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push task branches to their remote and write a PR body per task.",
        usage: "grove push [RUN] [--remote NAME] [--pr-command CMD]"
    )
    static let arrivesWith = "the clone-cache and push issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
