#!/bin/sh
# edit-no-commit.sh [FILE] — fake agent that leaves uncommitted changes behind.
#
# Runs in a git worktree (the current directory). Appends "edited by $GROVE_TASK" to
# FILE (default: agent-$GROVE_TASK.txt, new and untracked unless it already exists) and
# appends "touched by $GROVE_TASK" to the tracked README.md (created if missing).
# Commits nothing: the tree is left dirty (one untracked or modified file + README.md).
# Env: GROVE_TASK (default "agent"). Exit 0.
set -eu
task=${GROVE_TASK:-agent}
file=${1:-agent-$task.txt}

printf 'edited by %s\n' "$task" >>"$file"
printf 'touched by %s\n' "$task" >>README.md
echo "edit-no-commit: $task changed $file and README.md (not committed)"
