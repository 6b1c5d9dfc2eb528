import ArgumentParser

struct Run: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create a worktree + branch per task, run the commands concurrently, commit what each leaves behind.",
        usage: "grove run [FILE] [--repo R]... [--count N] [-j N] [--timeout D] [--fail-fast] [--json] [-- CMD...]"
    )
    static let arrivesWith = "the `grove run` issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
