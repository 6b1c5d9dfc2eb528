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

    public init(_ location: PlanLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
    public var errorDescription: String? { description }
}
