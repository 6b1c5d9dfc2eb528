/// The environment a task's processes get on top of grove's own (DESIGN.md, "Task file"), and
/// the one `grove merge --check` gets: every `GROVE_*` name is here.
enum TaskEnvironment {
    /// The task file's `env:` plus the `GROVE_*` variables; `GROVE_*` win, so scripts can rely on them.
    static func variables(for task: PlannedTask, run: Int, slot: Int) -> [String: String] {
        var grove = variables(
            run: run, task: task.name, instructions: task.instructions, repo: task.commandValues.repo,
            base: task.base, branch: task.branch, worktree: task.worktree)
        grove["GROVE_SLOT"] = String(slot)
        return task.environment.merging(grove) { _, grove in grove }
    }

    /// A merge check's: the task's `GROVE_*` variables but the slot (a check has none), and
    /// `GROVE_CANDIDATE`, the rebased commit it checks.
    static func variables(forCheckOf task: TaskRecord, candidate: String) -> [String: String] {
        var grove = variables(
            run: task.run, task: task.name, instructions: task.instructions ?? "", repo: task.repo, base: task.base,
            branch: task.branch, worktree: task.worktree)
        grove["GROVE_CANDIDATE"] = candidate
        return grove
    }

    private static func variables(
        run: Int, task: String, instructions: String, repo: String, base: String, branch: String, worktree: String
    ) -> [String: String] {
        [
            "GROVE_RUN": String(run),
            "GROVE_TASK": task,
            "GROVE_INSTRUCTIONS": instructions,
            "GROVE_REPO": repo,
            "GROVE_BASE": base,
            "GROVE_BRANCH": branch,
            "GROVE_WORKTREE": worktree,
        ]
    }

    /// git variables that would point a task's git commands somewhere else than its worktree
    /// (e.g. when grove itself runs from a git hook); removed unless the task's `env:` sets them.
    static let removed: Set<String> = [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE",
    ]
}
