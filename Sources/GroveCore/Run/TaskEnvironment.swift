/// The environment a task's processes get on top of grove's own (DESIGN.md, "Task file").
enum TaskEnvironment {
    /// The task file's `env:` plus the `GROVE_*` variables; `GROVE_*` win, so scripts can rely on them.
    static func variables(for task: PlannedTask, run: Int, slot: Int) -> [String: String] {
        task.environment.merging(
            [
                "GROVE_RUN": String(run),
                "GROVE_TASK": task.name,
                "GROVE_INSTRUCTIONS": task.instructions,
                "GROVE_REPO": task.commandValues.repo,
                "GROVE_BASE": task.base,
                "GROVE_BRANCH": task.branch,
                "GROVE_WORKTREE": task.worktree,
                "GROVE_SLOT": String(slot),
            ]
        ) { _, grove in grove }
    }

    /// git variables that would point a task's git commands somewhere else than its worktree
    /// (e.g. when grove itself runs from a git hook); removed unless the task's `env:` sets them.
    static let removed: Set<String> = [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE",
    ]
}
