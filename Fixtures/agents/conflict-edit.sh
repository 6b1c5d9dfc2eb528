#!/bin/sh
# conflict-edit.sh — fake agent whose work conflicts with any other conflict-edit task.
#
# Runs in a git worktree (the current directory). Replaces line 1 of conflict.txt (the
# file make-repo.sh creates; created here if missing) with
# "line 1: changed by agent $GROVE_TASK", keeps the other lines, and commits it with the
# message "$GROVE_TASK: rewrite conflict.txt line 1". Two such tasks on the same base
# always conflict: the first to land wins. Leaves a clean tree and one new commit.
# Env: GROVE_TASK (default "agent"). Commits with the repository's configured identity,
# or "Agent <agent@example.com>" if none is configured. Exit 0 on success.
set -eu
task=${GROVE_TASK:-agent}

git config user.name >/dev/null 2>&1 || export GIT_AUTHOR_NAME=Agent GIT_COMMITTER_NAME=Agent
git config user.email >/dev/null 2>&1 || export GIT_AUTHOR_EMAIL=agent@example.com GIT_COMMITTER_EMAIL=agent@example.com

tmp=conflict.txt.tmp.$$
{
    printf 'line 1: changed by agent %s\n' "$task"
    if [ -f conflict.txt ]; then tail -n +2 conflict.txt; fi
} >"$tmp"
mv -f -- "$tmp" conflict.txt
git add -- conflict.txt
git -c commit.gpgsign=false commit -q -m "$task: rewrite conflict.txt line 1"
echo "conflict-edit: $task rewrote conflict.txt line 1"
