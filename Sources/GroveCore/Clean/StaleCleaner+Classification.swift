import Foundation
import GroveBasics
import GroveGit

/// Scanning one repository: every linked worktree classified from git's own data, then the
/// `grove/*` branches left without one. Reads only.
extension StaleCleaner {
    /// A bare repository that is not one of grove's own clones (`$GROVE_HOME/repos`): it may
    /// serve as someone's remote, so only what its linked worktrees hold is grove clean's
    /// business — a branch of it is deleted only with the worktree clean removes or prunes.
    func isSomeonesBare(_ clean: CleanRepository) -> Bool {
        guard clean.repository.isBare else { return false }
        guard let home else { return true }
        return !isPath(clean.key, inside: canonicalPath(home.repositories))
    }

    /// Classifies every linked worktree of the repository, then the `grove/*` branches left
    /// without one. Reads only: nothing in the repository changes.
    func scan(_ clean: CleanRepository) throws -> [CleanItem] {
        let repository = clean.repository
        let names = [clean.display, repository.commonDirectory]
        let origins = knowledge.origins(for: names)
        var protected = knowledge.bases(for: names)
        if let base = clean.defaultBase { protected.insert(base) }
        if let head = clean.mainHead { protected.insert(head) }

        var items: [CleanItem] = []
        let worktrees = try repository.worktrees()
        let checkouts = clean.checkoutDirectories(worktrees)
        for worktree in worktrees {
            do {
                items.append(
                    try classify(
                        worktree, in: clean, origins: origins, protected: protected, checkouts: checkouts))
            } catch {
                var item = CleanItem(repository: clean.display, worktree: worktree.path, branch: nil, kind: .broken)
                item.keep(.broken, reason: "cannot be read: \(describe(error))")
                item.error = item.reason
                items.append(item)
            }
        }
        try addGroveBranches(
            to: &items, in: clean, origins: origins, protected: protected, withoutWorktree: !isSomeonesBare(clean))
        return items
    }

