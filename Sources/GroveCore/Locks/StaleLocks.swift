import Foundation
import GroveBasics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one rule for deleting the `.lock` files git (and libgit2) leave when the process writing
/// a ref or an index is killed: every later write of that file fails until it is gone. `grove
/// retry`, merge recovery and `grove clean` all remove them through here.
///
/// A lock file is stale — and removed — only when all of these hold:
/// 1. It is one the caller names: the lock of a file grove itself writes (a task branch's ref,
///    the base a merge lands on, `packed-refs`, the index or HEAD of a checkout grove moved),
///    never whatever `*.lock` lies around. It is a regular file (not a link) named `*.lock`,
///    inside the git directory of the repository whose lock is held, and not that lock.
/// 2. No other grove can hold it: this process holds the repository's grove lock (checked
///    here, not assumed), so no other grove is writing in the repository, and the grove that
///    wrote it is gone (the caller's part: the run is not running, the merge's journal row is
///    in flight under our lock).
/// 3. No live git holds it: git keeps a ref or index lock only for the moment of a write, so
///    a file still there, unchanged (same inode, size and time), after `settle` is not being
///    written. With `madeAfter` (when the dead operation began), one older than that is not
///    its to remove (someone else's, kept).
enum StaleLocks {
    /// How long a lock file must stay unchanged to be taken for stale.
    static let settle: Duration = .seconds(1)

    /// Removes the stale ones of `candidates` (see the rule above) in the repository whose git
    /// common directory is `commonDirectory`, and returns the files removed. Nothing is removed
    /// unless this process holds that repository's grove lock.
    @discardableResult
    static func remove(
        _ candidates: [String], commonDirectory: String, madeAfter: Date? = nil, settle: Duration = settle
    ) -> [String] {
        let lockFile = RepositoryLock.path(commonDirectory: commonDirectory)
        var found: [String: FileState] = [:]
        for path in Set(candidates) where path.hasSuffix(".lock") {
            let file = canonical(path)
            let directory = canonicalPath(commonDirectory)
            guard file != canonical(lockFile), file != directory, isPath(file, inside: directory),
                let state = FileState(path), state.isRegular
            else { continue }
            if let madeAfter, state.modified < madeAfter.addingTimeInterval(-1) { continue }
            found[path] = state
        }
        guard !found.isEmpty, holdsRepositoryLock(lockFile) else { return [] }
        // A live git lets go within moments (or rewrites the file): wait, in steps of 0.1 s.
        let steps = max(1, Int((settle / .milliseconds(100)).rounded(.up)))
        for _ in 0..<steps where !found.isEmpty {
            usleep(100_000)
            found = found.filter { FileState($0.key) == $0.value }
        }
        return found.keys.sorted().filter { unlink($0) == 0 }
    }

    /// True when this process holds the grove lock at `path`: the pid written in it is ours and
    /// the file is `flock`ed (a second lock on it would block). Nothing is changed.
    static func holdsRepositoryLock(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == getpid()
        else { return false }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            // Nobody holds it: it is not ours either.
            flock(descriptor, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// What tells a lock file being written from one left behind.
    struct FileState: Equatable {
        var inode: UInt64
        var size: Int64
        var modified: Date
        var isRegular: Bool

        init?(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return nil }
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            #if canImport(Darwin)
                let time = info.st_mtimespec
            #else
                let time = info.st_mtim
            #endif
            modified = Date(timeIntervalSince1970: TimeInterval(time.tv_sec) + TimeInterval(time.tv_nsec) / 1e9)
            isRegular = info.st_mode & S_IFMT == S_IFREG
        }
    }

    private static func canonical(_ path: String) -> String {
        // The file itself may be gone by now; its directory is what must be inside the repository.
        canonicalPath((path as NSString).deletingLastPathComponent) + "/" + (path as NSString).lastPathComponent
    }
}
