import Foundation
import GroveBasics
import GroveGit
import Synchronization

/// One repository as `grove clean` reads it: a handle on its main repository (the common
/// directory, whatever path named it) and the answers every worktree of it needs — where
/// each base's commits are, whether a tip's commits are safe elsewhere. It blocks on libgit2
/// and belongs to the one thread that made it.
final class CleanRepository {
    let repository: Repository
    /// How the repository is shown: its working directory, or its git directory when bare.
    let display: String
    /// The repository's default branch: HEAD of its main worktree (or origin's HEAD when detached).
    let defaultBase: String?
    /// The branch the main worktree has checked out (a bare repository's HEAD too).
    let mainHead: String?
    private var containerCache: [String: [ObjectID]] = [:]

    /// Counts stop here: "1000+ commits" says enough, and a walk of a huge history is not needed for it.
    static let countLimit = 1000

    init(path: String) throws {
        let opened = try Repository.open(at: path)
        // A path inside a linked worktree opens that worktree; its HEAD is not the default branch.
        repository = opened.isLinkedWorktree ? try Repository.open(at: opened.commonDirectory) : opened
        display = repository.workingDirectory ?? repository.commonDirectory
        defaultBase = try repository.defaultBranch()
        mainHead = try repository.headBranchName()
    }

    /// The canonical common directory: two paths naming one repository give the same one.
    var key: String { canonicalPath(repository.commonDirectory) }

    /// The commits that hold `base`'s work: its tip, and its upstream's (the configured one,
    /// else `origin/<base>`), so a branch merged on the server and fetched counts as merged.
    func containers(base: String) throws -> [ObjectID] {
        guard !base.isEmpty else { return [] }
        if let cached = containerCache[base] { return cached }
        var found: [ObjectID] = []
        if let tip = try repository.branch(named: base)?.target { found.append(tip) }
        let upstream = try repository.upstreamReferenceName(ofBranch: base) ?? "refs/remotes/origin/\(base)"
        if let tip = try repository.reference(named: upstream)?.target, !found.contains(tip) { found.append(tip) }
        containerCache[base] = found
        return found
    }

    /// The base a branch is judged against: the one grove's task started from while it exists,
    /// else the default branch ("" when there is none: nothing then counts as merged).
    func base(for recorded: String?) -> String {
        if let recorded, (try? repository.branch(named: recorded)) != nil { return recorded }
        return defaultBase ?? ""
    }

    /// Commits of `tip` that are not in `base` (nor its upstream, nor `also`).
    func commitsBeyond(_ tip: ObjectID, base: String, also: [ObjectID] = []) throws -> Int {
        try repository.countCommits(
            from: tip, excluding: try containers(base: base) + also, limit: Self.countLimit)
    }

    /// Commits of `tip` in neither `base` (its upstream, `also`) nor any remote-tracking ref:
    /// the ones deleting the branch would lose.
    func commitsAtRisk(_ tip: ObjectID, base: String, also: [ObjectID] = []) throws -> Int {
        try repository.countCommits(
            from: tip, excluding: try containers(base: base) + also, excludingReferences: ["refs/remotes/*"],
            limit: Self.countLimit)
    }

    /// What `grove merge` recorded of a task branch: it found nothing to land (`at`) in the
    /// branch its task ended with (`head`).
    struct Verdict: Sendable, Equatable {
        var at: Date
        var head: ObjectID
    }

