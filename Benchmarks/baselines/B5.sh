#!/usr/bin/env bash
# B5 baseline — a stale-worktree scan with the git CLI: for every repository directly under
# DIR, every linked worktree that is clean and whose branch is merged into the repository's
# checked-out branch (its base). Prints the stale worktrees' paths, one a line.
#
# usage: B5.sh DIR
# Locked, prunable and detached worktrees are skipped (none in the fixture); the main
# worktree is never a candidate.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: ${0##*/} DIR" >&2; exit 2; }
for repo in "$1"/*/; do
    repo=${repo%/}
    base=$(git -C "$repo" symbolic-ref --short HEAD)
    # `worktree list --porcelain`: blocks of "worktree PATH", "HEAD SHA", "branch REF" (or
    # "detached"), maybe "locked"/"prunable", then a blank line; the first block is the main one.
    git -C "$repo" worktree list --porcelain | awk '
        function emit() { if (n > 1 && !skip && branch != "") print path "\t" branch; open = 0 }
        /^worktree / { path = substr($0, 10); branch = ""; skip = 0; open = 1; n++ }
        /^branch /   { branch = substr($0, 8) }
        /^(detached|locked|prunable)/ { skip = 1 }
        /^$/ { if (open) emit() }
        END  { if (open) emit() }
    ' | while IFS=$'\t' read -r wt branch; do
        [ -z "$(git -C "$wt" status --porcelain)" ] || continue
        git -C "$repo" merge-base --is-ancestor "$branch" "$base" || continue
        printf '%s\n' "$wt"
    done
done
