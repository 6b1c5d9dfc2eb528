import ArgumentParser
import Foundation
import GroveCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `grove logs`: a task's output, copied from its log file as it is (bytes, not lines), in
/// chunks, so a log of gigabytes costs no memory; with `-f`, what the task appends until it ends.
struct Logs: GroveSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show a task's output.",
        usage: "grove logs TASK [RUN] [-f]",
        discussion: """
            The log holds the task's stdout and stderr together, printed byte for byte. With -f, grove keeps \
            printing what the task writes until it reaches a final state (succeeded, failed, timed_out, \
            cancelled), then exits 0; a task still queued is waited for. An empty log prints nothing and \
            says so on stderr (exit 0). The run may also be given as --run RUN.
            """
    )

    /// How often `-f` looks for new output and for the task's end.
    static let pollInterval = Duration.milliseconds(100)
    /// Bytes copied at a time.
    static let chunkSize = 64 * 1024

    @Argument(help: "The task's name (`grove status` lists them).")
    var task: String

    @Argument(help: ArgumentHelp("The run's number (default: the latest run).", valueName: "run"))
    var runArgument: Int?

    /// `--run RUN`, the older spelling of the positional RUN.
    @Option(name: .customLong("run"), help: ArgumentHelp(valueName: "run", visibility: .hidden))
    var runOption: Int?

    @Flag(name: [.customShort("f"), .long], help: "Keep printing what the task appends until it ends.")
    var follow = false

    /// The run asked for, positional or `--run`.
    var runNumber: Int? { runArgument ?? runOption }

    func validate() throws {
        if let runArgument, let runOption, runArgument != runOption {
            throw ValidationError("run \(runArgument) or run \(runOption)? give the run once")
        }
    }

    func run(in context: CommandContext) async throws -> Int32 {
        let store = try context.reader()
        let run = try StoredRuns.run(runNumber, in: store)
        guard let record = try store.task(run: run.number, name: task) else {
            let names = try store.tasks(run: run.number).map(\.name)
            let hint = Suggestion.hint(for: task, in: names)
            throw CommandFailure.badInput(
                "run \(run.number) has no task named '\(task)'\(hint.isEmpty ? ":" : hint) `grove status \(run.number)`"
                    + " lists its tasks")
        }
        let log = LogCopier(path: record.log, to: context.stdout)
        if follow {
            try await self.follow(record, log: log, store: store, messages: context.stderr)
            return ExitStatus.success
        }
        guard let copied = try log.copyAvailable() else {
            if record.state.isFinal && record.startedAt == nil {
                context.stderr.writeLine(
                    "task '\(task)' of run \(run.number) has no output: it was \(record.state.rawValue) before it started"
                        + (record.reason.map { " (\(LogTail.clean($0)))" } ?? ""))
                return ExitStatus.success
            }
            if record.state.isFinal {
                throw CommandFailure("task '\(task)' of run \(run.number) ended, but its log \(record.log) is gone")
            }
            context.stderr.writeLine(
                "task '\(task)' of run \(run.number) has no log yet: it is \(record.state.rawValue)"
                    + " (`grove logs \(task) \(run.number) -f` waits for it)")
            return ExitStatus.success
        }
        if copied == 0 {
            context.stderr.writeLine(
                record.state.isFinal
                    ? "task '\(task)' of run \(run.number) has no output: it \(record.state.rawValue) without printing"
                        + " anything (its log: \(record.log))"
                    : "task '\(task)' of run \(run.number) has no output yet: it is \(record.state.rawValue)"
                        + " (`grove logs \(task) \(run.number) -f` follows it)")
        }
        return ExitStatus.success
    }

    /// Copies what the log holds, then what is appended, until the task is in a final state and
    /// nothing is left. The state is re-read each time, and a run whose grove is gone counts as
    /// ended, so a crash ends the follow instead of waiting forever (the reader stores nothing).
    private func follow(
        _ record: TaskRecord, log: LogCopier, store: StateStore, messages: OutputChannel
    ) async throws {
        var announced = false
        while true {
            let found = try log.copyAvailable() != nil
            if !found && !announced {
                announced = true
                messages.writeLine(
                    "task '\(task)' of run \(record.run) has no log yet: it is \(record.state.rawValue); waiting for it"
                )
            }
            let current = try store.task(run: record.run, name: record.name)
            let groveGone = try store.run(number: record.run).map { run in
                run.state == .running && !ProcessLiveness.isAlive(run.pid)
            }
            if current?.state.isFinal ?? true || groveGone ?? true {
                // The task writes its last bytes before its final state is stored: copy them now.
                if try log.copyAvailable() == nil {
                    messages.writeLine("task '\(task)' of run \(record.run) ended without a log")
                }
                return
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }
}

/// Copies a log file to stdout from where it last stopped, opening it once it exists.
private final class LogCopier {
    let path: String
    private let output: OutputChannel
    private var descriptor: Int32 = -1

    init(path: String, to output: OutputChannel) {
        self.path = path
        self.output = output
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Copies every byte the file has now past what was copied and returns how many; nil when the
    /// file does not exist (yet). The descriptor stays open, at its offset, so appended bytes are
    /// read next time.
    func copyAvailable() throws -> Int? {
        if descriptor < 0 {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                if errno == ENOENT { return nil }
                throw CommandFailure("cannot read \(path): \(String(cString: strerror(errno)))")
            }
        }
        var buffer = [UInt8](repeating: 0, count: Logs.chunkSize)
        var copied = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return copied }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandFailure("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            do {
                try buffer.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            } catch {
                throw CommandFailure("cannot write to stdout: \(error)")
            }
            copied += count
        }
    }
}
