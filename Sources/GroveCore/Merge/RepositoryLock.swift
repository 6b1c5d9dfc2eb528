import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Another grove holds a repository's lock (DESIGN.md, safety promise 6): exit 3.
public struct RepositoryLockedError: Error, Sendable, Equatable, LocalizedError {
    public let repository: String
    public let lockFile: String
    /// The holder's pid as it wrote it; nil when it could not be read.
    public let holder: Int32?

    public var errorDescription: String? {
        let who = holder.map { "grove (pid \($0))" } ?? "grove"
        return "\(repository) is locked by another \(who) that is merging into it (\(lockFile));"
            + " wait for it to finish and run `grove merge` again"
    }
}

/// One writer per repository: `<git common dir>/grove.lock`, holding the holder's pid.
///
/// The lock itself is an `flock` on the file, not the file's existence: the kernel drops it
/// when its process dies however it dies (SIGKILL included), so a lock left by a dead grove
/// is taken over without guessing from pids, and a reused pid can never keep a repository
/// locked. The pid in the file only tells the waiting user who holds it.
public final class RepositoryLock: @unchecked Sendable {
    // @unchecked: `descriptor` is written once in init and by `release`, which callers do not
    // race (one owner releases once; `deinit` runs after the last reference is gone).
    /// The lock file's path.
    public let path: String
    private var descriptor: Int32

    /// The lock file of the repository whose git common directory is `commonDirectory`.
    public static func path(commonDirectory: String) -> String {
        commonDirectory + "/grove.lock"
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        release()
    }

    /// Takes the lock without waiting; throws `RepositoryLockedError` when a live grove holds it.
    public static func acquire(commonDirectory: String, repository: String) throws -> RepositoryLock {
        let path = path(commonDirectory: commonDirectory)
        return try lock(path, waiting: false) {
            RepositoryLockedError(repository: repository, lockFile: path, holder: readHolder(path))
        }
    }

    /// Takes the lock of the file at `path`, waiting for as long as another process holds it
    /// (the clone cache: a second run fetching the same repository waits its turn).
    public static func waitFor(lockFile path: String) throws -> RepositoryLock {
        try lock(path, waiting: true) { LockFileError(path: path, operation: "flock", code: EWOULDBLOCK) }
    }

    private static func lock(_ path: String, waiting: Bool, held: () -> any Error) throws -> RepositoryLock {
        for _ in 0..<100 {
            // Close-on-exec: a `--check` command that leaves a daemon behind must not keep the lock.
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw LockFileError(path: path, operation: "open", code: errno)
            }
            var result = flock(descriptor, waiting ? LOCK_EX : LOCK_EX | LOCK_NB)
            while result != 0 && errno == EINTR && waiting {
                result = flock(descriptor, LOCK_EX)
            }
            if result != 0 {
                let code = errno
                close(descriptor)
                guard code == EWOULDBLOCK || code == EINTR else {
                    throw LockFileError(path: path, operation: "flock", code: code)
                }
                if code == EINTR { continue }
                throw held()
            }
            // A releasing holder unlinks the file before closing it: the inode we locked may no
            // longer be the one at `path`, and a lock on it would exclude nobody. Try again then.
            var opened = stat()
            var named = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino,
                opened.st_dev == named.st_dev
            {
                let text = "\(getpid())\n"
                _ = ftruncate(descriptor, 0)
                _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
                return RepositoryLock(path: path, descriptor: descriptor)
            }
            close(descriptor)
        }
        throw LockFileError(path: path, operation: "lock (the file kept being replaced)", code: EAGAIN)
    }

    /// Gives the lock up and removes the file (a no-op the second time).
    public func release() {
        guard descriptor >= 0 else { return }
        // Unlink while still holding it, so nobody can lock this inode after we let go.
        unlink(path)
        close(descriptor)
        descriptor = -1
    }

    /// The pid written in a lock file; the holder writes it right after locking, so give it a moment.
    private static func readHolder(_ path: String) -> Int32? {
        for _ in 0..<20 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return pid
            }
            usleep(5_000)
        }
        return nil
    }
}

/// The lock file itself could not be used (permissions, a read-only repository).
public struct LockFileError: Error, Sendable, Equatable, LocalizedError {
    public let path: String
    public let operation: String
    public let code: Int32

    public var errorDescription: String? {
        "cannot \(operation) \(path): \(String(cString: strerror(code))); check that you can write to the repository"
    }
}
