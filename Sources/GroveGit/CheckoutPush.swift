import Clibgit2
import Foundation
import GroveBasics

/// Pushing into a local repository that has a working tree (a clone of a clone, say), which
/// libgit2 1.5.1's local transport refuses outright ("local push doesn't (yet) support pushing
/// to non-bare repos"). grove does what `git push` and the remote's `git receive-pack` do there:
/// the missing objects go into the remote's object database as one pack (libgit2's packbuilder,
/// only what the remote's refs do not already reach), then each ref moves by compare-and-swap
/// with a `push` reflog entry — except a branch checked out in the remote, which follows
/// `receive.denyCurrentBranch` there:
/// - unset, `refuse` or true: refused, with git's reason "branch is currently checked out";
/// - `warn`, `ignore` or false: the branch moves and the remote's files stay as they were (git
///   warns; the remote's `git status` then shows the push as a reverse change);
/// - `updateInstead`: the remote's checkout moves with its branch when it has no uncommitted
///   change (else refused with git's reason, "Working directory has unstaged changes" or
///   "… staged changes"), as `git checkout` would move it; untracked files in the way refuse
///   it too ("Could not update working tree to new HEAD").
/// "Checked out" means in the remote's main working tree or any of its linked worktrees, as
/// for git. Deleting the checked-out branch is refused by the same rule, then (when that allows
/// it) by `receive.denyDeleteCurrent` (default: refused, "deletion of the current branch
/// prohibited"). Not done: the remote's hooks are not run (libgit2's local push into a bare
/// repository runs none either), and `receive.denyNonFastForwards`/`denyDeletes` are not read
/// (a non-fast-forward is refused here anyway unless forced by a lease).
struct CheckoutPush {
    /// The remote's working tree, where it was found.
    let path: String
    /// One ref's result: its refspec as given, the remote's ref, what happened.
    typealias Pushed = (spec: String, destination: String, outcome: PushResult.Outcome)

    /// The local repository with a working tree at `location`, when the remote is one; nil for
    /// anything else (bare, network, missing), which goes through libgit2's transports.
    static func target(_ location: RemoteURL) -> CheckoutPush? {
        guard location.isLocal, let path = RepositoryLocation(location.withoutCredentials).localPath else {
            return nil
        }
        // Exactly there (its working tree, or its `.git`), never a repository above it.
        var out: OpaquePointer?
        guard git_repository_open_ext(&out, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil) == 0, let out else {
            git_error_clear()
            return nil
        }
        let remote = Repository(owning: out)
        guard !remote.isBare, let directory = remote.workingDirectory else { return nil }
        return CheckoutPush(path: directory.withoutTrailingSlash)
    }

    /// What the remote's configuration says to do with a push to its checked-out branch.
    enum CurrentBranchRule: Equatable {
        case refuse, allow, updateInstead
    }

    /// Reads `receive.denyCurrentBranch` (or `receive.denyDeleteCurrent`) as git does: a word
    /// (`ignore`, `warn`, `refuse`, `updateInstead`, any case) or a boolean; unset refuses.
    static func rule(_ key: String, in remote: Repository) -> CurrentBranchRule {
        guard let value = (try? remote.configString(key))?.lowercased() else { return .refuse }
        switch value {
        case "ignore", "warn", "false", "no", "off", "0": return .allow
        case "updateinstead": return .updateInstead
        default: return .refuse
        }
    }

    /// Sends `refs` (already prechecked: each may go) from `local` into the remote, and reports
    /// each by its refspec. Objects are copied first, once for all refs; then each ref moves on
    /// its own, so one refused ref leaves the others to go.
    /// `listed` is where the remote's refs were when they were listed and the refs prechecked:
    /// each ref moves only from there (compare-and-swap), so one moved since is refused, not
    /// overwritten.
    func push(
        from local: Repository, _ refs: [(spec: String, sent: String, destination: String)],
        listed: [String: ObjectID]
    ) throws -> [Pushed] {
        let parsed = refs.map { ParsedRefspec($0.sent) }
        let sources = try parsed.compactMap { spec in try spec.source.flatMap { try local.reference(named: $0)?.target }
        }
        try copyObjects(from: local, tips: sources)
        // Opened after the objects arrived, so its object database sees the new pack.
        let remote = try Repository.openWorkingTree(at: path)
        var results: [Pushed] = []
        for (ref, spec) in zip(refs, parsed) {
            let outcome = try update(spec, in: remote, from: local, expecting: listed[spec.destination])
            results.append((ref.spec, ref.destination, outcome))
        }
        return results
    }

