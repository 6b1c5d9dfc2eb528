#!/usr/bin/env bash
# B4 baseline — N worktrees, each on a new branch from main, with `git worktree add -b`, the
# checkouts fanned out over the cores with xargs -P (as grove runs its tasks -j cores).
#
# usage: B4.sh REPO WTDIR N   (worktrees go to WTDIR/wt-K on branches wt/K)
#
# `git worktree add` races with itself (git 2.39: "fatal: failed to read
# .git/worktrees/wt-9/commondir" when another add is half-way), so the worktrees are registered
# one at a time without a checkout (milliseconds each), then checked out in parallel: as fast
# as a parallel `worktree add` (1.7 s for 16 × 15,000 files on 2 cores; 3.3 s serially).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: ${0##*/} REPO WTDIR N" >&2; exit 2; }
repo=$1 wtdir=$2 n=$3
for i in $(seq "$n"); do
    git -C "$repo" worktree add -q --no-checkout -b "wt/$i" "$wtdir/wt-$i" main
done
seq "$n" | xargs -P "$(nproc)" -I{} git -C "$wtdir/wt-{}" reset -q --hard
