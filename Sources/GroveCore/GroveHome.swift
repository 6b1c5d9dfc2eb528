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
