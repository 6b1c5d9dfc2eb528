import Foundation
import GroveCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a command takes from the process it runs in — the environment, the current directory,
/// the command line, stdout and stderr with what may be done on them, and Ctrl-C — made once per
/// command (like swiftly's `SwiftlyCoreContext` and SwiftPM's `SwiftCommandState`). Each
/// command's `run()` makes it from the process and hands over to `run(in:)`; a test makes one of
/// its own values and buffers and calls `run(in:)` (or `GroveCommand.execute`) in-process.
struct CommandContext: Sendable {
    /// What grove's own choices read: the home, colour. (Task processes get the process's.)
    var environment: [String: String]
    /// What relative paths on the command line and the default `--repo` mean.
    var currentDirectory: String
    /// The command line as typed, stored with a run (credentials are taken out first).
    var arguments: [String]
    /// Results: tables, JSON documents and events.
    var stdout: OutputChannel
    /// Messages and progress.
    var stderr: OutputChannel
    /// How Ctrl-C and SIGTERM reach the commands that run processes.
    var signals: SignalSource

    /// The process's own: its environment, directory, arguments, stdout and stderr, and the signal trap.
    static func process(environment: [String: String] = ProcessInfo.processInfo.environment) -> CommandContext {
        CommandContext(
            environment: environment, currentDirectory: FileManager.default.currentDirectoryPath,
            arguments: CommandLine.arguments,
            stdout: .fileDescriptor(STDOUT_FILENO, environment: environment),
            stderr: .fileDescriptor(STDERR_FILENO, environment: environment), signals: .process)
    }

    /// The grove home the environment names; bad input when it names none.
    func home() throws -> GroveHome {
        do {
            return try GroveHome.resolve(environment: environment)
        } catch {
            throw CommandFailure.badInput(error.localizedDescription)
        }
    }

    /// A `RunControl` (the Cancellator) that Ctrl-C and SIGTERM stop: the first ends the tasks'
    /// processes as groups (TERM, a grace period, KILL) and starts no other, a second kills at
    /// once. For the commands that run tasks: run, retry, merge. The run reports the stop through
    /// its progress display (`run_stopping`).
    func runControl() -> RunControl {
        let control = RunControl()
        signals.trap { count in count == 1 ? control.interrupt() : control.kill() }
        return control
    }

    /// Ctrl-C or SIGTERM calls `stop` (which lets the step under way finish); a second one ends
    /// grove at once. For clean and push.
    func trapSignals(stop: @escaping @Sendable () -> Void) {
        signals.trap { count in
            if count == 1 { stop() } else { Foundation.exit(ExitStatus.interrupted) }
        }
    }

    /// How `grove run` and `grove retry` show progress (see `ProgressDisplay`).
    func runProgress(json: Bool) -> any RunObserver {
        switch ProgressDisplay.choice(json: json, progress: stderr.terminal) {
        case .events: JSONEventStream(sink: stdout.sink)
        case .live(let colour): LiveProgress(sink: stderr.sink, colour: colour, size: stderr.size)
        case .lines: LineProgress(sink: stderr.sink)
        }
    }

    /// How `grove merge` shows progress, chosen like `grove run`'s.
    func mergeProgress(json: Bool) -> any MergeObserver {
        switch ProgressDisplay.choice(json: json, progress: stderr.terminal) {
        case .events: JSONEventStream(sink: stdout.sink)
        case .live(let colour): MergeLiveProgress(sink: stderr.sink, colour: colour, size: stderr.size)
        case .lines: MergeLineProgress(sink: stderr.sink)
        }
    }
}

/// One output stream of a command, stdout or stderr: what grove may do on it, and how bytes reach it.
struct OutputChannel: Sendable {
    /// Whether it is a terminal, and whether colour and cursor movement are allowed.
    var terminal: Terminal
    /// Its size (columns, rows), read again for every frame of a live display.
    var size: @Sendable () -> (columns: Int, rows: Int)
    private let writeBytes: @Sendable (UnsafeRawBufferPointer) throws -> Void

    /// `write` puts every byte of its buffer out, or throws.
    init(
        terminal: Terminal, size: @escaping @Sendable () -> (columns: Int, rows: Int),
        write: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) {
        self.terminal = terminal
        self.size = size
        writeBytes = write
    }

    /// The stream open on `fileDescriptor`, as the process has it.
    static func fileDescriptor(_ fileDescriptor: Int32, environment: [String: String]) -> OutputChannel {
        OutputChannel(
            terminal: Terminal(fileDescriptor: fileDescriptor, environment: environment),
            size: { Terminal.size(of: fileDescriptor) },
            write: { try StandardStreams.write($0, to: fileDescriptor) })
    }

    /// Writes every byte of `bytes`; throws `OutputError` when the stream will take no more.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try writeBytes(bytes)
    }

    /// Writes `text` in one call; text that cannot be written is dropped (a closed pipe is not worth a crash).
    func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = try? bytes.withUnsafeBytes { try writeBytes($0) }
    }

    /// Writes `line` and a newline.
    func writeLine(_ line: String) {
        write(line + "\n")
    }

    /// The writer for progress displays and event streams: one call, one piece of text.
    var sink: OutputSink { { write($0) } }
}

/// A stream that would take no more bytes, with the system's reason.
struct OutputError: Error, CustomStringConvertible {
    var code: Int32

    var description: String { String(cString: strerror(code)) }
}
