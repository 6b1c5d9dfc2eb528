import Clibgit2
import Foundation

/// A snapshot of a reference: its full name and where it pointed when read.
public struct Reference: Sendable, Hashable {
    /// The full name, e.g. `refs/heads/main`.
    public let name: String
    /// The commit (or object) it points to; nil for a symbolic ref whose target is unborn.
    public let target: ObjectID?
    /// For a symbolic ref (like HEAD), the full name it points at.
    public let symbolicTarget: String?
}

/// A snapshot of a local branch.
public struct Branch: Sendable, Hashable {
    /// The short name, e.g. `grove/1/fix-auth`.
    public let name: String
    public let target: ObjectID

    public var referenceName: String { "refs/heads/\(name)" }
}

/// A compare-and-swap ref update lost: the ref no longer points where the caller expected.
public struct ReferenceMovedError: Error, Sendable, Equatable, LocalizedError {
    public let reference: String
    public let expected: ObjectID?
    public let actual: ObjectID?

    public var errorDescription: String? {
        let expectedText = expected?.short ?? "nothing (a new ref)"
        let actualText = actual?.short ?? "nothing (deleted)"
        return "\(reference) moved meanwhile: expected \(expectedText), found \(actualText);"
            + " nothing was changed, re-read it and try again"
    }
}

extension Repository {
    /// Looks up a reference by full name (`refs/heads/main`, `HEAD`); nil when it does not exist.
    public func reference(named name: String) throws -> Reference? {
        var out: OpaquePointer?
        let result = git_reference_lookup(&out, pointer, name)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try GitError.check(result, "git_reference_lookup")
        guard let out else { return nil }
        defer { git_reference_free(out) }
        return try snapshot(of: out)
    }

    func snapshot(of reference: OpaquePointer) throws -> Reference {
        let name = String(cString: git_reference_name(reference))
        if git_reference_type(reference) == GIT_REFERENCE_SYMBOLIC {
            let symbolic = String(cString: git_reference_symbolic_target(reference))
            var resolved: OpaquePointer?
            let result = git_reference_resolve(&resolved, reference)
            if result == GIT_ENOTFOUND.rawValue {
                return Reference(name: name, target: nil, symbolicTarget: symbolic)
            }
            try GitError.check(result, "git_reference_resolve")
            defer { git_reference_free(resolved) }
            let target = git_reference_target(resolved).map(ObjectID.init)
            return Reference(name: name, target: target, symbolicTarget: symbolic)
        }
        return Reference(
            name: name, target: git_reference_target(reference).map(ObjectID.init), symbolicTarget: nil)
    }

    /// The branch HEAD names (even before its first commit); nil when HEAD is detached.
    public func headBranchName() throws -> String? {
        guard let head = try reference(named: "HEAD"), let target = head.symbolicTarget else { return nil }
        return target.hasPrefix("refs/heads/") ? String(target.dropFirst("refs/heads/".count)) : nil
    }

    /// The commit HEAD points to; nil in a repository without commits.
    public func headCommit() throws -> ObjectID? {
        try reference(named: "HEAD")?.target
    }

    /// The branch a task starts from when none is named: HEAD's branch, or for a clone whose
    /// HEAD is detached, the remote's default (`refs/remotes/origin/HEAD`).
    public func defaultBranch() throws -> String? {
        if let name = try headBranchName() { return name }
        if let remoteHead = try reference(named: "refs/remotes/origin/HEAD"),
            let target = remoteHead.symbolicTarget, target.hasPrefix("refs/remotes/origin/")
        {
            return String(target.dropFirst("refs/remotes/origin/".count))
        }
        return nil
    }

    /// A local branch by short name; nil when it does not exist.
    public func branch(named name: String) throws -> Branch? {
        guard let reference = try reference(named: "refs/heads/\(name)"), let target = reference.target else {
            return nil
        }
        return Branch(name: name, target: target)
    }

    /// Every local branch, sorted by name.
    public func branches() throws -> [Branch] {
        let iterator = try make("git_branch_iterator_new") {
            git_branch_iterator_new(&$0, pointer, GIT_BRANCH_LOCAL)
        }
        defer { git_branch_iterator_free(iterator) }
        var branches: [Branch] = []
        while true {
            var reference: OpaquePointer?
            var type = GIT_BRANCH_LOCAL
            let result = git_branch_next(&reference, &type, iterator)
            if result == GIT_ITEROVER.rawValue { break }
            try GitError.check(result, "git_branch_next")
            guard let reference else { continue }
            defer { git_reference_free(reference) }
            let name = String(cString: git_reference_shorthand(reference))
            if let target = git_reference_target(reference) {
                branches.append(Branch(name: name, target: ObjectID(target)))
            }
        }
        return branches.sorted { $0.name < $1.name }
    }

