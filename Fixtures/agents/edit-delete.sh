#!/bin/sh
# edit-delete.sh [TRACKED-FILE] — fake agent that deletes a tracked file and adds an
# untracked one, without committing (for "commit everything left behind" tests).
#
# Runs in a git worktree (the current directory). Removes TRACKED-FILE (default:
# README.md) from the work tree with plain `rm` (the index is not touched) and creates
# the untracked file new-$GROVE_TASK.txt. Commits nothing.
# Env: GROVE_TASK (default "agent"). Exit 0; exit 1 if TRACKED-FILE does not exist.
set -eu
task=${GROVE_TASK:-agent}
victim=${1:-README.md}

if [ ! -e "$victim" ]; then
    echo "edit-delete: no such file: $victim" >&2
    exit 1
fi
rm -f -- "$victim"
printf 'new file from %s\n' "$task" >"new-$task.txt"
echo "edit-delete: $task deleted $victim and created new-$task.txt (not committed)"
