import Foundation
import GroveBasics

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
        if let home = environment["GROVE_HOME"], !home.isEmpty { return GroveHome(path: absolutePath(home)) }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty {
            return GroveHome(path: absolutePath(data) + "/grove")
        }
        guard let user = environment["HOME"], !user.isEmpty else {
            throw GroveHomeError.noHome
        }
        return GroveHome(path: absolutePath(user) + "/.local/share/grove")
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
}

public enum GroveHomeError: Error, LocalizedError, Equatable {
    case noHome

    public var errorDescription: String? {
        "cannot tell where grove's home is: set GROVE_HOME (or XDG_DATA_HOME, or HOME)"
    }
}

// MARK: - Private files and folders

extension GroveHome {
    /// Creates `path` and its missing parents with mode 0700: grove's folders hold state, logs and
    /// task output that other users have no business reading. A folder that already exists keeps
    /// its mode, whoever made it: grove never changes the mode of a folder the user chose.
    public static func createPrivateDirectory(atPath path: String) throws {
        var missing: [String] = []
        var current = path
        while current.count > 1 && !FileManager.default.fileExists(atPath: current) {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for directory in missing.reversed() where mkdir(directory, 0o700) != 0 && errno != EEXIST {
            // FileManager's error names the path and the cause.
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        }
    }

    /// Creates an empty file (or empties an existing one, with `truncating`) that only its owner
    /// may read and write (0600), as logs are: a task's output can hold secrets. False when it
    /// cannot be written.
    @discardableResult
    public static func createPrivateFile(atPath path: String, truncating: Bool = false) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncating ? O_TRUNC : 0), 0o600)
        guard descriptor >= 0 else { return false }
        fchmod(descriptor, 0o600)
        close(descriptor)
        return true
    }

    /// Writes `data` to `path` atomically (a temporary file renamed over it) with mode 0600.
    public static func writePrivateFile(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard createPrivateFile(atPath: temporary, truncating: true) else {
            try data.write(to: URL(fileURLWithPath: path))  // throws the reason
            return
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            guard rename(temporary, path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
