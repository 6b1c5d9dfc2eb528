import ArgumentParser

struct Clean: NotYetAvailable {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Remove worktrees and branches safely: a run's, or stale ones across repositories.",
        usage: "grove clean [RUN] [--stale] [--repo R]... [--scan DIR] [--older-than D] [--dry-run] [--force] [--json]"
    )
    static let arrivesWith = "the `grove clean` issue"

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []
}
