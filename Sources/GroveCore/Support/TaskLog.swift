import Foundation

/// grove's own lines in a task's log (`[grove] setup: …`, `[grove] check: …`), appended like the
/// task's output, so the log reads in the order things happened.
enum TaskLog {
    /// Appends one line, creating the log (0600) when it does not exist yet. A log that cannot
    /// be written is left alone: the line is a courtesy, never a reason to fail the task.
    static func appendLine(_ line: String, to path: String) {
        guard let handle = FileHandle(forWritingAtPath: path) ?? createAndOpen(path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }

    private static func createAndOpen(_ path: String) -> FileHandle? {
        GroveHome.createPrivateFile(atPath: path)
        return FileHandle(forWritingAtPath: path)
    }
}
