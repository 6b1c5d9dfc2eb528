import Foundation

/// Where a planning problem is, so the message can point the user at the exact spot to fix.
public enum PlanLocation: Sendable, Equatable, CustomStringConvertible {
    /// A position in a task file, as the user named the file; line and column count from 1.
    case file(path: String, line: Int, column: Int)
    /// A whole file (it is missing, unreadable or empty).
    case path(String)
    /// A command-line flag such as `--timeout`.
    case flag(String)

    public var description: String {
        switch self {
        case .file(let path, let line, let column): return "\(path):\(line):\(column)"
        case .path(let path): return path
        case .flag(let flag): return flag
        }
    }
}

/// Bad input found while planning a run: it says where and how to fix it, and means exit 2 with
/// nothing created.
public struct PlanError: Error, Sendable, Equatable, LocalizedError, CustomStringConvertible {
    public let location: PlanLocation
    /// What is wrong and what to do about it, one line.
    public let message: String

    /// `message` with control characters (a newline in a quoted name, a NUL) escaped, so the
    /// error stays one line however odd the input it quotes.
    public init(_ location: PlanLocation, _ message: String) {
        self.location = location
        self.message = Self.oneLine(message)
    }

    public var description: String { "\(Self.oneLine(location.description)): \(message)" }

    /// `text` with line breaks, tabs and other control characters written as escapes (`\n`, `\u{0}`).
    public static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Text from the input as a message quotes it: at most 40 characters, with "…" when cut, so a
    /// 20,000-character value still makes a readable line.
    public static func excerpt(_ text: String) -> String {
        let limit = 40
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "…"
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
            || scalar.value == 0x2029
    }
    public var errorDescription: String? { description }
}
