#!/usr/bin/env bash
# B3 baseline — a merge queue with the git CLI: for each branch in order, rebase it onto the
# current base and fast-forward base to it, in the repository's main checkout (which has base
# checked out before and after, like grove's, whose checkout of base follows every landing).
#
# usage: B3.sh REPO BASE BRANCH...
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: ${0##*/} REPO BASE BRANCH..." >&2; exit 2; }
repo=$1 base=$2
shift 2
cd "$repo"
for branch in "$@"; do
    git rebase -q "$base" "$branch" # checks the branch out, replays its commit onto base
    git checkout -q "$base"
    git merge -q --ff-only "$branch"
done