    /// Why the commits `branch` (at `tip`) has beyond `base` are in `base` all the same — the
    /// words for the report — or nil when they may not be:
    /// - every one of them is patch-equivalent to a commit of base (or its upstream) since
    ///   their merge base, as `git cherry base branch` sees it (all `-`), so it was landed
    ///   rebased, squashed as is, or cherry-picked; or
    /// - `grove merge` recorded `nothing_to_land` for it (its changes were found in base when
    ///   replayed, however base got them), and the branch has not moved since: it is still at
    ///   the tip its task ended with, and its reflog's newest entry is not later than the verdict.
    ///
    /// A branch that no longer contains `start` (where grove's task began, when known) had
    /// base's history rewritten (an amended or reset start): it has no "own commits" to judge
    /// this way, and is left to the stricter checks.
    func changesInBase(_ tip: ObjectID, branch: String, base: String, start: ObjectID?, verdict: Verdict?) throws
        -> String?
    {
        guard !base.isEmpty else { return nil }
        if let start, try !repository.isAncestor(start, of: tip) { return nil }
        if let verdict, tip == verdict.head, let moved = try? repository.branchLastMoved(branch),
            moved <= verdict.at
        {
            return "grove merge found nothing to land: its changes are already in \(base)"
        }
        for container in try containers(base: base) {
            guard let commits = try repository.cherry(tip, upstream: container), !commits.isEmpty else { continue }
            if commits.allSatisfy(\.equivalent) {
                let what = commits.count == 1 ? "its commit makes" : "each of its \(commits.count) commits makes"
                return "its changes are already in \(base): \(what) the same change as one there (git cherry)"
            }
        }
        return nil
    }

    /// Commits of a detached HEAD that no branch, tag or remote-tracking ref holds: removing
    /// the worktree would leave them dangling.
    func commitsOnNoRef(_ commit: ObjectID) throws -> Int {
        try repository.countCommits(
            from: commit, excluding: [], excludingReferences: ["refs/heads/*", "refs/remotes/*", "refs/tags/*"],
            limit: Self.countLimit)
    }

    /// The canonical directories of the main checkout and of every linked worktree whose
    /// directory exists, to tell when one lives inside another.
    func checkoutDirectories(_ worktrees: [Worktree]) -> [String] {
        let linked = worktrees.filter(\.directoryExists).map { canonicalPath($0.path) }
        return (repository.workingDirectory.map { [canonicalPath($0)] } ?? []) + linked
    }

    /// Why removing the worktree would take more than its own files, beyond uncommitted
    /// changes: initialized submodules keep their repositories in its admin entry (git refuses
    /// to remove such a worktree without --force, for the same reason).
    static func hasSubmodules(_ worktree: Worktree) -> Bool {
        FileManager.default.fileExists(atPath: worktree.adminDirectory + "/modules")
    }

    /// "3 commits", "1000+ commits".
    static func commits(_ count: Int) -> String {
        count >= countLimit ? "\(countLimit)+ commits" : count == 1 ? "1 commit" : "\(count) commits"
    }
}

