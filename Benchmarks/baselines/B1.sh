#!/usr/bin/env bash
# B1 baseline — the whole job with the git CLI, as a competent user would script it:
# N worktrees + branches with a one-line edit committed in each (the checkouts, edits and
# commits fanned out over the cores with xargs -P, as grove runs its tasks -j cores), then a
# serial merge queue (rebase each branch onto the current main, fast-forward main to it), then
# remove the worktrees and the merged branches.
#
# usage: B1.sh REPO WTDIR N   (REPO has main checked out; worktrees go to WTDIR/wt-K)
# Task K sets line 1 of src/d000/fKKKKK.txt to "edited by task K", exactly as the grove side
# does, so both sides end with the same main tree.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: ${0##*/} REPO WTDIR N" >&2; exit 2; }
repo=$1 wtdir=$2 n=$3
cd "$repo"

# `git worktree add` races with itself (git 2.39: "fatal: failed to read
# .git/worktrees/wt-9/commondir" when another add is half-way), so the worktrees are registered
# one at a time without a checkout (milliseconds each) and checked out in parallel below.
for i in $(seq "$n"); do
    git worktree add -q --no-checkout -b "task/$i" "$wtdir/wt-$i" main
done

# shellcheck disable=SC2016 # $1/$2 are expanded by the inner sh, once per task.
seq "$n" | xargs -P "$(nproc)" -I{} sh -c '
    set -e
    wt=$1/wt-$2
    git -C "$wt" reset -q --hard
    f=$(printf "src/d000/f%05d.txt" "$2")
    sed -i "1s/.*/edited by task $2/" "$wt/$f"
    git -C "$wt" commit -q -a -m "task $2: edit $f"
' sh "$wtdir" {}

# The merge queue is serial by nature: each branch is replayed onto the main the previous one made.
for i in $(seq "$n"); do
    git -C "$wtdir/wt-$i" rebase -q main
    git merge -q --ff-only "task/$i"
done

for i in $(seq "$n"); do
    git worktree remove "$wtdir/wt-$i"
    git branch -q -d "task/$i"
done
