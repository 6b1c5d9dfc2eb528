import Foundation

/// Quoting task data into Markdown (the same rules as `grove report --format md`).
public enum Markdown {
    /// A fence longer than any run of backticks in `lines`, so no line can close the block.
    public static func fence(for lines: [String]) -> String {
        String(repeating: "`", count: max(3, (lines.map(longestBacktickRun).max() ?? 0) + 1))
    }

    /// `text` as a code span on one line: more backticks around it than it holds in a row.
    public static func code(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let ticks = String(repeating: "`", count: longestBacktickRun(flat) + 1)
        let padding = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return ticks + padding + flat + padding + ticks
    }

    /// A code span inside a table cell: GFM splits cells at `|` even inside code, unless escaped.
    public static func cellCode(_ text: String) -> String {
        code(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Plain text inside a table cell.
    public static func cell(_ text: String) -> String {
        inline(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Free text on one line, Markdown's punctuation escaped so it reads as written.
    public static func inline(_ text: String) -> String {
        var result = ""
        for character in text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ") {
            if "\\`*_[]<>#|~".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    private static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0
        var run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }
}
