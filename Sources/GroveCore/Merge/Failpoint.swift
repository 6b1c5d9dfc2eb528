import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Test-only crash points of the merge queue: `GROVE_FAILPOINT=<step>` (or `<step>:<n>` for its
/// n-th occurrence) makes grove kill itself with SIGKILL when it reaches that step, so tests can
/// prove that a merge killed at any step is finished correctly by the next one.
///
/// Steps, in the order one task meets them: `prepared` (journaled, nothing moved), `checking`
/// (the worktree is at the candidate, the check not run), `checked`, `landing` (journaled, base
/// not moved), `base-moved` (base moved, not yet journaled), `landed`, `cleaning` (worktree about
/// to be removed), `cleaned`.
enum Failpoint {
    /// Every step name, for validation and tests.
    static let steps = ["prepared", "checking", "checked", "landing", "base-moved", "landed", "cleaning", "cleaned"]

    private static let setting: (step: String, occurrence: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["GROVE_FAILPOINT"], !text.isEmpty else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let occurrence = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        return (parts[0], max(1, occurrence))
    }()

    private static let counts = Mutex<[String: Int]>([:])

    /// Dies here, as SIGKILL would kill grove, when `GROVE_FAILPOINT` names this step (and occurrence).
    static func hit(_ step: String) {
        guard let setting, setting.step == step else { return }
        let count = counts.withLock { counts in
            counts[step, default: 0] += 1
            return counts[step] ?? 0
        }
        guard count == setting.occurrence else { return }
        kill(getpid(), SIGKILL)
        // SIGKILL cannot be caught; this only waits for it to arrive.
        while true { pause() }
    }
}
