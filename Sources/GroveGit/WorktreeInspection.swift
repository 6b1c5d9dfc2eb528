import Clibgit2
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a linked worktree's HEAD points, read from its admin entry, so it can be told even when
/// the worktree's directory is gone.
public enum WorktreeHead: Sendable, Equatable {
    /// On a local branch (short name); `target` is nil when that branch does not exist.
    case branch(String, target: ObjectID?)
    /// Detached at a commit.
    case detached(ObjectID)
    /// The admin entry's HEAD could not be read or understood.
    case unreadable

    /// The branch's short name, when HEAD is on one.
    public var branchName: String? {
        if case .branch(let name, _) = self { return name }
        return nil
    }

    /// The commit HEAD resolves to; nil when unreadable or on a branch that does not exist.
    public var commit: ObjectID? {
        switch self {
        case .branch(_, let target): target
        case .detached(let commit): commit
        case .unreadable: nil
        }
    }
}

extension Worktree {
    /// Whether the worktree's directory exists. libgit2's validation also fails for other reasons
    /// (a broken admin entry); a cleaner must tell "the user deleted it" apart from those.
    public var directoryExists: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// HEAD as its admin entry records it (`ref: refs/heads/x` or a commit id). Reading the file
    /// costs one small read and works when the directory is gone; opening the worktree would not.
    public func head() throws -> WorktreeHead {
        guard let text = try? String(contentsOfFile: adminDirectory + "/HEAD", encoding: .utf8) else {
            return .unreadable
        }
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("ref: ") {
            let target = String(line.dropFirst("ref: ".count))
            guard target.hasPrefix("refs/heads/") else { return .unreadable }
            let name = String(target.dropFirst("refs/heads/".count))
            return .branch(name, target: try repository.reference(named: target)?.target)
        }
        return ObjectID(hex: line).map(WorktreeHead.detached) ?? .unreadable
    }

    /// The last time anything git records about this worktree changed: its directory and `.git`
    /// file, its admin entry (index, HEAD, HEAD's reflog) and its branch's ref and reflog. A
    /// clean worktree that nobody committed in, checked out in, or added files to keeps an old
    /// time here; its files are not walked (that is what makes a scan of thousands cheap).
    /// Nil when none of them can be read.
    public func lastActivity() -> Date? {
        var candidates = [path, path + "/.git", adminDirectory, adminDirectory + "/logs/HEAD"]
        if let names = try? FileManager.default.contentsOfDirectory(atPath: adminDirectory) {
            candidates += names.map { adminDirectory + "/" + $0 }
        }
        if case .branch(let name, _)? = try? head() {
            let common = repository.commonDirectory
            candidates += [common + "/refs/heads/" + name, common + "/logs/refs/heads/" + name]
        }
        var newest: Date?
        for candidate in candidates {
            var info = stat()
            guard lstat(candidate, &info) == 0 else { continue }
            #if canImport(Darwin)
                let modified = info.st_mtimespec
            #else
                let modified = info.st_mtim
            #endif
            let time = Date(timeIntervalSince1970: Double(modified.tv_sec) + Double(modified.tv_nsec) / 1e9)
            if newest.map({ time > $0 }) ?? true { newest = time }
        }
        return newest
    }
}

extension Repository {
    /// The full name of a local branch's configured upstream (`refs/remotes/origin/main`); nil
    /// when it has none.
    public func upstreamReferenceName(ofBranch name: String) throws -> String? {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let result = git_branch_upstream_name(&buffer, pointer, "refs/heads/" + name)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try GitError.check(result, "git_branch_upstream_name")
        return buffer.ptr.map { String(cString: $0) }
    }

    /// The commit a branch was created at: the oldest entry of its reflog. Nil when the branch
    /// has no reflog (bare repositories do not keep one by default, and `git reflog expire` may
    /// have emptied it).
    public func branchCreationCommit(_ name: String) throws -> ObjectID? {
        let reflog = try make("git_reflog_read") { git_reflog_read(&$0, pointer, "refs/heads/" + name) }
        defer { git_reflog_free(reflog) }
        let count = git_reflog_entrycount(reflog)
        // Index 0 is the newest entry.
        guard count > 0, let oldest = git_reflog_entry_byindex(reflog, count - 1),
            let created = git_reflog_entry_id_new(oldest)
        else { return nil }
        let id = ObjectID(created)
        return id.isZero ? nil : id
    }

