import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Signals and liveness checks for one process group (the group id is the task's main pid).
enum ProcessGroup {
    /// Sends `signal` to every member of the group; a group that is already gone is not an error.
    static func send(_ signal: Int32, to groupID: pid_t) {
        guard groupID > 1 else { return }  // never kill(0)/kill(-1): that would hit grove or everything
        _ = kill(-groupID, signal)
    }

    /// True when no member of the group is still running (zombies waiting to be reaped don't count).
    static func isGone(_ groupID: pid_t) -> Bool {
        if kill(-groupID, 0) != 0 { return errno == ESRCH }
        #if os(Linux)
            return !hasLiveMember(groupID)
        #else
            return false
        #endif
    }

    /// SIGTERM to the group, up to `grace` for it to go, then SIGKILL; returns once the group is gone
    /// (or, after SIGKILL, a few seconds have passed without it going — e.g. a process stuck in the kernel).
    static func end(_ groupID: pid_t, grace: Duration, killNow: @Sendable () -> Bool) async {
        let clock = ContinuousClock()
        send(SIGTERM, to: groupID)
        let deadline = clock.now.advanced(by: grace)
        while clock.now < deadline, !killNow() {
            if isGone(groupID) { return }
            await pause()
        }
        send(SIGKILL, to: groupID)
        let killDeadline = clock.now.advanced(by: .seconds(3))
        while clock.now < killDeadline {
            if isGone(groupID) { return }
            await pause()
        }
    }

    /// A short sleep between polls that ignores cancellation: ending a group must finish.
    private static func pause() async {
        try? await Task.sleep(for: .milliseconds(20))
    }

    #if os(Linux)
        /// Scans `/proc` for a non-zombie process whose process group is `groupID`.
        private static func hasLiveMember(_ groupID: pid_t) -> Bool {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
                return true  // cannot tell: assume alive, the caller will escalate to SIGKILL
            }
            for entry in entries where entry.first?.isNumber == true {
                if let stat = ProcStat(pid: entry), stat.processGroup == groupID, stat.state != "Z",
                    stat.state != "X"
                {
                    return true
                }
            }
            return false
        }
    #endif
}

#if os(Linux)
    /// The few fields of `/proc/<pid>/stat` grove needs: state and process group.
    struct ProcStat {
        /// One-letter state: R, S, D, Z (zombie), T, …
        var state: Character
        /// The process group id.
        var processGroup: pid_t

        /// Reads `/proc/<pid>/stat`; `nil` if the process no longer exists.
        init?(pid: String) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
                let text = String(data: data, encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm) ": state ppid pgrp …; comm may itself contain spaces and parentheses.
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count >= 3, let state = fields[0].first, let group = pid_t(fields[2]) else { return nil }
            self.state = state
            self.processGroup = group
        }
    }
#endif