/// Paths as `grove clean` compares them.
enum CleanPaths {
    /// Where `path` points when it is itself a symbolic link: a worktree's folder swapped for a
    /// link (to `$HOME`, say) is never opened, scanned or removed through it.
    static func linkTarget(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path.withoutTrailingSlash)
    }

    /// The first of `directories` strictly inside `path` (all canonical).
    static func firstInside(_ path: String, among directories: [String]) -> String? {
        directories.first { $0 != path && isPath($0, inside: path) }
    }

    /// `path` made absolute against `directory` (as a shell would read it there).
    static func absolute(_ path: String, from directory: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let joined = expanded.hasPrefix("/") ? expanded : directory + "/" + expanded
        return (joined as NSString).standardizingPath
    }

    /// `text` quoted for a POSIX shell when it needs it, so a printed command can be pasted.
    static func quoted(_ text: String) -> String {
        let safe = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@%")
        if !text.isEmpty && text.unicodeScalars.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Ctrl-C for `grove clean`: the removal under way finishes, nothing else starts.
public final class CleanControl: Sendable {
    private let stopping = Mutex(false)

    public init() {}

    /// Asks the clean to stop once the current removal is done.
    public func stop() {
        stopping.withLock { $0 = true }
    }

    public var isStopping: Bool { stopping.withLock { $0 } }
}

/// Carries out what the scan decided, in one repository, re-checking each thing just before
/// it acts: a worktree that became dirty, got locked or moved its HEAD since the scan is kept;
/// a branch that moved is kept (deletion is a compare-and-swap on the tip the scan saw).
enum CleanActions {

    /// Acts on `items` (all of one repository) and returns them as they ended up. `home` lets
    /// the emptied `worktrees/<run>/` directories of grove's own worktrees go too.
    static func apply(
        _ items: [CleanItem], in clean: CleanRepository, home: GroveHome?, control: CleanControl
    ) -> [CleanItem] {
        let unlocked = removeStaleLocks(for: items, in: clean.repository)
        return items.map { item in
            var item = item
            // After Ctrl-C, what was not started is left as it is (a removal is never cut in half).
            guard !control.isStopping else {
                if StaleCleaner.acts(item) {
                    item = StaleCleaner.untouched(item)
                    item.reason = (item.reason.map { $0 + "; " } ?? "") + "not done: grove was interrupted"
                }
                return item
            }
            if let branch = item.branch, let files = unlocked[branch] {
                item.saysWhy = true
                item.reason =
                    (item.reason.map { $0 + "; " } ?? "")
                    + "removed the lock file\(files.count == 1 ? "" : "s") a killed grove left in its way"
                    + " (\(files.joined(separator: ", ")))"
            }
            apply(&item, in: clean.repository)
            if item.worktreeAction == .remove, let home, let path = item.worktree {
                removeEmptyRunDirectory(above: path, home: home)
            }
            return item
        }
    }

    /// A grove killed while it wrote a task branch leaves `refs/heads/<branch>.lock` (or
    /// `packed-refs.lock`) behind, and deleting the branch fails until it is gone. Called with
    /// the repository's grove lock held: the lock files of the grove branches about to be
    /// deleted go by `StaleLocks`'s rule. Returns the files removed, by branch.
    private static func removeStaleLocks(for items: [CleanItem], in repository: Repository) -> [String: [String]] {
        let common = repository.commonDirectory
        let branches = items.filter { $0.branchAction == .delete && $0.groveBranch }.compactMap(\.branch)
        let files = branches.map { common + "/refs/heads/\($0).lock" } + [common + "/packed-refs.lock"]
        guard !branches.isEmpty, files.contains(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return [:]
        }
        let removed = Set(StaleLocks.remove(files, commonDirectory: common))
        var byBranch: [String: [String]] = [:]
        for branch in branches {
            let mine = [common + "/refs/heads/\(branch).lock", common + "/packed-refs.lock"].filter(removed.contains)
            if !mine.isEmpty { byBranch[branch] = mine }
        }
        return byBranch
    }

    private static func apply(_ item: inout CleanItem, in repository: Repository) {
        guard item.worktreeAction == .remove || item.worktreeAction == .prune || item.branchAction == .delete else {
            return
        }
        do {
            switch item.worktreeAction {
            case .remove where item.adminName == nil && item.halfMadeStart != nil:
                guard try removeHalfMade(&item, in: repository) else { return }
            case .remove:
                guard try removeWorktree(&item, in: repository) else { return }
            case .prune:
                guard let name = item.adminName, try repository.pruneWorktree(named: name) else {
                    if let path = item.worktree,
                        let target = try? FileManager.default.destinationOfSymbolicLink(
                            atPath: path)
                    {
                        // Something put a link where the worktree was: grove never follows one.
                        changed(&item, .missing, "the worktree's folder is now a symbolic link to \(target)")
                        item.fix =
                            "remove the link yourself (`rm \(CleanPaths.quoted(path))`), then run grove clean again"
                        return
                    }
                    return changed(&item, .missing, "its directory came back, or it was locked, since the scan")
                }
            case .keep, nil:
                break
            }
            if item.branchAction == .delete, let branch = item.branch, let tip = item.branchTip {
                do {
                    try repository.deleteBranch(named: branch, expecting: tip)
                } catch let moved as ReferenceMovedError where moved.actual != nil {
                    item.branchAction = .keep
                    item.reason =
                        (item.reason.map { $0 + "; " } ?? "")
                        + "branch \(branch) moved since the scan (now \(moved.actual?.short ?? "?")), so it is kept"
                } catch is ReferenceMovedError {
                    // Deleted meanwhile by someone else: what was asked is done.
                }
            }
            item.done = true
        } catch {
            item.error = describe(error)
            if item.worktreeAction == .remove || item.worktreeAction == .prune {
                // The worktree may or may not be gone; say what is known for sure.
                if let name = item.adminName, (try? repository.worktree(named: name)) ?? nil != nil {
                    item.worktreeAction = .keep
                }
            }
            if item.branchAction == .delete, let branch = item.branch,
                (try? repository.branch(named: branch)) ?? nil != nil
            {
                item.branchAction = .keep
            }
        }
    }

    /// Removes the item's worktree if it is still what the scan saw; false (the item now kept,
    /// saying why) when it changed.
    private static func removeWorktree(_ item: inout CleanItem, in repository: Repository) throws -> Bool {
        guard let name = item.adminName, let path = item.worktree, let worktree = try repository.worktree(named: name),
            canonicalPath(worktree.path) == canonicalPath(path)
        else {
            // Removed meanwhile by someone else: what was asked is done.
            return true
        }
        if let reason = try worktree.lockReason() {
            changed(&item, .locked, "it was locked since the scan" + (reason.isEmpty ? "" : " (\(reason))"))
            return false
        }
        let head = try worktree.head()
        guard head.commit == item.scannedHead, head.branchName == item.scannedBranch else {
            let now = head.branchName ?? head.commit?.short ?? "unreadable"
            changed(&item, item.kind, "its HEAD moved since the scan (now \(now))")
            return false
        }
        if let start = item.halfMadeStart, try !repository.holdsOnlyCheckout(of: start, at: path) {
            changed(&item, .dirty, "files other than its checkout's appeared in it since the scan")
            return false
        }
        do {
            try repository.removeWorktree(worktree, force: item.discardChanges)
        } catch let refused as WorktreeRemovalError {
            switch refused {
            case .hasChanges(_, let paths):
                changed(
                    &item, .dirty,
                    "it has uncommitted changes since the scan (\(summarize(paths, limit: 3)))")
            case .locked(_, let reason):
                changed(&item, .locked, "it was locked since the scan" + (reason.isEmpty ? "" : " (\(reason))"))
            }
            return false
        }
        return true
    }

    /// Removes the folder a killed worktree add left (git does not know it as a worktree) if it
    /// still holds only what the checkout wrote; false (kept, saying why) when that changed.
    private static func removeHalfMade(_ item: inout CleanItem, in repository: Repository) throws -> Bool {
        guard let path = item.worktree, let start = item.halfMadeStart else { return false }
        guard FileManager.default.fileExists(atPath: path) || CleanPaths.linkTarget(path) != nil else { return true }
        guard CleanPaths.linkTarget(path) == nil, try repository.holdsOnlyCheckout(of: start, at: path),
            try repository.worktree(atPath: path) == nil
        else {
            changed(&item, .orphan, "it changed since the scan")
            return false
        }
        try DirectoryRemoval.remove(path)
        return true
    }

    /// The item changed between scan and action: nothing of it is touched.
    private static func changed(_ item: inout CleanItem, _ kind: CleanClass, _ reason: String) {
        item.kind = kind
        item.reason = reason + "; kept"
        item.fix = item.worktree.map { "look at \(CleanPaths.quoted($0)), then run grove clean again" }
        if item.worktree != nil { item.worktreeAction = .keep }
        if item.branchAction == .delete { item.branchAction = .keep }
    }

    /// `rmdir` of `worktrees/<run>/` once its last worktree is gone (only an empty one goes).
    private static func removeEmptyRunDirectory(above path: String, home: GroveHome) {
        let parent = (path as NSString).deletingLastPathComponent
        let worktrees = canonicalPath(home.worktrees)
        guard canonicalPath((parent as NSString).deletingLastPathComponent) == worktrees else { return }
        rmdir(parent)
    }

}