    /// How many commits are reachable from `tip` but from none of `hidden` and from no ref
    /// matching `hiddenReferences` (globs such as `refs/remotes/*`), counting at most `limit`.
    /// Zero means every commit of `tip` is kept safe by those refs: `git rev-list tip --not …`
    /// prints nothing. A union of refs is checked at once, so a branch whose commits are split
    /// between two remote branches still counts as covered.
    public func countCommits(
        from tip: ObjectID, excluding hidden: [ObjectID], excludingReferences hiddenReferences: [String] = [],
        limit: Int = .max
    ) throws -> Int {
        let walk = try make("git_revwalk_new") { git_revwalk_new(&$0, pointer) }
        defer { git_revwalk_free(walk) }
        var start = tip.oid
        try GitError.check(git_revwalk_push(walk, &start), "git_revwalk_push")
        for commit in hidden {
            var id = commit.oid
            try GitError.check(git_revwalk_hide(walk, &id), "git_revwalk_hide")
        }
        for glob in hiddenReferences {
            try GitError.check(git_revwalk_hide_glob(walk, glob), "git_revwalk_hide_glob")
        }
        var count = 0
        var next = git_oid()
        while count < limit {
            let result = git_revwalk_next(&next, walk)
            if result == GIT_ITEROVER.rawValue { break }
            try GitError.check(result, "git_revwalk_next")
            count += 1
        }
        return count
    }

    /// Deletes a local branch (and its `branch.<name>` config) only if it still points at
    /// `expected`: a branch that got a commit since the caller looked is kept, and
    /// `ReferenceMovedError` says so. Fails while the branch is checked out anywhere.
    public func deleteBranch(named name: String, expecting expected: ObjectID) throws {
        // Stray admin directories make libgit2 1.5.1 think every branch is checked out.
        try WorktreeAdminLock.withLock(commonDirectory: commonDirectory) { try removeStrayWorktreeEntries() }
        let referenceName = "refs/heads/" + name
        var out: OpaquePointer?
        let result = git_branch_lookup(&out, pointer, name, GIT_BRANCH_LOCAL)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            throw ReferenceMovedError(reference: referenceName, expected: expected, actual: nil)
        }
        try GitError.check(result, "git_branch_lookup")
        guard let out else { throw ReferenceMovedError(reference: referenceName, expected: expected, actual: nil) }
        defer { git_reference_free(out) }
        let actual = git_reference_target(out).map(ObjectID.init)
        guard actual == expected else {
            throw ReferenceMovedError(reference: referenceName, expected: expected, actual: actual)
        }
        // libgit2 deletes with the value it looked up as the expected old value (under the ref's
        // lock), so a move between the lookup and here is detected, not overwritten.
        let deleted = git_branch_delete(out)
        if deleted == GIT_EMODIFIED.rawValue {
            git_error_clear()
            throw ReferenceMovedError(
                reference: referenceName, expected: expected, actual: try reference(named: referenceName)?.target)
        }
        try GitError.check(deleted, "git_branch_delete")
    }

    /// Prunes one worktree's admin entry (`git worktree prune` for one name) if it is still
    /// prunable — invalid (its directory is gone) and unlocked — when the lock is held. Returns
    /// whether it pruned: a directory that came back, or a lock taken meanwhile, keeps it.
    @discardableResult
    public func pruneWorktree(named name: String) throws -> Bool {
        try WorktreeAdminLock.withLock(commonDirectory: commonDirectory) {
            guard let worktree = try worktree(named: name), worktree.isPrunable else { return false }
            var options = Worktree.pruneOptions(0)
            try GitError.check(git_worktree_prune(worktree.pointer, &options), "git_worktree_prune")
            return true
        }
    }
}
