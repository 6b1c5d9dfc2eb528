import Foundation
import GroveGit
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the merge queue puts the worktrees of landed tasks: each is renamed into
/// `$GROVE_HOME/trash/<pid>/` (instant) once it was found clean and journaled, and deleted there
/// by a thread of its own while the queue lands the next task. Deleting a worktree's files was
/// the larger part of landing a task (measured: 40% of `grove merge` with 2,000-file worktrees);
/// now it runs on the other core. `drain()` waits for the deletions before grove exits.
///
/// A grove killed half-way leaves its `trash/<pid>` behind: nothing in it is anyone's work
/// (every worktree in it was clean, its commits landed), and the next `grove merge` deletes the
/// folders of groves that are no longer running (`sweep`).
final class WorktreeTrash: Sendable {
    let directory: String
    private let lane = ThreadPool(limit: 1)
    private let counter = Mutex(0)

    init(home: GroveHome) {
        directory = home.path + "/trash/\(getpid())"
    }

    /// A path in the trash for a worktree named `name`, not yet used; the trash folder is made
    /// (private) when missing.
    func place(for name: String) throws -> String {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let number = counter.withLock { count in
            count += 1
            return count
        }
        return directory + "/\(number)-" + name
    }

    /// Deletes `path` (a folder moved into the trash) in the background.
    func discard(_ path: String) {
        lane.submit { try? DirectoryRemoval.remove(path) }
    }

    /// Waits until everything discarded so far is deleted, then removes this grove's trash
    /// folder when it is empty.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lane.submit { continuation.resume() }
        }
        rmdir(directory)
        rmdir((directory as NSString).deletingLastPathComponent)
    }

    /// Deletes what groves that are no longer running left in `home`'s trash.
    static func sweep(home: GroveHome) {
        let trash = home.path + "/trash"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: trash) else { return }
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(), !ProcessLiveness.isAlive(pid) else { continue }
            try? DirectoryRemoval.remove(trash + "/" + entry)
        }
        rmdir(trash)
    }
}