    private func classify(
        _ worktree: Worktree, in clean: CleanRepository, origins: [String: CleanKnowledge.Origin],
        protected: Set<String>, checkouts: [String]
    ) throws -> CleanItem {
        let path = worktree.path
        let head = try worktree.head()
        var item = CleanItem(repository: clean.display, worktree: path, branch: head.branchName, kind: .recent)
        item.adminName = worktree.name
        item.scannedHead = head.commit
        item.scannedBranch = head.branchName
        item.head = head.commit?.hex
        if let branch = head.branchName, head.commit != nil, !protected.contains(branch) {
            item.branchTip = head.commit
            item.groveBranch = branch.hasPrefix("grove/") || origins[branch] != nil
        }
        let quotedPath = CleanPaths.quoted(path)

        if let reason = try worktree.lockReason() {
            item.keep(
                .locked, reason: "locked" + (reason.isEmpty ? "" : " (\(reason))") + "; grove never touches it",
                fix: "git worktree unlock \(quotedPath)")
            return item
        }
        if let target = CleanPaths.linkTarget(path) {
            item.keep(
                .broken, reason: "its folder is now a symbolic link to \(target); grove never follows one",
                fix: "rm \(quotedPath) (the link alone)")
            return item
        }
        if !worktree.directoryExists {
            if case .detached(let commit) = head, try clean.commitsOnNoRef(commit) > 0 {
                // Pruning the entry would drop the only name of these commits.
                let count = try clean.commitsOnNoRef(commit)
                item.kind = .unmerged
                item.reason =
                    "its directory is gone, and its detached HEAD \(commit.short) holds"
                    + " \(CleanRepository.commits(count))"
                    + " on no branch, tag or remote"
                item.fix = "git -C \(CleanPaths.quoted(clean.display)) branch <name> \(commit.short) keeps them"
                item.worktreeAction = options.force ? .prune : .keep
                return item
            }
            item.kind = .missing
            item.reason = "its directory is gone"
            item.worktreeAction = .prune
            item.branchTip = nil  // the branch is judged by itself (grove/* branches below)
            return item
        }
        if isPath(
            canonicalPath(options.currentDirectory), inside: canonicalPath(path))
        {
            item.keep(.current, reason: "the current directory is inside it; grove never removes it")
            return item
        }
        if let branch = head.branchName, protected.contains(branch) {
            item.keep(.base, reason: "it has \(branch) checked out, a base branch; grove never removes it")
            return item
        }
        if knowledge.running.contains(canonicalPath(path)) {
            item.keep(.running, reason: "a task of a grove run still going on works in it")
            return item
        }
        if let inner = CleanPaths.firstInside(canonicalPath(path), among: checkouts) {
            item.keep(
                .nested, reason: "\(inner) lives inside it, and removing it would delete that too",
                fix: "move or remove \(CleanPaths.quoted(inner)) first")
            return item
        }

        let status = try worktree.openRepository().status()
        let origin = head.branchName.flatMap { origins[$0] }
        let base = clean.base(for: origin?.base)
        let baseName = base.isEmpty ? "the base" : base
        let start = origin?.baseCommit.map { [$0] } ?? []
        var beyond = 0
        var atRisk = 0
        if let tip = head.commit {
            beyond = try clean.commitsBeyond(tip, base: base, also: start)
            if head.branchName == nil {
                atRisk = try clean.commitsOnNoRef(tip)
            } else if beyond > 0 {
                atRisk = try clean.commitsAtRisk(tip, base: base, also: start)
            }
        }
        // Commits base has under other ids (landed rebased, cherry-picked): nothing is lost.
        var landed: String?
        if beyond > 0, let tip = head.commit, let branch = head.branchName {
            landed = try clean.changesInBase(
                tip, branch: branch, base: base, start: origin?.baseCommit, verdict: origin?.verdict)
            if landed != nil {
                beyond = 0
                atRisk = 0
            }
        }
        // With --force, a branch goes with its worktree unless it is on a remote only (then it
        // is someone's work in progress: keeping it costs nothing and loses nothing).
        let branchGoesWithForce = beyond == 0 || atRisk > 0

        let submodules = CleanRepository.hasSubmodules(worktree)
        if !status.isClean || submodules {
            let paths = status.entries.map(\.path)
            var what: [String] = []
            if !paths.isEmpty {
                what.append(
                    "\(paths.count) uncommitted change\(paths.count == 1 ? "" : "s") (\(summarize(paths, limit: 3)))")
            }
            if submodules { what.append("initialized submodules, whose repositories would go with it") }
            if atRisk > 0 { what.append("\(CleanRepository.commits(atRisk)) in neither \(baseName) nor a remote") }
            item.kind = .dirty
            item.reason = what.joined(separator: " and ")
            if options.force {
                item.worktreeAction = .remove
                item.discardChanges = true
                item.branchAction = item.branchTip != nil && branchGoesWithForce ? .delete : nil
            } else {
                item.keep(.dirty, reason: item.reason ?? "", fix: "git worktree remove --force \(quotedPath)")
            }
            return item
        }
        if atRisk > 0 {
            item.kind = .unmerged
            item.reason =
                head.branchName == nil
                ? "its detached HEAD holds \(CleanRepository.commits(atRisk)) on no branch, tag or remote"
                : "\(CleanRepository.commits(atRisk)) in neither \(baseName) nor a remote"
            if options.force {
                item.worktreeAction = .remove
                item.branchAction = item.branchTip != nil ? .delete : nil
            } else {
                let branchFix = item.branchTip != nil ? " && git branch -D \(CleanPaths.quoted(item.branch ?? ""))" : ""
                item.keep(.unmerged, reason: item.reason ?? "", fix: "git worktree remove \(quotedPath)\(branchFix)")
            }
            return item
        }
        if beyond > 0 {
            item.keep(
                .pushed,
                reason: "\(CleanRepository.commits(beyond)) not in \(baseName), all on a remote; not finished, so kept")
            return item
        }
        if let tip = head.commit,
            try landed != nil || hasOwnCommits(item.branch, tip: tip, origin: origin, in: clean)
        {
            item.kind = .merged
            item.reason = landed ?? "its commits are all in \(baseName)"
            item.saysWhy = landed != nil
            item.worktreeAction = .remove
            item.branchAction = item.branchTip != nil ? .delete : nil
            return item
        }
        let idle = worktree.lastActivity().map { options.now.timeIntervalSince($0) } ?? .infinity
        if idle > olderThan {
            item.kind = .abandoned
            item.reason = "no commits beyond \(baseName); untouched for \(Self.age(idle))"
            item.worktreeAction = .remove
            item.branchAction = item.branchTip != nil ? .delete : nil
            return item
        }
        item.keep(
            .recent,
            reason: "no commits beyond \(baseName) yet, touched \(Self.age(idle)) ago"
                + " (abandoned after \(options.olderThan ?? StaleCleanOptions.defaultOlderThan))")
        return item
    }

