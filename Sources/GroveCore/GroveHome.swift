import Foundation

/// Where grove keeps its state, clone cache, worktrees and logs:
/// `$GROVE_HOME`, else `$XDG_DATA_HOME/grove`, else `~/.local/share/grove`.
public struct GroveHome: Sendable, Equatable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Resolves the home from an environment (the process's by default).
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> GroveHome {
        if let home = environment["GROVE_HOME"], !home.isEmpty { return GroveHome(path: absolute(home)) }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty {
            return GroveHome(path: absolute(data) + "/grove")
        }
        guard let user = environment["HOME"], !user.isEmpty else {
            throw GroveHomeError.noHome
        }
        return GroveHome(path: absolute(user) + "/.local/share/grove")
    }

    public var database: String { path + "/grove.sqlite" }
    public var repositories: String { path + "/repos" }
    public var worktrees: String { path + "/worktrees" }
    public var logs: String { path + "/logs" }

    /// `worktrees/<run>/<task>`: where a task's worktree lives (names are validated, so it stays inside).
    public func worktree(run: Int, task: String) -> String { worktrees + "/\(run)/\(task)" }

    /// `logs/<run>/`: a run's log files.
    public func logDirectory(run: Int) -> String { logs + "/\(run)" }

    /// `logs/<run>/<task>.log`: a task's output.
    public func log(run: Int, task: String) -> String { logDirectory(run: run) + "/\(task).log" }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

public enum GroveHomeError: Error, LocalizedError, Equatable {
    case noHome

    public var errorDescription: String? {
        "cannot tell where grove's home is: set GROVE_HOME (or XDG_DATA_HOME, or HOME)"
    }
}
