import Foundation

/// The project's fixtures (Fixtures/make-repo.sh, Fixtures/agents/*.sh), found from this file's place.
public enum Fixtures {
    /// The package root.
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent().path

    /// The path of a fake agent script, e.g. `agent("edit-no-commit")`.
    public static func agent(_ name: String) -> String {
        root + "/Fixtures/agents/\(name).sh"
    }
}

/// What the kernel says about processes, to prove none of a task's outlived it.
public enum ProcessTable {
    /// True when `pid` exists and is not a zombie (a zombie has ended; it only awaits its parent).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// The pids of live processes whose command line contains `marker` (e.g. a unique sleep length).
    public static func running(withArgument marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains(marker) && isRunning(pid) ? pid : nil
        }
    }
}
