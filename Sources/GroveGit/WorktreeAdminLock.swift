import Clibgit2
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Serializes worktree add and prune per repository, across threads and processes.
///
/// libgit2 1.5.1 races when two adds run at once (`mkdir worktrees/` and the checked-out scan
/// over half-built admin entries). `flock` locks belong to an open file description, so two
/// threads of one process exclude each other as well as two processes do.
enum WorktreeAdminLock {
    static let fileName = "grove-worktrees.lock"

    @discardableResult
    static func withLock<T>(commonDirectory: String, _ body: () throws -> T) throws -> T {
        let path = commonDirectory + "/" + fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw GitError(
                function: "open", code: -1, errorClass: GIT_ERROR_OS,
                message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw GitError(
                    function: "flock", code: -1, errorClass: GIT_ERROR_OS,
                    message: "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
