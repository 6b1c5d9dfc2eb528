import Foundation

/// Turns a task file and/or command-line flags into a validated `Plan`, checking everything
/// against the real repositories first and creating nothing, so bad input costs nothing (exit 2).
public struct PlanBuilder {
    /// The run number, for `{run}` in branch templates and the worktree folder.
    public var run: Int
    public var home: GroveHome
    /// Where flag paths (`--repo`, the task file) are resolved.
    public var currentDirectory: String
    /// The default for `jobs`.
    public var processorCount: Int

    /// The branch template used when none is given.
    public static let defaultBranchTemplate = "grove/{run}/{task}"

    public init(
        run: Int, home: GroveHome, currentDirectory: String = FileManager.default.currentDirectoryPath,
        processorCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.run = run
        self.home = home
        self.currentDirectory = currentDirectory
        self.processorCount = processorCount
    }

    /// Plans from flags alone, or loads `flags.file` and plans from it with the flags applied.
    public func build(_ flags: RunFlags) throws(PlanError) -> Plan {
        guard let path = flags.file else { return try build(file: nil, flags: flags) }
        return try build(file: TaskFile.load(path: path, currentDirectory: currentDirectory), flags: flags)
    }

    /// Plans from an already parsed file (nil: flags alone). `-j`, `--timeout` and a command
    /// after `--` override the file.
    public func build(file: TaskFile?, flags: RunFlags) throws(PlanError) -> Plan {
        let jobs = try jobs(file: file, flags: flags)
        let timeout = try flags.timeout.map { text throws(PlanError) in
            guard let duration = TaskDuration.parse(text) else {
                throw PlanError(.flag("--timeout"), "bad timeout \"\(text)\"; \(TaskDuration.expected)")
            }
            return Located(duration, at: .flag("--timeout"))
        }
        let command = flags.command.isEmpty ? nil : Located(TaskCommand.arguments(flags.command), at: .flag("--"))

        let entries: [TaskEntry]
        let defaults: TaskSettings
        let directory: String
        var taskFile: String?
        if let file {
            try rejectFanOutFlags(flags, file: file.path)
            entries = file.tasks
            defaults = file.defaults
            let path = absolute(file.path, against: currentDirectory)
            directory = (path as NSString).deletingLastPathComponent
            taskFile = path
        } else {
            guard command != nil else {
                throw PlanError(
                    .flag("--"),
                    "no command to run; give one after `--` (e.g. `grove run --repo . -- make fix`) or a task file")
            }
            entries = try flagEntries(flags)
            var settings = TaskSettings()
            settings.copy = try copyFlags(flags)
            defaults = settings
            directory = currentDirectory
        }

        var validator = RepositoryValidator(run: run, cache: RepositoryCache(home: home))
        var tasks: [PlannedTask] = []
        for entry in entries {
            var settings = entry.settings.inheriting(defaults)
            if let command { settings.command = command }
            if let timeout { settings.timeout = timeout }
            guard let taskCommand = settings.command?.value else {
                throw PlanError(
                    entry.name.location,
                    "task \"\(entry.name.value)\" has no command; add `command:` to it or at the top level,"
                        + " or give one after `--`")
            }
            let template = settings.branch ?? Located(Self.defaultBranchTemplate, at: entry.name.location)
            let checked = try validator.check(
                entry, base: settings.base, branchTemplate: template, copy: settings.copy ?? [], directory: directory)
            let worktree = home.worktree(run: run, task: entry.name.value)
            if FileManager.default.fileExists(atPath: worktree) {
                throw PlanError(
                    entry.name.location,
                    "\(worktree) already exists (left from an earlier run?); run `grove clean \(run)` or remove it")
            }
            tasks.append(
                PlannedTask(
                    name: entry.name.value, repository: checked.repository, source: checked.source, base: checked.base,
                    baseCommit: checked.baseCommit, branch: checked.branch, worktree: worktree, command: taskCommand,
                    setup: settings.setup?.value, copy: (settings.copy ?? []).map(\.value),
                    environment: settings.env ?? [:], timeout: settings.timeout?.value,
                    instructions: entry.instructions, dependsOn: entry.dependsOn.map(\.value),
                    retries: flags.retries ?? settings.retries?.value ?? 0))
        }
        try checkPipelines(entries, tasks)
        if let retries = flags.retries, !(0...100).contains(retries) {
            throw PlanError(.flag("--retries"), "--retries is \(retries); give 0 to 100 extra attempts")
        }
        if let first = flags.first, !(1...tasks.count).contains(first) {
            throw PlanError(
                .flag("--first"), "--first is \(first); give 1 to \(tasks.count) (the number of tasks in this run)")
        }
        return Plan(
            run: run, jobs: jobs, failFast: flags.failFast, cloneJobs: try cloneJobs(flags), first: flags.first,
            taskFile: taskFile, tasks: tasks)
    }

    private func jobs(file: TaskFile?, flags: RunFlags) throws(PlanError) -> Int {
        if let jobs = flags.jobs {
            guard jobs >= 1 else {
                throw PlanError(.flag("-j"), "-j is \(jobs); give at least 1 (or leave it out for one per CPU core)")
            }
            return jobs
        }
        return file?.jobs?.value ?? max(1, processorCount)
    }

