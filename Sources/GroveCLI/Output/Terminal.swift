import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where rendered output goes: one call per complete piece of text (a line, or a whole redraw).
/// Writers take one so tests can capture what a user would see.
typealias OutputSink = @Sendable (String) -> Void

/// What grove may do on one output stream: progress and summaries look different on a terminal,
/// and colour or cursor movement written to a file or pipe would only be noise there.
struct Terminal: Sendable {
    /// The stream is a terminal (`isatty`).
    var isTerminal: Bool
    /// Colour is allowed: a terminal, `TERM` is not `dumb`, and `NO_COLOR` is not set.
    var allowsColour: Bool
    /// The live display may move the cursor: a terminal that is not `dumb`.
    var allowsCursorMovement: Bool

    /// The facts about the stream open on `fileDescriptor`, under `environment`.
    init(fileDescriptor: Int32, environment: [String: String]) {
        self.init(isTerminal: isatty(fileDescriptor) == 1, environment: environment)
    }

    /// The rules alone, apart from any real stream, so they can be tested.
    init(isTerminal: Bool, environment: [String: String]) {
        self.isTerminal = isTerminal
        let dumb = environment["TERM"] == "dumb"
        allowsCursorMovement = isTerminal && !dumb
        // Any NO_COLOR, even an empty one, turns colour off: asking for no colour is never ambiguous.
        allowsColour = isTerminal && !dumb && environment["NO_COLOR"] == nil
    }

    /// The size of the terminal on `fileDescriptor` (columns, rows), 80×24 when it cannot tell.
    /// Read again for every frame, so a resized window is followed.
    static func size(of fileDescriptor: Int32) -> (columns: Int, rows: Int) {
        var size = winsize()
        #if canImport(Glibc)
            let result = ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size)
        #else
            let result = ioctl(fileDescriptor, TIOCGWINSZ, &size)
        #endif
        guard result == 0 else { return (80, 24) }
        return (size.ws_col > 0 ? Int(size.ws_col) : 80, size.ws_row > 0 ? Int(size.ws_row) : 24)
    }
}

/// The few colours grove uses, each with one meaning: green went well, red went wrong, yellow was stopped.
enum TerminalColour: String, Sendable {
    case green = "32"
    case red = "31"
    case yellow = "33"

    /// `text` in this colour, or `text` as it is when colour is off.
    func paint(_ text: String, enabled: Bool) -> String {
        enabled ? "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" : text
    }

    /// The colour of a task state word (`succeeded`, `failed`, `timed_out`, `cancelled`); nil for the others.
    static func forState(_ state: String) -> TerminalColour? {
        switch state {
        case "succeeded": return .green
        case "failed", "timed_out": return .red
        case "cancelled", "interrupted", "skipped": return .yellow
        default: return nil
        }
    }

    /// A state word, coloured by its meaning when `enabled`.
    static func paintState(_ state: String, enabled: Bool) -> String {
        forState(state)?.paint(state, enabled: enabled) ?? state
    }
}

/// The writer for the process's own stdout and stderr (`OutputChannel.fileDescriptor`).
///
/// It calls write(2) directly rather than `FileHandle.write`, which traps on a write error
/// (a closed pipe). One call is one buffer, written in full (retrying partial writes and EINTR),
/// so callers that serialize their calls get whole lines.
enum StandardStreams {
    /// Writes all of `buffer` to `fileDescriptor`; throws `OutputError` when the stream takes no more.
    static func write(_ buffer: UnsafeRawBufferPointer, to fileDescriptor: Int32) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            #if canImport(Glibc)
                let written = Glibc.write(fileDescriptor, base + offset, buffer.count - offset)
            #else
                let written = Darwin.write(fileDescriptor, base + offset, buffer.count - offset)
            #endif
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && errno == EAGAIN {
                // A non-blocking stream that is full: wait a little rather than drop half a line.
                usleep(1000)
            } else {
                throw OutputError(code: written < 0 ? errno : EIO)
            }
        }
    }
}