    /// The full names of the refs under `prefix` (e.g. `refs/remotes/origin/`), sorted.
    public func referenceNames(withPrefix prefix: String) throws -> [String] {
        let iterator = try make("git_reference_iterator_glob_new") {
            git_reference_iterator_glob_new(&$0, pointer, prefix + "*")
        }
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        while true {
            var name: UnsafePointer<CChar>?
            let result = git_reference_next_name(&name, iterator)
            if result == GIT_ITEROVER.rawValue { break }
            try GitError.check(result, "git_reference_next_name")
            if let name { names.append(String(cString: name)) }
        }
        return names.sorted()
    }

    /// Resolves a revision (`main`, `HEAD~2`, a hex id, a tag) to the commit it names.
    public func resolveCommit(_ revision: String) throws -> ObjectID {
        let object = try make("git_revparse_single") { git_revparse_single(&$0, pointer, revision) }
        defer { git_object_free(object) }
        let commit = try make("git_object_peel") { git_object_peel(&$0, object, GIT_OBJECT_COMMIT) }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// Whether `name` is a valid branch name for both libgit2 and git (`git check-ref-format --branch`).
    public static func isValidBranchName(_ name: String) -> Bool {
        Git.ensureInitialized()
        // libgit2 1.5.1 accepts DEL (0x7f) in ref names; git rejects it and then ignores such a
        // branch ("ignoring ref with broken name"), so a branch grove made would vanish for git.
        if name.utf8.contains(0x7f) { return false }
        var valid: Int32 = 0
        guard git_branch_name_is_valid(&valid, name) == 0 else { return false }
        return valid == 1
    }

    /// Creates branch `name` at `commit`; fails when it already exists.
    @discardableResult
    public func createBranch(named name: String, at commit: ObjectID) throws -> Branch {
        var oid = commit.oid
        let commitObject = try make("git_commit_lookup") { git_commit_lookup(&$0, pointer, &oid) }
        defer { git_commit_free(commitObject) }
        let reference = try make("git_branch_create") {
            git_branch_create(&$0, pointer, name, commitObject, 0)
        }
        git_reference_free(reference)
        return Branch(name: name, target: commit)
    }

    /// Deletes a local branch (and its `branch.<name>` config). Fails while it is checked out.
    public func deleteBranch(named name: String) throws {
        // Stray admin directories make libgit2 1.5.1 think every branch is checked out.
        try WorktreeAdminLock.withLock(commonDirectory: commonDirectory) { try removeStrayWorktreeEntries() }
        let reference = try make("git_branch_lookup") {
            git_branch_lookup(&$0, pointer, name, GIT_BRANCH_LOCAL)
        }
        defer { git_reference_free(reference) }
        try GitError.check(git_branch_delete(reference), "git_branch_delete")
    }

    /// Moves (or creates) the ref `name` to `newTarget` only if it still points at `expected`
    /// (nil: only if it does not exist yet). Throws `ReferenceMovedError` and changes nothing
    /// when another writer got there first.
    public func updateReference(
        named name: String, to newTarget: ObjectID, expecting expected: ObjectID?, message: String
    ) throws {
        var target = newTarget.oid
        for attempt in 0..<50 {
            var out: OpaquePointer?
            let result: Int32
            let function: String
            if let expected {
                var old = expected.oid
                function = "git_reference_create_matching"
                result = git_reference_create_matching(&out, pointer, name, &target, 1, &old, message)
            } else {
                function = "git_reference_create"
                result = git_reference_create(&out, pointer, name, &target, 0, message)
            }
            if let out { git_reference_free(out) }
            if result == 0 { return }
            let error = GitError.last(function, code: result)
            // Another process holds `<ref>.lock` for a moment: wait and retry, as git does.
            if error.isLocked && attempt < 49 {
                usleep(10_000)
                continue
            }
            if error.isModified || error.isExists || (expected != nil && error.isNotFound) {
                throw ReferenceMovedError(
                    reference: name, expected: expected, actual: try reference(named: name)?.target)
            }
            throw error
        }
    }

    /// Deletes the ref `name` only if it still points at `expected` (libgit2 re-checks the
    /// value under the ref's lock, so a concurrent move is detected, not overwritten).
    public func deleteReference(named name: String, expecting expected: ObjectID) throws {
        var out: OpaquePointer?
        let result = git_reference_lookup(&out, pointer, name)
        if result == GIT_ENOTFOUND.rawValue {
            throw ReferenceMovedError(reference: name, expected: expected, actual: nil)
        }
        try GitError.check(result, "git_reference_lookup")
        guard let out else { return }
        defer { git_reference_free(out) }
        let actual = git_reference_target(out).map(ObjectID.init)
        guard actual == expected else {
            throw ReferenceMovedError(reference: name, expected: expected, actual: actual)
        }
        let deleted = git_reference_delete(out)
        if deleted == GIT_EMODIFIED.rawValue {
            throw ReferenceMovedError(
                reference: name, expected: expected, actual: try reference(named: name)?.target)
        }
        try GitError.check(deleted, "git_reference_delete")
    }
}
