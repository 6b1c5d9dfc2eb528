import Foundation
import GroveGit

/// Checks tasks against their real repositories (read-only): the repository opens and has
/// commits, the base branch exists, the task branch is valid, free, and not claimed twice.
/// A URL repository is only checked as far as it can be without the network: its base and
/// branch are checked once the run has fetched it, and a problem there fails its tasks.
struct RepositoryValidator {
    struct Checked {
        var repository: String
        var source: RemoteSource?
        /// Empty for a URL repository given no base (the remote's default, known once fetched).
        var base: String
        var baseCommit: ObjectID?
        var branch: String
    }

    let run: Int
    let cache: RepositoryCache
    /// Opened repositories by absolute path, so fan-out over one repository opens it once.
    private var opened: [String: Repository] = [:]
    /// Branches already claimed in this plan: "<common dir>\n<branch>" → task name.
    private var claimed: [String: String] = [:]

    init(run: Int, cache: RepositoryCache) {
        self.run = run
        self.cache = cache
    }

    mutating func check(
        _ entry: TaskEntry, base baseSetting: Located<String>?, branchTemplate: Located<String>,
        copy: [Located<String>], directory: String
    ) throws(PlanError) -> Checked {
        let task = entry.name.value
        let repoLocation = entry.repo?.location ?? entry.name.location
        let path: String
        switch entry.repo?.value {
        case .remote(let url):
            return try checkRemote(
                url, task: task, base: baseSetting, branchTemplate: branchTemplate, copy: copy, at: repoLocation)
        case .local(let given): path = absolute(given, against: directory)
        case nil: path = directory
        }
        let repository = try open(path, at: repoLocation)
        let root = repository.workingDirectory ?? repository.commonDirectory

        let base: String
        let baseLocation = baseSetting?.location ?? repoLocation
        do {
            if let setting = baseSetting {
                guard Repository.isValidBranchName(setting.value) else {
                    throw PlanError(
                        setting.location,
                        "base \"\(PlanError.excerpt(setting.value))\" is not a valid branch name; give the name of a branch of \(root)"
                    )
                }
                base = setting.value
            } else if let name = try repository.defaultBranch() {
                base = name
            } else {
                throw PlanError(
                    repoLocation,
                    "HEAD of \(root) is detached and task \"\(task)\" names no base; add `base: <branch>`")
            }
            guard let branch = try repository.branch(named: base) else {
                let names = try repository.branches().map(\.name)
                if names.isEmpty {
                    throw PlanError(
                        repoLocation,
                        "\(root) has no commits yet; make a first commit (`git -C \(root) commit --allow-empty -m init`)"
                    )
                }
                throw PlanError(
                    baseLocation,
                    "base branch \"\(PlanError.excerpt(base))\" does not exist in \(root)"
                        + (Suggestion.closest(to: base, in: names).map { "; did you mean \"\($0)\"?" }
                            ?? "; create it or set `base:` to one of: \(names.prefix(5).joined(separator: ", "))"))
            }
            let name = branchName(branchTemplate, task: task)
            try checkBranch(name, in: repository, shown: root, task: task, template: branchTemplate)
            try checkCopy(copy, root: repository.workingDirectory, shown: root)
            return Checked(repository: root, source: nil, base: base, baseCommit: branch.target, branch: name)
        } catch let error as PlanError {
            throw error
        } catch {
            throw PlanError(repoLocation, "cannot read \(root): \(error.localizedDescription)")
        }
    }

    /// The task branch's name from the template.
    private func branchName(_ template: Located<String>, task: String) -> String {
        Placeholders.fill(template.value) { key in
            switch key {
            case "run": return String(run)
            case "task": return task
            default: return nil
            }
        }
    }

