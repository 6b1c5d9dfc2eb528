#!/bin/sh
# edit-commit.sh [FILE] — fake agent that edits one file and commits it.
#
# Runs in a git worktree (the current directory). Appends the line
# "edited by $GROVE_TASK" to FILE (default: agent-$GROVE_TASK.txt, created if missing),
# then `git add` + `git commit` with the message "$GROVE_TASK: edit FILE".
# Leaves a clean tree and exactly one new commit on the current branch.
# Env: GROVE_TASK (default "agent"). Commits with the repository's configured identity,
# or "Agent <agent@example.com>" if none is configured. Exit 0 on success.
set -eu
task=${GROVE_TASK:-agent}
file=${1:-agent-$task.txt}

git config user.name >/dev/null 2>&1 || export GIT_AUTHOR_NAME=Agent GIT_COMMITTER_NAME=Agent
git config user.email >/dev/null 2>&1 || export GIT_AUTHOR_EMAIL=agent@example.com GIT_COMMITTER_EMAIL=agent@example.com

printf 'edited by %s\n' "$task" >>"$file"
git add -- "$file"
git -c commit.gpgsign=false commit -q -m "$task: edit $file"
echo "edit-commit: $task committed $file"