    /// A task starts from its dependencies' branches and lands into the same base after them, so
    /// they must share its repository and base.
    private func checkPipelines(_ entries: [TaskEntry], _ tasks: [PlannedTask]) throws(PlanError) {
        let byName = Dictionary(uniqueKeysWithValues: tasks.map { ($0.name, $0) })
        for (entry, task) in zip(entries, tasks) {
            for dependency in entry.dependsOn {
                guard let other = byName[dependency.value] else { continue }
                if other.repository != task.repository {
                    throw PlanError(
                        dependency.location,
                        "task \"\(task.name)\" depends on \"\(other.name)\", which runs in another repository"
                            + " (\(other.source?.display ?? other.repository)); a task can only start from a branch of its own"
                            + " repository")
                }
                if other.base != task.base {
                    throw PlanError(
                        dependency.location,
                        "task \"\(task.name)\" (base \(task.base.isEmpty ? "the default" : task.base)) depends on"
                            + " \"\(other.name)\" (base \(other.base.isEmpty ? "the default" : other.base)); give them the"
                            + " same base")
                }
            }
        }
    }

    /// `--clone-jobs`, 4 by default: clones wait on the network more than on the CPU.
    private func cloneJobs(_ flags: RunFlags) throws(PlanError) -> Int {
        guard let jobs = flags.cloneJobs else { return 4 }
        guard jobs >= 1 else {
            throw PlanError(.flag("--clone-jobs"), "--clone-jobs is \(jobs); give at least 1 (default 4)")
        }
        return jobs
    }

    private func rejectFanOutFlags(_ flags: RunFlags, file: String) throws(PlanError) {
        if !flags.repos.isEmpty {
            throw PlanError(
                .flag("--repo"),
                "--repo cannot be combined with a task file; list the repositories under `repos:` in \(file)")
        }
        if flags.reposFile != nil {
            throw PlanError(
                .flag("--repos-file"),
                "--repos-file cannot be combined with a task file; list the repositories under `repos:` in \(file)")
        }
        if flags.count != nil {
            throw PlanError(.flag("--count"), "--count cannot be combined with a task file; drop one of them")
        }
        if flags.name != nil {
            throw PlanError(.flag("--name"), "--name cannot be combined with a task file; name tasks in \(file)")
        }
        if !flags.copy.isEmpty {
            throw PlanError(
                .flag("--copy"), "--copy cannot be combined with a task file; list the paths under `copy:` in \(file)")
        }
    }

    /// `--copy PATH…`, checked like `copy:` entries (relative, inside the checkout); nil when none.
    private func copyFlags(_ flags: RunFlags) throws(PlanError) -> [Located<String>]? {
        guard !flags.copy.isEmpty else { return nil }
        return try flags.copy.map { path throws(PlanError) in
            if let problem = TaskFileParser.copyProblem(path) {
                throw PlanError(.flag("--copy"), problem.replacingOccurrences(of: "copy entry", with: "path"))
            }
            return Located(path, at: .flag("--copy"))
        }
    }

    /// `--repo R…` (one task per repository) or `--repo R --count N --name NAME` (N variants).
    private func flagEntries(_ flags: RunFlags) throws(PlanError) -> [TaskEntry] {
        var repos = flags.repos.map { Located(RepositoryReference($0), at: .flag("--repo")) }
        if let reposFile = flags.reposFile {
            repos += try ReposFile.load(path: reposFile, currentDirectory: currentDirectory)
        }
        if repos.isEmpty { repos = [Located(RepositoryReference("."), at: .flag("--repo"))] }
        if let name = flags.name, !TaskName.isValid(name) {
            throw PlanError(.flag("--name"), TaskName.problem(name))
        }
        if let count = flags.count {
            guard count >= 1 else { throw PlanError(.flag("--count"), "--count is \(count); give at least 1") }
            guard repos.count == 1 else {
                throw PlanError(
                    .flag("--count"),
                    "--count runs variants in one repository; give a single --repo (got \(repos.count))")
            }
            let stem = flags.name ?? repos[0].value.taskNameStem
            let last = "\(stem)-\(count)"
            guard TaskName.isValid(last) else {
                throw PlanError(.flag("--name"), "\"\(last)\" would be too long; use a shorter --name")
            }
            return (1...count).map { TaskEntry(name: Located("\(stem)-\($0)", at: .flag("--name")), repo: repos[0]) }
        }
        if let name = flags.name {
            guard repos.count == 1 else {
                throw PlanError(
                    .flag("--name"),
                    "--name names one task; with several --repo, tasks are named after their repositories")
            }
            return [TaskEntry(name: Located(name, at: .flag("--name")), repo: repos[0])]
        }
        var taken: Set<String> = []
        return repos.map { repo in
            let name = TaskName.unique(repo.value.taskNameStem, avoiding: taken)
            taken.insert(name.lowercased())
            return TaskEntry(name: Located(name, at: repo.location), repo: repo)
        }
    }
}

/// `path` made absolute against `directory` (a leading `~` is the user's home).
func absolute(_ path: String, against directory: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    let full = expanded.hasPrefix("/") ? expanded : directory + "/" + expanded
    return URL(fileURLWithPath: full).standardizedFileURL.path
}