    /// What can be checked of a URL repository's task before it is fetched: a valid branch name,
    /// claimed once per repository, and no `copy:` (the cached clone is bare).
    private mutating func checkRemote(
        _ url: String, task: String, base: Located<String>?, branchTemplate: Located<String>,
        copy: [Located<String>], at location: PlanLocation
    ) throws(PlanError) -> Checked {
        let source = RemoteSource(url: url, cachePath: cache.path(for: url))
        if let item = copy.first {
            throw PlanError(
                item.location,
                "\(source.display) is a URL repository: its clone has no checkout to copy from; "
                    + (item.location == .flag("--copy") ? "leave out --copy" : "remove `copy:`"))
        }
        if let base, !Repository.isValidBranchName(base.value) {
            throw PlanError(
                base.location,
                "base \"\(PlanError.excerpt(base.value))\" is not a valid branch name; give the name of a branch of \(source.display)"
            )
        }
        let name = branchName(branchTemplate, task: task)
        try checkValid(name, task: task, template: branchTemplate)
        try claim(name, in: source.cachePath, shown: source.display, task: task, template: branchTemplate)
        return Checked(
            repository: source.cachePath, source: source, base: base?.value ?? "", baseCommit: nil, branch: name)
    }

    private mutating func open(_ path: String, at location: PlanLocation) throws(PlanError) -> Repository {
        if let repository = opened[path] { return repository }
        do {
            let repository = try Repository.open(at: path)
            opened[path] = repository
            return repository
        } catch let error as RepositoryOpenError {
            throw PlanError(location, error.errorDescription ?? "\(error)")
        } catch {
            throw PlanError(location, "cannot open the repository at \(path): \(error.localizedDescription)")
        }
    }

    private mutating func checkBranch(
        _ name: String, in repository: Repository, shown: String, task: String, template: Located<String>
    ) throws {
        try checkValid(name, task: task, template: template)
        if try repository.branch(named: name) != nil {
            throw PlanError(
                template.location,
                "branch \"\(name)\" already exists in \(shown); delete it (`git -C \(shown) branch -D \(name)`) or"
                    + " use another branch template")
        }
        // refs/heads/a and refs/heads/a/b cannot both exist.
        for existing in try repository.branches().map(\.name)
        where name.hasPrefix(existing + "/") || existing.hasPrefix(name + "/") {
            throw PlanError(
                template.location,
                "branch \"\(name)\" cannot be created in \(shown) because branch \"\(existing)\" exists;"
                    + " rename that branch or use another branch template")
        }
        try claim(name, in: repository.commonDirectory, shown: shown, task: task, template: template)
    }

    private func checkValid(_ name: String, task: String, template: Located<String>) throws(PlanError) {
        guard Repository.isValidBranchName(name) else {
            throw PlanError(
                template.location,
                "branch name \"\(name)\" for task \"\(task)\" is not valid in git; change the task name or the"
                    + " branch template")
        }
    }

    /// Records that `task` takes branch `name` in the repository identified by `key`; a second
    /// task taking it is an error.
    private mutating func claim(
        _ name: String, in key: String, shown: String, task: String, template: Located<String>
    ) throws(PlanError) {
        if let other = claimed[key + "\n" + name] {
            throw PlanError(
                template.location,
                "tasks \"\(other)\" and \"\(task)\" would both use branch \"\(name)\" in \(shown);"
                    + " put {task} in the branch template")
        }
        claimed[key + "\n" + name] = task
    }

    private func checkCopy(_ copy: [Located<String>], root: String?, shown: String) throws(PlanError) {
        for item in copy {
            let flag = item.location == .flag("--copy")
            guard let root else {
                throw PlanError(
                    item.location,
                    "\(shown) is bare, so there is no checkout to copy from; "
                        + (flag ? "leave out --copy" : "remove `copy:`"))
            }
            if !FileManager.default.fileExists(atPath: root + "/" + item.value) {
                throw PlanError(
                    item.location,
                    (flag ? "path" : "copy entry") + " \"\(PlanError.excerpt(item.value))\" does not exist in \(shown);"
                        + " create it or remove " + (flag ? "this --copy" : "the entry"))
            }
        }
    }
}