    /// Whether the branch ever had commits of its own (then being in base means it was merged;
    /// otherwise it is only a worktree nobody used yet). grove's record of where a task started
    /// says it; else the branch's reflog, whose oldest entry is where it was created. Without
    /// either, no: such a worktree is judged by its age.
    private func hasOwnCommits(
        _ branch: String?, tip: ObjectID, origin: CleanKnowledge.Origin?, in clean: CleanRepository
    ) throws -> Bool {
        guard let branch else { return false }
        if let start = origin?.baseCommit { return tip != start }
        guard let created = try clean.repository.branchCreationCommit(branch) else { return false }
        return tip != created
    }

    /// `grove/*` branches with no worktree left that are fully merged: deleted. A branch whose
    /// worktree is being pruned counts as having none. With `withoutWorktree` false (a bare
    /// repository that may be a remote) only the branch of a worktree being pruned is.
    private func addGroveBranches(
        to items: inout [CleanItem], in clean: CleanRepository, origins: [String: CleanKnowledge.Origin],
        protected: Set<String>, withoutWorktree: Bool
    ) throws {
        var byBranch: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            if let branch = item.branch { byBranch[branch] = index }
        }
        for branch in try clean.repository.branches() where branch.name.hasPrefix("grove/") {
            guard !protected.contains(branch.name) else { continue }
            let index = byBranch[branch.name]
            if let index, items[index].worktreeAction != .prune { continue }
            if index == nil && !withoutWorktree { continue }
            let origin = origins[branch.name]
            let base = clean.base(for: origin?.base)
            let start = origin?.baseCommit.map { [$0] } ?? []
            var reason = "no worktree, and its commits are all in \(base.isEmpty ? "the base" : base)"
            var saysWhy = false
            if try clean.commitsBeyond(branch.target, base: base, also: start) > 0 {
                guard
                    let landed = try clean.changesInBase(
                        branch.target, branch: branch.name, base: base, start: origin?.baseCommit,
                        verdict: origin?.verdict)
                else { continue }
                reason = "no worktree, and " + landed
                saysWhy = true
            }
            if let index {
                items[index].groveBranch = true
                items[index].branchTip = branch.target
                items[index].branchAction = .delete
                items[index].saysWhy = saysWhy
                items[index].reason = (items[index].reason.map { $0 + "; its branch has " } ?? "") + reason
            } else {
                var item = CleanItem(repository: clean.display, worktree: nil, branch: branch.name, kind: .merged)
                item.groveBranch = true
                item.head = branch.target.hex
                item.branchTip = branch.target
                item.branchAction = .delete
                item.reason = reason
                item.saysWhy = saysWhy
                items.append(item)
            }
        }
    }
}
