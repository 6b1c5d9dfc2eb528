import GRDB

/// The database schema as a sequence of GRDB migrations: a migration, once released, never
/// changes; later features (the merge journal of `grove merge`) append new ones ("v2", …).
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // AUTOINCREMENT: a number is never handed out twice, even after its run is deleted,
            // because branches (`grove/{run}/{task}`) and worktree paths are named after it.
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("number")
                table.column("state", .text).notNull()
                table.column("started_at", .datetime).notNull()
                table.column("finished_at", .datetime)
                table.column("wall_seconds", .double)
                table.column("pid", .integer).notNull()
                table.column("jobs", .integer).notNull()
                table.column("task_file", .text)
                table.column("timeout_seconds", .double)
                table.column("fail_fast", .boolean).notNull().defaults(to: false)
                table.column("arguments", .jsonText).notNull().defaults(to: "[]")
            }
            try db.create(table: "task") { table in
                table.column("run", .integer).notNull()
                    .references("run", column: "number", onDelete: .cascade)
                table.column("name", .text).notNull()
                table.column("position", .integer).notNull()
                table.column("repo", .text).notNull()
                table.column("base", .text).notNull()
                table.column("branch", .text).notNull()
                table.column("worktree", .text).notNull()
                table.column("command", .jsonText).notNull()
                table.column("instructions", .text)
                table.column("state", .text).notNull()
                table.column("exit_code", .integer)
                table.column("signal", .integer)
                table.column("reason", .text)
                table.column("queued_at", .datetime)
                table.column("started_at", .datetime)
                table.column("finished_at", .datetime)
                table.column("seconds", .double)
                table.column("commits", .integer)
                table.column("changed_files", .jsonText).notNull().defaults(to: "[]")
                table.column("log", .text).notNull()
                table.column("slot", .integer)
                table.column("pid", .integer)
                table.column("pgid", .integer)
                table.primaryKey(["run", "name"])
            }
            try db.create(index: "task_on_run_position", on: "task", columns: ["run", "position"])
        }
        migrator.registerMigration("v2") { db in
            // The commits a task started from and ended at: reports diff between them, and the
            // merge queue knows what a task produced even after its branch moved or was deleted.
            try db.alter(table: "task") { table in
                table.add(column: "base_commit", .text)
                table.add(column: "head_commit", .text)
            }
        }
        migrator.registerMigration("v3") { db in
            // `grove merge`'s journal and results: one row per task that went through a merge
            // queue. `step` is written before each action (prepared, checked, landing, landed,
            // cleaning, cleaned; `parked` once a result other than landed is final), so a merge
            // that died can be reconciled with the refs; `result` is what `grove status` shows.
            try db.create(table: "merge") { table in
                table.column("run", .integer).notNull()
                table.column("task", .text).notNull()
                table.column("repo", .text).notNull()
                table.column("base", .text).notNull()
                table.column("branch", .text).notNull()
                table.column("step", .text).notNull()
                table.column("result", .text)
                table.column("old_base", .text)
                table.column("old_tip", .text)
                table.column("candidate", .text)
                table.column("commits", .integer)
                table.column("conflicts", .jsonText).notNull().defaults(to: "[]")
                table.column("reason", .text)
                table.column("check_log", .text)
                table.column("check_cached", .boolean).notNull().defaults(to: false)
                table.column("check_pgid", .integer)
                table.column("pid", .integer).notNull()
                table.column("updated_at", .datetime).notNull()
                table.primaryKey(["run", "task"])
                table.foreignKey(["run", "task"], references: "task", columns: ["run", "name"], onDelete: .cascade)
            }
            try db.create(index: "merge_on_repo_step", on: "merge", columns: ["repo", "step"])
            // `--check` verdicts by (tree, command): the same tree is never checked twice.
            try db.create(table: "check_cache") { table in
                table.column("tree", .text).notNull()
                table.column("command", .text).notNull()
                table.column("passed", .boolean).notNull()
                table.column("exit_code", .integer)
                table.column("log", .text)
                table.column("checked_at", .datetime).notNull()
                table.primaryKey(["tree", "command"])
            }
        }
        migrator.registerMigration("v4-clean") { db in
            // When `grove clean RUN` removed the last of a run's worktrees and branches.
            try db.alter(table: "run") { table in
                table.add(column: "cleaned_at", .datetime)
            }
        }
        migrator.registerMigration("v5-remote") { db in
            // Tasks whose repository is a URL: `source` is the URL with any credentials removed
            // (never the secret), `source_sync` what this run did to the clone cache (`cloned`,
            // `fetched`, `failed`); `repo` is then the cache's path.
            try db.alter(table: "task") { table in
                table.add(column: "source", .text)
                table.add(column: "source_sync", .text)
            }
            // `grove push`: the last push of each task branch to each remote, and its PR step.
            // `commit` is what grove pushed: the expected old id of `--force-with-lease`.
            try db.create(table: "push") { table in
                table.column("run", .integer).notNull()
                table.column("task", .text).notNull()
                table.column("remote", .text).notNull()
                table.column("ref", .text).notNull()
                table.column("state", .text).notNull()
                table.column("reason", .text)
                table.column("commit", .text)
                table.column("pr_body", .text)
                table.column("pr_exit_code", .integer)
                table.column("pr_url", .text)
                table.column("pr_log", .text)
                table.column("updated_at", .datetime).notNull()
                table.primaryKey(["run", "task", "remote"])
                table.foreignKey(["run", "task"], references: "task", columns: ["run", "name"], onDelete: .cascade)
            }
        }
        migrator.registerMigration("v6-strategies") { db in
            // Execution strategies: `depends_on` (names of tasks of the same run), the retries a
            // task may take and the attempts it made. `base_commit` is where the task's branch
            // started: the base for a task without dependencies, its dependency's tip (or their
            // merge) otherwise — what `grove merge` replays a dependent's own commits from.
            try db.alter(table: "task") { table in
                table.add(column: "depends_on", .jsonText).notNull().defaults(to: "[]")
                table.add(column: "retries", .integer).notNull().defaults(to: 0)
                table.add(column: "attempts", .integer).notNull().defaults(to: 0)
                // What `grove retry` needs to run a task again as planned: its command and setup
                // as written (placeholders unfilled), `env:`, `copy:` and timeout.
                table.add(column: "spec", .jsonText)
            }
            // Every finished attempt of a task that was tried again (the last attempt is the task
            // row itself): how it ended, its log, and the ref that keeps what it left.
            try db.create(table: "attempt") { table in
                table.column("run", .integer).notNull()
                table.column("task", .text).notNull()
                table.column("number", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("exit_code", .integer)
                table.column("signal", .integer)
                table.column("reason", .text)
                table.column("started_at", .datetime)
                table.column("finished_at", .datetime)
                table.column("seconds", .double)
                table.column("log", .text).notNull()
                table.column("saved_ref", .text)
                table.column("saved_commit", .text)
                table.primaryKey(["run", "task", "number"])
                table.foreignKey(["run", "task"], references: "task", columns: ["run", "name"], onDelete: .cascade)
            }
        }
        migrator.registerMigration("v7-claims") { db in
            // What a launched process is, for recovery after a crash, as a typed claim (JSON:
            // `{"kind":"process_group","pgid":…}`; later back ends add kinds) instead of bare
            // pid columns. The task's `pid` always equalled its `pgid`: one claim holds both.
            try db.alter(table: "task") { table in table.add(column: "claim", .jsonText) }
            try db.alter(table: "merge") { table in table.add(column: "check_claim", .jsonText) }
            try db.execute(
                sql: """
                    UPDATE task SET claim = json_object('kind', 'process_group', 'pgid', pgid)
                    WHERE pgid IS NOT NULL
                    """)
            try db.execute(
                sql: """
                    UPDATE merge SET check_claim = json_object('kind', 'process_group', 'pgid', check_pgid)
                    WHERE check_pgid IS NOT NULL
                    """)
            try db.alter(table: "task") { table in
                table.drop(column: "pid")
                table.drop(column: "pgid")
            }
            try db.alter(table: "merge") { table in table.drop(column: "check_pgid") }
        }
        return migrator
    }
}
