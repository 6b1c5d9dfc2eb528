import Foundation

/// The end of a task's log — its last lines for reports, its last line for the live display —
/// read backwards from the end in chunks, so a log of gigabytes costs a few reads, never its
/// size in memory.
public enum LogTail {
    /// The last `count` lines of the file at `path`, without their newlines; a final line without
    /// a newline counts as a line. A missing or unreadable file has no lines.
    ///
    /// At most `maxBytes` are read: a last line longer than that is cut at its start. Bytes that
    /// are not UTF-8 become U+FFFD, and a trailing `\r` (CRLF logs) is dropped from each line.
    public static func lines(
        ofFileAt path: String, count: Int = 20, chunkSize: Int = 64 * 1024, maxBytes: Int = 1024 * 1024
    ) -> [String] {
        guard count > 0, let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return [] }

        let newline = UInt8(ascii: "\n")
        let chunkSize = max(1, chunkSize)
        var tail: [UInt8] = []
        var start = size
        // A newline ending the file closes the last line rather than starting an empty one.
        var newlinesWanted = count
        var newlinesSeen = 0
        var lastByteChecked = false
        while start > 0 && newlinesSeen < newlinesWanted + 1 && tail.count < maxBytes {
            let length = min(UInt64(chunkSize), start, UInt64(maxBytes - tail.count))
            start -= length
            guard (try? handle.seek(toOffset: start)) != nil,
                let data = try? handle.read(upToCount: Int(length)), data.count == Int(length)
            else { return [] }
            let chunk = [UInt8](data)
            if !lastByteChecked {
                lastByteChecked = true
                if chunk.last == newline { newlinesWanted += 1 }
            }
            newlinesSeen += chunk.reduce(0) { $0 + ($1 == newline ? 1 : 0) }
            tail.insert(contentsOf: chunk, at: 0)
        }

        var slice = tail[...]
        if slice.last == newline { slice = slice.dropLast() }
        if start > 0 {
            // Reading stopped mid-file: drop the partial first line when a newline follows it;
            // else (one line longer than `maxBytes`) keep its end, skipping a split UTF-8 sequence.
            if let cut = slice.firstIndex(of: newline) {
                slice = slice[(cut + 1)...]
            } else {
                while let first = slice.first, first & 0b1100_0000 == 0b1000_0000 { slice = slice.dropFirst() }
            }
        }
        let lines = slice.split(separator: newline, omittingEmptySubsequences: false).suffix(count)
        return lines.map { line in
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            return String(decoding: line, as: UTF8.self)
        }
    }

    /// How much of the end of a log the live display reads: enough for a last line, bounded however big the log.
    public static let lastLineWindow = 4096

    /// The last non-empty line of the file at `path`, cleaned for display (`clean`); nil when there
    /// is none or the file cannot be read. Reads at most the last `window` bytes.
    public static func lastLine(ofFileAt path: String, window: Int = lastLineWindow) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return nil }
        let length = min(size, UInt64(window))
        guard (try? handle.seek(toOffset: size - length)) != nil,
            let data = try? handle.read(upToCount: Int(length)), !data.isEmpty
        else { return nil }
        return lastLine(of: data, cutAtStart: size > length)
    }

    /// The last non-empty line of `bytes`. A carriage return redraws a line in a terminal
    /// (progress bars), so only what follows the last one on a line counts. When `cutAtStart`,
    /// the first line may be the tail of a longer one; it is still used if nothing else is there.
    static func lastLine(of bytes: some Collection<UInt8>, cutAtStart: Bool = false) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).reversed() {
            for segment in line.split(separator: "\r", omittingEmptySubsequences: true).reversed() {
                var cleaned = clean(segment)
                // A cut through a multi-byte character decodes as U+FFFD: drop it.
                if cutAtStart { cleaned = String(cleaned.drop { $0 == "\u{FFFD}" }) }
                if !cleaned.isEmpty { return cleaned }
            }
        }
        return nil
    }

    /// Where `clean` is inside an escape sequence.
    private enum EscapeMode {
        case text
        case escape
        case csi
        case osc
        case oscEscape
    }

    /// `text` without terminal escape sequences (CSI such as colours, OSC such as titles and
    /// links, two-character escapes) or other control characters, tabs as spaces, trimmed:
    /// what is left cannot move the cursor or change colours inside grove's own display.
    public static func clean(_ text: some StringProtocol) -> String {
        var mode = EscapeMode.text
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch mode {
            case .text:
                if scalar == "\u{1B}" {
                    mode = .escape
                } else if scalar == "\u{9B}" {
                    mode = .csi
                } else if scalar == "\t" {
                    result.append(" ")
                } else if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    continue
                } else {
                    result.append(scalar)
                }
            case .escape:
                if scalar == "[" {
                    mode = .csi
                } else if scalar == "]" {
                    mode = .osc
                } else if !(0x20...0x2F).contains(scalar.value) {
                    // Intermediates (`ESC ( B`) keep the escape going; anything else ends it.
                    mode = .text
                }
            case .csi:
                // Parameters and intermediates run until a final byte in @…~.
                if (0x40...0x7E).contains(scalar.value) { mode = .text }
            case .osc:
                if scalar == "\u{07}" { mode = .text } else if scalar == "\u{1B}" { mode = .oscEscape }
            case .oscEscape:
                mode = scalar == "\\" ? .text : .osc
            }
        }
        return String(result).trimmingCharacters(in: .whitespaces)
    }
}