    /// Moves (creates, deletes) one ref of the remote, by the rules above.
    private func update(
        _ spec: ParsedRefspec, in remote: Repository, from local: Repository, expecting current: ObjectID?
    ) throws -> PushResult.Outcome {
        let destination = spec.destination
        let checkouts =
            destination.hasPrefix("refs/heads/")
            ? try remote.checkouts(of: String(destination.dropFirst("refs/heads/".count))) : []
        let message = "push"
        do {
            guard let source = spec.source else {
                guard let current else { return .upToDate }
                // git's receive-pack asks receive.denyCurrentBranch first, then denyDeleteCurrent.
                if !checkouts.isEmpty && Self.rule("receive.denyCurrentBranch", in: remote) == .refuse {
                    return .rejected(reason: "branch is currently checked out")
                }
                if !checkouts.isEmpty && Self.rule("receive.denyDeleteCurrent", in: remote) != .allow {
                    return .rejected(reason: "deletion of the current branch prohibited")
                }
                try remote.deleteReference(named: destination, expecting: current)
                return .pushed
            }
            guard let tip = try local.reference(named: source)?.target else {
                return .rejected(reason: "src refspec \(source) does not match any")
            }
            if current == tip { return .upToDate }
            if let checkout = checkouts.first {
                switch Self.rule("receive.denyCurrentBranch", in: remote) {
                case .refuse:
                    return .rejected(reason: "branch is currently checked out")
                case .allow:
                    break
                case .updateInstead:
                    let worktree = try Repository.openWorkingTree(at: checkout)
                    if let dirty = try Self.uncommittedChanges(in: worktree) { return .rejected(reason: dirty) }
                    guard current != nil else { break }
                    do {
                        try worktree.moveHead(to: tip, expecting: current, message: message)
                    } catch is CheckoutConflictError {
                        return .rejected(reason: "Could not update working tree to new HEAD")
                    }
                    return .pushed
                }
            }
            try remote.updateReference(named: destination, to: tip, expecting: current, message: message)
            return .pushed
        } catch let moved as ReferenceMovedError {
            // Someone else moved it since the remote's refs were listed: git's receive-pack
            // fails to lock it the same way.
            return .rejected(
                reason: "cannot lock ref '\(destination)': is at \(moved.actual?.hex ?? "nothing")"
                    + " but expected \(moved.expected?.hex ?? "nothing")")
        }
    }

    /// git's reason for not moving a checkout with uncommitted changes (unstaged first, as git
    /// looks); nil when it has none. Untracked files do not count.
    private static func uncommittedChanges(in worktree: Repository) throws -> String? {
        var options = git_status_options()
        try GitError.check(
            git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        let list = try make("git_status_list_new") { git_status_list_new(&$0, worktree.pointer, &options) }
        defer { git_status_list_free(list) }
        let unstaged =
            GIT_STATUS_WT_MODIFIED.rawValue | GIT_STATUS_WT_DELETED.rawValue | GIT_STATUS_WT_TYPECHANGE.rawValue
            | GIT_STATUS_WT_RENAMED.rawValue | GIT_STATUS_WT_UNREADABLE.rawValue
        var flags: UInt32 = 0
        for position in 0..<git_status_list_entrycount(list) {
            if let entry = git_status_byindex(list, position) { flags |= entry.pointee.status.rawValue }
        }
        if flags & unstaged != 0 { return "Working directory has unstaged changes" }
        if flags & ~GIT_STATUS_WT_NEW.rawValue != 0 { return "Working directory has staged changes" }
        return nil
    }

    /// Writes into the remote's object database, as one pack, every object reachable from
    /// `tips` that no ref of the remote reaches already.
    private func copyObjects(from local: Repository, tips: [ObjectID]) throws {
        let remote = try Repository.openWorkingTree(at: path)
        let builder = try make("git_packbuilder_new") { git_packbuilder_new(&$0, local.pointer) }
        defer { git_packbuilder_free(builder) }
        let walk = try make("git_revwalk_new") { git_revwalk_new(&$0, local.pointer) }
        defer { git_revwalk_free(walk) }
        var walking = false
        for tip in tips where !remote.hasObject(tip) {
            var oid = tip.oid
            if local.objectType(tip) == GIT_OBJECT_COMMIT {
                try GitError.check(git_revwalk_push(walk, &oid), "git_revwalk_push")
                walking = true
            } else {
                try GitError.check(git_packbuilder_insert_recur(builder, &oid, nil), "git_packbuilder_insert_recur")
            }
        }
        if walking {
            // What the remote has: every commit its refs name that exists here too.
            for have in try remote.referenceTargets() where local.objectType(have) == GIT_OBJECT_COMMIT {
                var oid = have.oid
                try GitError.check(git_revwalk_hide(walk, &oid), "git_revwalk_hide")
            }
            try GitError.check(git_packbuilder_insert_walk(builder, walk), "git_packbuilder_insert_walk")
        }
        guard git_packbuilder_object_count(builder) > 0 else { return }
        let packs = remote.commonDirectory + "/objects/pack"
        try GitError.check(git_packbuilder_write(builder, packs, 0, nil, nil), "git_packbuilder_write")
    }
}

extension Repository {
    /// The object type of `id` here; nil when this repository does not have it.
    func objectType(_ id: ObjectID) -> git_object_t? {
        var database: OpaquePointer?
        guard git_repository_odb(&database, pointer) == 0, let database else { return nil }
        defer { git_odb_free(database) }
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        guard git_odb_read_header(&size, &type, database, &oid) == 0 else {
            git_error_clear()
            return nil
        }
        return type
    }

    /// Where every direct ref of this repository points (symbolic refs are left out).
    func referenceTargets() throws -> [ObjectID] {
        let iterator = try make("git_reference_iterator_new") { git_reference_iterator_new(&$0, pointer) }
        defer { git_reference_iterator_free(iterator) }
        var targets: [ObjectID] = []
        while true {
            var reference: OpaquePointer?
            let result = git_reference_next(&reference, iterator)
            if result == GIT_ITEROVER.rawValue {
                git_error_clear()
                break
            }
            try GitError.check(result, "git_reference_next")
            guard let reference else { continue }
            defer { git_reference_free(reference) }
            if let target = git_reference_target(reference) { targets.append(ObjectID(target)) }
        }
        return targets
    }
}
