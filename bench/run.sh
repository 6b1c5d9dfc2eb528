#!/usr/bin/env bash
# bench/run.sh — `make bench`: grove's speed and memory, each figure next to a baseline
# measured in the same run on the same machine (these machines are shared and noisy, so only
# ratios against a same-run baseline mean anything). Prints a Markdown table on stdout.
#
# Fixtures live in /dev/shm when it exists (ext4 slows down after large deletes, skewing
# repeats); everything is removed at the end. Each figure is the median of REPEAT runs.
#
#   REPEAT=5 make bench      # more repeats
#   GROVE=path/to/grove      # a grove binary other than .build/release/grove
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
grove=${GROVE:-$root/.build/release/grove}
repeat=${REPEAT:-3}
scratch_parent=/dev/shm
[ -d "$scratch_parent" ] && [ -w "$scratch_parent" ] || scratch_parent=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$scratch_parent/grove-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

[ -x "$grove" ] || { echo "bench: $grove is missing; run \`make release\` first" >&2; exit 2; }

# Nothing of the host's git or grove configuration reaches the measurements.
export HOME=$scratch/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null NO_COLOR=1
mkdir -p "$HOME"

# Two fixtures: a tiny repository (12 files), where a task's cost is grove's own scheduling, and
# one like a small service (1,002 files), where checking out each worktree dominates.
"$root/Fixtures/make-repo.sh" "$scratch/tiny" 10 0 >/dev/null
"$root/Fixtures/make-repo.sh" "$scratch/service" 1000 0 >/dev/null
cd "$scratch/tiny"

run_number=0
# measure COMMAND... → prints "seconds maxrss_kb" of one run, from a fresh grove home and a
# clean fixture each time, so earlier runs' worktrees do not slow later ones.
measure() {
    run_number=$((run_number + 1))
    export GROVE_HOME=$scratch/grove-home-$run_number
    /usr/bin/time -f '%e %M' -o "$scratch/time" "$@" >/dev/null 2>"$scratch/stderr" || {
        echo "bench: \`$*\` failed:" >&2
        cat "$scratch/stderr" >&2
        exit 1
    }
    cat "$scratch/time"
    reset_repo
}

# Puts the fixture back as it was: no grove home, worktrees or branches left by the last run,
# so every repeat starts from the same state.
reset_repo() {
    rm -rf "$GROVE_HOME" "$scratch"/wt-*
    git worktree prune
    git for-each-ref --format='delete %(refname)' refs/heads/grove refs/heads/bench | git update-ref --stdin
}

# median FIELD COMMAND... → the median of field 1 (seconds) or 2 (max RSS KiB) over the repeats.
median() {
    local field=$1
    shift
    for _ in $(seq "$repeat"); do measure "$@"; done | awk -v f="$field" '{print $f}' | sort -n \
        | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "# grove bench ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, median of $repeat)"
echo
echo "| figure | grove | baseline (same run) | ratio | target |"
echo "|---|---:|---:|---:|---|"

# 1. Scheduling: 32 × sleep 1 with -j 32, against the same 32 sleeps fanned out by xargs -P
#    (processes only: no worktrees, branches or state).
grove_wall=$(median 1 "$grove" run --count 32 --name nap -j 32 -- sleep 1)
xargs_wall=$(median 1 sh -c 'seq 32 | xargs -P 32 -I{} sleep 1')
echo "| tiny repo, 32 × \`sleep 1\`, -j 32: wall | ${grove_wall} s | ${xargs_wall} s (xargs -P 32) | $(ratio "$grove_wall" "$xargs_wall") | wall ≤ 1.5 s |"

# 2. Overhead per task: 32 × true, everything grove does around a command (branch, worktree,
#    checkout, state, commit check), against git making the same 32 worktrees one by one.
per_task() { awk -v w="$1" 'BEGIN { printf "%.1f", w * 1000 / 32 }'; }
git_adds='for i in $(seq 32); do git worktree add -q -b "bench/$i" "'"$scratch"'/wt-$i" >/dev/null 2>&1; done'
for fixture in tiny service; do
    cd "$scratch/$fixture"
    grove_true=$(median 1 "$grove" run --count 32 --name t -j 32 -- true)
    git_worktrees=$(median 1 sh -c "$git_adds")
    target=$([ "$fixture" = tiny ] && echo "≤ 10 ms per task" || echo "(checkout-bound)")
    echo "| $fixture repo, 32 × \`true\`, -j 32: wall (per task) | ${grove_true} s ($(per_task "$grove_true") ms) | ${git_worktrees} s (\`git worktree add\` × 32) | $(ratio "$grove_true" "$git_worktrees") | $target |"
done
cd "$scratch/tiny"

# 3. Memory: a task printing 500 MB, against the same run of a task printing nothing.
big_rss=$(median 2 "$grove" run --name big -- sh -c 'head -c 500000000 /dev/zero | tr "\0" x | fold -w 100')
small_rss=$(median 2 "$grove" run --name small -- true)
echo "| task printing 500 MB: grove max RSS | $((big_rss / 1024)) MiB | $((small_rss / 1024)) MiB (a task printing nothing) | $(ratio "$big_rss" "$small_rss") | ≈ 1 (output streams to the log) |"
