import Foundation
import GroveBasics
import GroveGit

/// Acting on what a scan found: which items change something, the repository lock around the
/// removals, what is said when the lock is held, and the sizes of the worktrees.
extension StaleCleaner {
    static func acts(_ item: CleanItem) -> Bool {
        item.worktreeAction == .remove || item.worktreeAction == .prune || item.branchAction == .delete
    }

    /// Runs `body` holding the repository's grove lock (one writer per repository).
    static func withRepositoryLock<T>(_ clean: CleanRepository, _ body: () throws -> T) throws -> T {
        let lock = try RepositoryLock.acquire(
            commonDirectory: clean.repository.commonDirectory, repository: clean.display)
        defer { lock.release() }
        return try body()
    }

    /// Another grove holds the repository: everything planned there is kept, and said so.
    static func lockedOut(_ items: [CleanItem], _ locked: RepositoryLockedError) -> RepositoryResult {
        let who = locked.holder.map { "another grove (pid \($0))" } ?? "another grove"
        let message =
            "\(who) holds its lock (\(locked.lockFile)); nothing was changed in it;"
            + " run grove clean again once it is done"
        return RepositoryResult(
            items: items.map { untouched($0) },
            problems: [CleanProblem(repository: locked.repository, kind: .locked, message: message)])
    }

    /// What was planned, turned into "kept": nothing was done.
    static func untouched(_ item: CleanItem) -> CleanItem {
        var item = item
        if item.worktreeAction == .remove || item.worktreeAction == .prune { item.worktreeAction = .keep }
        if item.branchAction == .delete { item.branchAction = .keep }
        return item
    }

    /// Sizes of the worktrees that have a directory, measured concurrently (the only part of a
    /// clean that walks checked-out files).
    static func measure(_ items: [CleanItem]) async -> [CleanItem] {
        await withTaskGroup(of: (Int, Int64?).self) { group in
            for (index, item) in items.enumerated() {
                guard let path = item.worktree, item.kind != .missing, item.kind != .gone else { continue }
                group.addTask {
                    let size = try? await Blocking.run { () -> Int64? in
                        FileManager.default.fileExists(atPath: path) ? DiskUsage.bytes(at: path) : nil
                    }
                    return (index, size ?? nil)
                }
            }
            var measured = items
            for await (index, size) in group { measured[index].sizeBytes = size }
            return measured
        }
    }
}
