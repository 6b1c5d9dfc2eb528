#!/usr/bin/env bash
# shellcheck disable=SC2317 # the scenarios and their helpers are called indirectly ("$id", measure "$@")
# Benchmarks/run.sh — `make bench` / `make bench-quick`: grove's speed and memory on seven
# scenarios, each figure a ratio against a baseline that does the same job with the git CLI (or
# all-repos), measured in the same invocation. These machines are shared and noisy, so only
# same-run ratios mean anything: grove and baseline runs alternate (grove, baseline, grove, …),
# each on a fixture of its own, and the medians of the pairs are compared.
#
#   Benchmarks/run.sh [--quick] [--only B3,B5]
#   REPEAT=N      pairs per scenario (default 5; 2 with --quick)
#   GROVE=PATH    a grove binary other than .build/release/grove
#   BENCH_RESULTS=PATH   where the JSON goes (default: bench-results.json in the repository)
#   ALLREPOS_VENV=DIR    the all-repos virtualenv (default /tmp/grove-bench-cache/all-repos-1.33.0,
#                        created once with `pip install all-repos==1.33.0`, then reused)
#
# Prints progress on stderr and a Markdown table on stdout, and writes bench-results.json.
# --quick runs smaller fixtures (see `sizes` below) for a ~1 minute smoke run; its ratios are
# not comparable with the targets, which are set for the full sizes.
#
# Exit status: 0 every scenario ran and was verified (targets met or not); 1 a scenario failed
# or a side did not do the job; 2 bad arguments.
set -euo pipefail

prog=${0##*/}
usage() {
    sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'
}
die_usage() {
    printf '%s: %s\n' "$prog" "$1" >&2
    usage >&2
    exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/Benchmarks
make_repo=$root/Fixtures/make-repo.sh
fixtures=$bench/fixtures.sh
grove=${GROVE:-$root/.build/release/grove}
results_json=${BENCH_RESULTS:-$root/bench-results.json}
allrepos_version=1.33.0
allrepos_venv=${ALLREPOS_VENV:-/tmp/grove-bench-cache/all-repos-$allrepos_version}
all_ids=(B1 B2 B3 B4 B5 B6 B7)

quick=0
only=""
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1; shift ;;
        --only)
            [ $# -ge 2 ] || die_usage "--only needs a list, e.g. --only B3,B5"
            only=$2; shift 2 ;;
        --only=*) only=${1#--only=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1" ;;
    esac
done

selected=()
if [ -n "$only" ]; then
    IFS=, read -r -a wanted <<<"$only"
    for id in "${wanted[@]}"; do
        id=${id^^}
        [[ " ${all_ids[*]} " == *" $id "* ]] || die_usage "--only: no scenario $id (there are ${all_ids[*]})"
        selected+=("$id")
    done
else
    selected=("${all_ids[@]}")
fi

# Sizes: the issue's for the full run; small ones for --quick, whose point is that every
# scenario, fixture and verification still works.
if [ "$quick" -eq 1 ]; then
    pairs=${REPEAT:-2}
    b1_tasks=16 b1_files=2000
    b2_tasks=32
    b3_branches=20 b3_files=5000
    b4_worktrees=8 b4_files=5000
    b5_repos=30 b5_worktrees=10
    b6_repos=20
    b7_bytes=200000000 b7_tasks=100
else
    pairs=${REPEAT:-5}
    b1_tasks=32 b1_files=2000
    b2_tasks=32
    b3_branches=100 b3_files=15000
    b4_worktrees=16 b4_files=15000
    b5_repos=100 b5_worktrees=10
    b6_repos=50
    b7_bytes=500000000 b7_tasks=500
fi
[[ $pairs =~ ^[1-9][0-9]{0,2}$ ]] || die_usage "REPEAT must be a positive integer: '$pairs'"

[ -x "$grove" ] || { echo "$prog: $grove is missing; run \`make release\` first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$prog: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
grove=$(cd "$(dirname "$grove")" && pwd)/$(basename "$grove")

# Fixtures live in /dev/shm (a tmpfs) when there is one: a disk's write-back and ext4's slowdown
# after large deletes would skew later repeats. Everything goes at the end, however we end.
scratch_parent=/dev/shm
[ -d "$scratch_parent" ] && [ -w "$scratch_parent" ] || scratch_parent=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$scratch_parent/grove-bench.XXXXXX")
cleanup() {
    cd /
    rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pip reads the host's pip configuration (index, wheel cache) from the real HOME: keep it for
# the one-time virtualenv install.
host_home=$HOME

# Nothing of the host's git or grove configuration reaches the measurements: git reads no global
# or system config, libgit2 (which ignores GIT_CONFIG_GLOBAL) reads $HOME/.gitconfig, which is
# ours. Fixed identities for both.
export HOME=$scratch/home TMPDIR=$scratch/tmp LC_ALL=C NO_COLOR=1
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
    GIT_COMMON_DIR GIT_CEILING_DIRECTORIES GROVE_HOME GROVE_TOKEN 2>/dev/null || true
mkdir -p "$HOME" "$TMPDIR" "$scratch/logs" "$scratch/results"
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n' >"$HOME/.gitconfig"
logs=$scratch/logs
results=$scratch/results
cd "$scratch"

note() { printf '%s: %s\n' "$prog" "$*" >&2; }

# elapsed START → seconds since START (an $EPOCHREALTIME), three decimals.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# run_logged LOG CMD... — runs CMD under /usr/bin/time -v with its output appended to LOG, and
# raises side_rss_kb to its max RSS. A failing CMD fails the scenario, with LOG's end shown.
side_rss_kb=0
run_logged() {
    local log=$1
    shift
    run_capture "$log" "$log" "$@"
}

# run_capture OUT LOG CMD... — run_logged with CMD's stdout to OUT (e.g. JSON to parse).
run_capture() {
    local out=$1 log=$2 rc=0 kb
    shift 2
    /usr/bin/time -v -o "$scratch/time-v" "$@" >>"$out" 2>>"$log" || rc=$?
    if [ "$rc" -ne 0 ]; then
        note "\`$*\` exited with status $rc; the end of its output ($log):"
        tail -n 25 "$log" >&2
        return 1
    fi
    kb=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$scratch/time-v")
    if [ "${kb:-0}" -gt "$side_rss_kb" ]; then side_rss_kb=$kb; fi
}

# measure ID SIDE PAIR CMD... — runs CMD (a function or a command) and records one sample:
# its wall time and the largest max RSS of the commands it ran through run_logged.
measure() {
    local id=$1 side=$2 pair=$3 start wall
    shift 3
    side_rss_kb=0
    start=$EPOCHREALTIME
    "$@"
    wall=$(elapsed "$start")
    cd "$scratch"
    printf '%s\t%s\t%s\t%s\n' "$side" "$pair" "$wall" "$side_rss_kb" >>"$results/$id.samples"
    note "$id pair $pair/$pairs: $side $wall s, max RSS $((side_rss_kb / 1024)) MiB"
}

# verify ID PAIR WHAT GROVE_STATE BASELINE_STATE [EXPECTED] — a fast wrong answer is a failure:
# both sides must leave the same state (and the expected one when the fixture knows it).
verify() {
    local id=$1 pair=$2 what=$3 g=$4 b=$5 expected=${6:-}
    if [ "$g" != "$b" ] || { [ -n "$expected" ] && [ "$g" != "$expected" ]; }; then
        note "$id pair $pair: wrong $what"
        note "  grove:    $g"
        note "  baseline: $b"
        [ -z "$expected" ] || note "  expected: $expected"
        printf 'pair %s: %s (grove: %s; baseline: %s%s)\n' "$pair" "$what" "$g" "$b" \
            "${expected:+; expected: $expected}" >>"$results/$id.wrong"
    fi
}

# median ID SIDE FIELD → the median of a side's samples (field 3: wall seconds, 4: max RSS KiB).
median() {
    awk -F'\t' -v side="$2" -v f="$3" '$1 == side { print $f }' "$results/$1.samples" | sort -g \
        | awk '{ v[NR] = $1 } END { if (NR == 0) print "0"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# result ID KEY VALUE — one field of a scenario's result (assembled into the table and JSON).
result() { printf '%s\t%s\n' "$2" "$(printf '%s' "$3" | tr '\t\n' '  ')" >>"$results/$1.result"; }

# finish_ratio ID TITLE TARGET — the result of a grove-vs-baseline scenario: ratio of the
# medians, met when it is at most TARGET and every pair was verified.
finish_ratio() {
    local id=$1 title=$2 target=$3 g b ratio verified=yes met
    g=$(median "$id" grove 3)
    b=$(median "$id" baseline 3)
    ratio=$(awk -v g="$g" -v b="$b" 'BEGIN { printf "%.3f", (b > 0 ? g / b : 0) }')
    [ ! -s "$results/$id.wrong" ] || verified=no
    met=$(awk -v r="$ratio" -v t="$target" -v v="$verified" 'BEGIN { print (v == "yes" && r <= t) ? "yes" : "no" }')
    result "$id" title "$title"
    result "$id" grove_median_s "$g"
    result "$id" baseline_median_s "$b"
    result "$id" ratio "$ratio"
    result "$id" target "≤ $target"
    result "$id" met "$met"
    result "$id" verified "$verified"
    result "$id" grove_max_rss_kb "$(median "$id" grove 4)"
    result "$id" baseline_max_rss_kb "$(median "$id" baseline 4)"
}

# worktree_count REPO → the worktrees git knows (the main one included).
worktree_count() { git -C "$1" worktree list --porcelain | grep -c '^worktree '; }

# restore PRISTINE DEST — a fresh copy of a prepared repository (and anything beside it, at the
# same absolute paths, so grove's state still names it). cp changes every file's ctime, which
# git's index records: refresh it, so neither side pays for re-hashing what did not change.
restore() {
    rm -rf "$2"
    cp -a "$1" "$2"
    if [ -d "$2/.git" ]; then git -C "$2" update-index -q --refresh >/dev/null || true; fi
}

# ---------------------------------------------------------------------------------------------
# B1 whole job: N tasks on a 2,000-file repository, each a worktree + branch with a one-line edit
# committed; a serial merge of all; clean. grove run + merge + clean vs baselines/B1.sh.

# Task K sets line 1 of src/d000/fKKKKK.txt (K from grove's task name e-K), like the baseline.
# shellcheck disable=SC2016 # expanded by the task's shell
b1_edit='n=${GROVE_TASK##*-}; f=$(printf "src/d000/f%05d.txt" "$n"); sed -i "1s/.*/edited by task $n/" "$f"'

b1_grove() {
    local dir=$1 log=$2
    cd "$dir/repo"
    run_logged "$log" "$grove" run --count "$b1_tasks" --name e -- sh -c "$b1_edit"
    run_logged "$log" "$grove" merge
    run_logged "$log" "$grove" clean
}

# b1_state REPO → what the job must leave: main's tree, commits on main, worktrees, branches.
b1_state() {
    printf 'tree %s, %s commits on main, %s worktree(s), %s branch(es)' \
        "$(git -C "$1" rev-parse 'main^{tree}')" "$(git -C "$1" rev-list --count main)" \
        "$(worktree_count "$1")" "$(git -C "$1" for-each-ref refs/heads | wc -l)"
}

B1() {
    local dir=$scratch/b1 p log g b
    for p in $(seq "$pairs"); do
        rm -rf "$dir" && mkdir -p "$dir"
        "$make_repo" "$dir/repo" "$b1_files" 0 >/dev/null
        export GROVE_HOME=$dir/home
        log=$logs/B1-grove-$p.log
        measure B1 grove "$p" b1_grove "$dir" "$log"
        g=$(b1_state "$dir/repo")

        rm -rf "$dir" && mkdir -p "$dir"
        "$make_repo" "$dir/repo" "$b1_files" 0 >/dev/null
        log=$logs/B1-baseline-$p.log
        measure B1 baseline "$p" run_logged "$log" "$bench/baselines/B1.sh" "$dir/repo" "$dir/wt" "$b1_tasks"
        b=$(b1_state "$dir/repo")
        verify B1 "$p" "the final state" "$g" "$b"
    done
    rm -rf "$dir"
    finish_ratio B1 "B1 whole job: $b1_tasks tasks, $b1_files-file repo (run + merge + clean)" 0.6
}

# ---------------------------------------------------------------------------------------------
# B2 parallel speedup: N × `sleep 1` at -j N in a 12-file repository (so the figure is grove's
# own scheduling, not checkouts). The baseline is the ideal: 1.0 s.

B2() {
    local dir=$scratch/b2 p log g wall overhead met verified=yes count
    for p in $(seq "$pairs"); do
        rm -rf "$dir" && mkdir -p "$dir"
        "$make_repo" "$dir/repo" 10 0 >/dev/null
        export GROVE_HOME=$dir/home
        log=$logs/B2-grove-$p.log
        cd "$dir/repo"
        measure B2 grove "$p" run_logged "$log" "$grove" run --count "$b2_tasks" --name s -j "$b2_tasks" -- sleep 1
        printf 'baseline\t%s\t1.000\t0\n' "$p" >>"$results/B2.samples"
        # Every task ran (exit 0 says they succeeded) in a worktree of its own, and slept.
        count=$(worktree_count "$dir/repo")
        wall=$(awk -F'\t' -v p="$p" '$1 == "grove" && $2 == p { print $3 }' "$results/B2.samples")
        if [ "$count" -ne $((b2_tasks + 1)) ] || awk -v w="$wall" 'BEGIN { exit !(w < 1.0) }'; then
            printf 'pair %s: %s worktrees, wall %s s\n' "$p" "$count" "$wall" >>"$results/B2.wrong"
        fi
    done
    rm -rf "$dir"
    g=$(median B2 grove 3)
    overhead=$(awk -v w="$g" -v n="$b2_tasks" 'BEGIN { printf "%.1f", (w - 1.0) * 1000 / n }')
    [ ! -s "$results/B2.wrong" ] || verified=no
    met=$(awk -v w="$g" -v o="$overhead" -v v="$verified" 'BEGIN { print (v == "yes" && w <= 1.5 && o <= 10) ? "yes" : "no" }')
    result B2 title "B2 parallel speedup: $b2_tasks × sleep 1, -j $b2_tasks (wall; overhead per task)"
    result B2 grove_median_s "$g"
    result B2 baseline_median_s 1.000
    result B2 baseline_kind "ideal"
    result B2 ratio "$(awk -v g="$g" 'BEGIN { printf "%.3f", g }')"
    result B2 overhead_per_task_ms "$overhead"
    result B2 target "wall ≤ 1.5 s; overhead ≤ 10 ms/task"
    result B2 met "$met"
    result B2 verified "$verified"
    result B2 grove_max_rss_kb "$(median B2 grove 4)"
}

# ---------------------------------------------------------------------------------------------
# B3 merge queue only: N one-commit branches of a grove run on the 15,000-file repository, landed
# by `grove merge` vs baselines/B3.sh (rebase + merge --ff-only per branch) on the same branches.
#
# The fixture is made once: a grove run of N tasks (each adds tasks/<task>.txt), whose worktrees
# `grove clean` then removes (the branches stay: their commits are nowhere else). Both sides get
# a fresh copy of that repository (and grove its state), so both land branches without
# worktrees, and grove's merge has no worktree to remove that the baseline would not.

b3_grove() {
    cd "$1"
    run_logged "$2" "$grove" merge
}

b3_state() {
    printf 'tree %s, %s commits on main' "$(git -C "$1" rev-parse 'main^{tree}')" "$(git -C "$1" rev-list --count main)"
}

B3() {
    local dir=$scratch/b3 p log g b rc=0 branches
    rm -rf "$dir" && mkdir -p "$dir"
    note "B3: preparing a grove run of $b3_branches one-commit tasks on a $b3_files-file repository"
    # Until grove clean, the run's worktrees all exist: ~85 MB each on tmpfs at 15,000 files
    # (8.5 GB for the full run). Say so rather than fail half-way on a full /dev/shm.
    local need_kb=$((b3_branches * (b3_files * 5 + 6000) + 1000000)) avail_kb
    avail_kb=$(df -Pk "$scratch" | awk 'NR == 2 { print $4 }')
    if [ "$avail_kb" -lt "$need_kb" ]; then
        note "B3: $scratch has $((avail_kb / 1024)) MiB free; the fixture needs about $((need_kb / 1024)) MiB"
    fi
    "$fixtures" large "$dir/repo" "$b3_files"
    export GROVE_HOME=$dir/home
    cd "$dir/repo"
    # shellcheck disable=SC2016 # expanded by the task's shell
    "$grove" run --count "$b3_branches" --name t -- \
        sh -c 'mkdir -p tasks && echo "work of $GROVE_TASK" >"tasks/$GROVE_TASK.txt"' >"$logs/B3-fixture.log" 2>&1
    # grove clean exits 1 here by design: it keeps the branches (commits found nowhere else).
    "$grove" clean >>"$logs/B3-fixture.log" 2>&1 || rc=$?
    cd "$scratch"
    if [ "$rc" -gt 1 ] || [ "$(worktree_count "$dir/repo")" -ne 1 ] \
        || [ "$(git -C "$dir/repo" for-each-ref refs/heads/grove | wc -l)" -ne "$b3_branches" ]; then
        note "B3: the fixture is not $b3_branches branches without worktrees (see $logs/B3-fixture.log)"
        tail -n 20 "$logs/B3-fixture.log" >&2
        return 1
    fi
    # Run order (t-1, t-2, …), as grove's queue lands them.
    mapfile -t branches < <(git -C "$dir/repo" for-each-ref --format='%(refname:short)' refs/heads/grove | sort -V)
    mv "$dir/repo" "$dir/pristine-repo"
    mv "$dir/home" "$dir/pristine-home"

    for p in $(seq "$pairs"); do
        restore "$dir/pristine-repo" "$dir/repo"
        restore "$dir/pristine-home" "$dir/home"
        log=$logs/B3-grove-$p.log
        measure B3 grove "$p" b3_grove "$dir/repo" "$log"
        g=$(b3_state "$dir/repo")

        rm -rf "${dir:?}/home"
        restore "$dir/pristine-repo" "$dir/repo"
        log=$logs/B3-baseline-$p.log
        measure B3 baseline "$p" run_logged "$log" "$bench/baselines/B3.sh" "$dir/repo" main "${branches[@]}"
        b=$(b3_state "$dir/repo")
        verify B3 "$p" "main after the queue" "$g" "$b"
    done
    rm -rf "$dir"
    finish_ratio B3 "B3 merge queue only: $b3_branches one-commit branches, $b3_files-file repo" 0.25
}

# ---------------------------------------------------------------------------------------------
# B4 worktree creation: N worktrees of the 15,000-file repository: `grove run --count N -- true`
# vs baselines/B4.sh (`git worktree add -b` × N, xargs -P cores).

# b4_state REPO → worktrees, how many have main's commit checked out, and how many of those
# are clean (every file written: a missing one would show as deleted).
b4_state() {
    local main wt clean=0
    main=$(git -C "$1" rev-parse main)
    while read -r wt; do
        if [ -z "$(git -C "$wt" status --porcelain)" ]; then clean=$((clean + 1)); fi
    done < <(git -C "$1" worktree list --porcelain | sed -n 's/^worktree //p')
    printf '%s worktree(s), %s at main, %s clean' "$(worktree_count "$1")" \
        "$(git -C "$1" worktree list --porcelain | grep -c "^HEAD $main")" "$clean"
}

B4() {
    local dir=$scratch/b4 p log g b expected
    rm -rf "$dir" && mkdir -p "$dir"
    "$fixtures" large "$dir/pristine" "$b4_files"
    expected="$((b4_worktrees + 1)) worktree(s), $((b4_worktrees + 1)) at main, $((b4_worktrees + 1)) clean"
    for p in $(seq "$pairs"); do
        rm -rf "${dir:?}/home" "$dir/wt"
        restore "$dir/pristine" "$dir/repo"
        export GROVE_HOME=$dir/home
        log=$logs/B4-grove-$p.log
        cd "$dir/repo"
        measure B4 grove "$p" run_logged "$log" "$grove" run --count "$b4_worktrees" --name w -- true
        g=$(b4_state "$dir/repo")

        rm -rf "${dir:?}/home" "$dir/wt"
        restore "$dir/pristine" "$dir/repo"
        log=$logs/B4-baseline-$p.log
        measure B4 baseline "$p" run_logged "$log" "$bench/baselines/B4.sh" "$dir/repo" "$dir/wt" "$b4_worktrees"
        b=$(b4_state "$dir/repo")
        verify B4 "$p" "the worktrees" "$g" "$b" "$expected"
    done
    rm -rf "$dir"
    finish_ratio B4 "B4 worktree creation: $b4_worktrees worktrees, $b4_files-file repo" 1.0
}

# ---------------------------------------------------------------------------------------------
# B5 stale scan: R repositories × W linked worktrees, a third of them stale (clean, branch
# merged into main; see fixtures.sh stale). `grove clean --stale --dry-run --no-size` vs
# baselines/B5.sh (worktree list + status + merge-base --is-ancestor per worktree).
#
# Both sides only read, so they share one fixture, settled first: after one `git status`
# everywhere no index is racily clean, so neither side rewrites one (checked after each side).

# stale_set LIST_FILE → "N stale, sha1 <of the sorted list>".
stale_set() {
    printf '%s stale, sha1 %s' "$(grep -c . "$1" || true)" "$(sort "$1" | sha1sum | cut -c1-12)"
}

# b5_grove_list JSON → the worktrees grove would remove, one a line.
b5_grove_list() {
    python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
if report.get("problems"):
    sys.exit("grove reported problems: %r" % report["problems"])
for item in report["items"]:
    if item.get("worktree") and item.get("worktree_action") == "remove":
        print(item["worktree"])
' "$1"
}

B5() {
    local dir=$scratch/b5 p log g b expected i
    rm -rf "$dir" && mkdir -p "$dir/repos" "$dir/wt" "$dir/expected"
    note "B5: preparing $b5_repos repositories × $b5_worktrees worktrees"
    # One repository per job, over the cores (fixture building only; not measured).
    # shellcheck disable=SC2016 # expanded by the job's shell
    seq "$b5_repos" | xargs -P "$(nproc)" -I{} sh -c '
        name=$(printf "r%03d" "$1")
        "$2" stale "$3/repos/$name" "$3/wt/$name" $((($1 - 1) * $4 + 1)) "$4" >"$3/expected/$name"
    ' sh {} "$fixtures" "$dir" "$b5_worktrees"
    cat "$dir"/expected/* >"$dir/expected.txt"
    expected=$(stale_set "$dir/expected.txt")
    # Settle: wait out the racy-git second, then one status everywhere.
    sleep 1
    for i in "$dir"/repos/* "$dir"/wt/*/*; do git -C "$i" status --porcelain >/dev/null; done
    touch "$dir/settled"

    for p in $(seq "$pairs"); do
        rm -rf "${dir:?}/home" "$dir/grove.json" "$dir/grove.txt" "$dir/baseline.txt"
        export GROVE_HOME=$dir/home
        log=$logs/B5-grove-$p.log
        measure B5 grove "$p" run_capture "$dir/grove.json" "$log" \
            "$grove" clean --stale --scan "$dir/repos" --depth 1 --dry-run --no-size --json
        b5_grove_list "$dir/grove.json" >"$dir/grove.txt"
        g=$(stale_set "$dir/grove.txt")

        log=$logs/B5-baseline-$p.log
        measure B5 baseline "$p" run_capture "$dir/baseline.txt" "$log" "$bench/baselines/B5.sh" "$dir/repos"
        b=$(stale_set "$dir/baseline.txt")
        verify B5 "$p" "the stale set" "$g" "$b" "$expected"
        if [ -n "$(find "$dir/repos" "$dir/wt" -name index -newer "$dir/settled" -print -quit)" ]; then
            note "B5 pair $p: an index was rewritten during the scans (the fixture was not settled)"
            result B5 note "an index was rewritten during a scan in pair $p"
        fi
    done
    rm -rf "$dir"
    finish_ratio B5 "B5 stale scan: $b5_repos repos × $b5_worktrees worktrees, a third stale" 0.3
}

# ---------------------------------------------------------------------------------------------
# B6 many repositories: R bare repositories of 40 files; clone each, a one-line sed fix,
# commit, land into main, push main back. grove run --repos-file + grove merge --push vs
# all-repos 1.33.0 (baselines/B6.sh: all-repos-clone + all-repos-sed, merge_to_master push).

b6_expr='s/Synthetic repository/Synthetic fixture repository/'

# ensure_allrepos — the all-repos virtualenv, made once and reused between runs. pip runs with
# the host's HOME so it sees the host's pip configuration (index, wheels).
ensure_allrepos() {
    if [ -x "$allrepos_venv/bin/all-repos-sed" ] && "$allrepos_venv/bin/python" -c \
        "import importlib.metadata as m, sys; sys.exit(m.version('all-repos') != '$allrepos_version')" 2>/dev/null; then
        return 0
    fi
    note "B6: installing all-repos $allrepos_version into $allrepos_venv"
    rm -rf "$allrepos_venv"
    mkdir -p "$(dirname "$allrepos_venv")"
    if ! python3 -m venv "$allrepos_venv" >"$logs/B6-venv.log" 2>&1 \
        || ! HOME=$host_home "$allrepos_venv/bin/pip" install -q "all-repos==$allrepos_version" >>"$logs/B6-venv.log" 2>&1; then
        note "B6: could not install all-repos $allrepos_version:"
        tail -n 20 "$logs/B6-venv.log" >&2
        rm -rf "$allrepos_venv"
        return 1
    fi
}

b6_grove() {
    local dir=$1 log=$2
    cd "$dir"
    run_logged "$log" "$grove" run --repos-file "$dir/repos.txt" -j 4 -- sed -i "$b6_expr" README.md
    run_logged "$log" "$grove" merge --push origin
}

# b6_state SOURCES ORIGINAL_MAIN → how many sources got the fix on main, fast-forward from the
# original main, and a digest of their main trees (the same fix gives the same trees).
b6_state() {
    local src=$1 original=$2 repo landed=0 trees=""
    for repo in "$src"/*.git; do
        if git -C "$repo" merge-base --is-ancestor "$original" main \
            && git -C "$repo" show main:README.md | grep -q 'Synthetic fixture repository'; then
            landed=$((landed + 1))
        fi
        trees+="$(git -C "$repo" rev-parse 'main^{tree}') "
    done
    printf '%s of %s landed, trees sha1 %s' "$landed" "$(find "$src" -maxdepth 1 -name '*.git' | wc -l)" \
        "$(printf '%s' "$trees" | sha1sum | cut -c1-12)"
}

B6() {
    local dir=$scratch/b6 p log g b i name original first
    ensure_allrepos
    rm -rf "$dir" && mkdir -p "$dir/pristine"
    for i in $(seq "$b6_repos"); do
        "$make_repo" --bare "$dir/pristine/r$i.git" 38 0 >/dev/null # 38 + README.md + conflict.txt
    done
    original=$(git -C "$dir/pristine/r1.git" rev-parse main) # make-repo.sh is deterministic
    for i in $(seq "$b6_repos"); do echo "file://$dir/src/r$i.git"; done >"$dir/repos.txt"
    # all-repos: a json_file source naming the same repositories (by path, as a user would).
    python3 - "$dir" "$b6_repos" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
json.dump({f"r{i}": f"{d}/src/r{i}.git" for i in range(1, n + 1)}, open(f"{d}/repos.json", "w"))
json.dump({"output_dir": f"{d}/out", "source": "all_repos.source.json_file",
           "source_settings": {"filename": f"{d}/repos.json"},
           "push": "all_repos.push.merge_to_master", "push_settings": {}},
          open(f"{d}/all-repos.json", "w"), indent=1)
PY
    chmod 600 "$dir/all-repos.json" # all-repos refuses a config others can read

    for p in $(seq "$pairs"); do
        rm -rf "${dir:?}/src" "${dir:?}/home" "${dir:?}/out"
        cp -a "$dir/pristine" "$dir/src"
        export GROVE_HOME=$dir/home
        log=$logs/B6-grove-$p.log
        measure B6 grove "$p" b6_grove "$dir" "$log"
        g=$(b6_state "$dir/src" "$original")
        first=${first:-$g}

        rm -rf "${dir:?}/src" "${dir:?}/home" "${dir:?}/out"
        cp -a "$dir/pristine" "$dir/src"
        log=$logs/B6-baseline-$p.log
        cd "$dir"
        measure B6 baseline "$p" run_logged "$log" "$bench/baselines/B6.sh" "$allrepos_venv" "$dir/all-repos.json" \
            "$b6_expr" README.md
        b=$(b6_state "$dir/src" "$original")
        name="$b6_repos of $b6_repos landed"
        verify B6 "$p" "what landed in the sources" "$g" "$b" "$name, ${first#*, }"
    done
    rm -rf "$dir"
    finish_ratio B6 "B6 many repos: $b6_repos bare repos, clone + sed fix + land + push (vs all-repos $allrepos_version)" 0.5
}

# ---------------------------------------------------------------------------------------------
# B7 memory: grove's max RSS for a task printing 500 MB (100-byte lines), and for 500 tasks of
# `true`, in a 12-file repository. No baseline: the target is absolute (≤ 64 MiB).

B7() {
    local dir=$scratch/b7 p log size count id rss met verified limit=$((64 * 1024))
    local line
    line=$(printf '%099d' 0)
    for p in $(seq "$pairs"); do
        rm -rf "$dir" && mkdir -p "$dir"
        "$make_repo" "$dir/repo" 10 0 >/dev/null
        export GROVE_HOME=$dir/home
        cd "$dir/repo"
        log=$logs/B7a-grove-$p.log
        measure B7a grove "$p" run_logged "$log" "$grove" run --name big -- sh -c "yes $line | head -c $b7_bytes"
        # The output went to the task's log, all of it.
        size=$(stat -c %s "$dir/home/logs/1/big.log" 2>/dev/null || echo 0)
        [ "$size" -ge "$b7_bytes" ] || printf 'pair %s: the log holds %s bytes\n' "$p" "$size" >>"$results/B7a.wrong"

        rm -rf "$dir" && mkdir -p "$dir"
        "$make_repo" "$dir/repo" 10 0 >/dev/null
        cd "$dir/repo"
        log=$logs/B7b-grove-$p.log
        measure B7b grove "$p" run_logged "$log" "$grove" run --count "$b7_tasks" --name t -- true
        count=$(worktree_count "$dir/repo")
        [ "$count" -eq $((b7_tasks + 1)) ] || printf 'pair %s: %s worktrees\n' "$p" "$count" >>"$results/B7b.wrong"
    done
    rm -rf "$dir"
    for id in B7a B7b; do
        rss=$(median "$id" grove 4)
        verified=yes
        [ ! -s "$results/$id.wrong" ] || verified=no
        met=$(awk -v r="$rss" -v l="$limit" -v v="$verified" 'BEGIN { print (v == "yes" && r <= l) ? "yes" : "no" }')
        if [ "$id" = B7a ]; then
            result "$id" title "B7 memory: a task printing $((b7_bytes / 1000000)) MB (max RSS)"
        else
            result "$id" title "B7 memory: $b7_tasks tasks of true (max RSS)"
        fi
        result "$id" grove_max_rss_kb "$rss"
        result "$id" grove_median_s "$(median "$id" grove 3)"
        result "$id" target "≤ 64 MiB"
        result "$id" met "$met"
        result "$id" verified "$verified"
    done
}

# ---------------------------------------------------------------------------------------------

started=$EPOCHREALTIME
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
note "scratch $scratch; $pairs pair(s) per scenario; $([ "$quick" -eq 1 ] && echo quick || echo full) sizes; ${selected[*]}"
status=0
for id in "${selected[@]}"; do
    note "$id: start"
    scenario_start=$EPOCHREALTIME
    # A failing scenario is reported and the others still run: errexit works in the subshell
    # only outside an `||`, hence the set +e around it.
    set +e
    (
        set -e
        "$id"
    )
    rc=$?
    set -e
    cd "$scratch"
    for r in "$results/$id".result "$results/$id"a.result "$results/$id"b.result; do
        if [ -f "$r" ]; then printf 'pairs\t%s\nseconds\t%s\n' "$pairs" "$(elapsed "$scenario_start")" >>"$r"; fi
    done
    if [ "$rc" -ne 0 ]; then
        status=1
        result "$id" title "$id"
        result "$id" met "no"
        result "$id" verified "no"
        result "$id" error "the scenario failed (exit $rc); see the messages above"
    fi
    if compgen -G "$results/$id*.wrong" >/dev/null; then status=1; fi
    note "$id: done in $(elapsed "$scenario_start") s"
done
total=$(elapsed "$started")

# The table on stdout, the JSON beside it.
python3 - "$results" "$results_json" "$quick" "$pairs" "$total" "$load_start" "$("$grove" --version 2>&1 | head -n 1 || true)" \
    "$(git --version)" "${selected[@]}" <<'PY'
import json, os, platform, subprocess, sys, time

results, out, quick, pairs, total, load, grove_version, git_version, *ids = sys.argv[1:]
rows = []
for id in ids:
    for sub in ([id + "a", id + "b"] if id == "B7" else [id]):
        path = os.path.join(results, sub + ".result")
        if not os.path.exists(path):
            continue
        fields = {}
        for line in open(path, encoding="utf-8"):
            key, _, value = line.rstrip("\n").partition("\t")
            fields[key] = value
        wrong = os.path.join(results, sub + ".wrong")
        if os.path.exists(wrong):
            fields["wrong"] = open(wrong, encoding="utf-8").read().strip().splitlines()
        rows.append((sub, fields))

def num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

def mib(kb):
    k = num(kb)
    return "—" if not k else f"{k / 1024:.0f} MiB"

machine = {
    "nproc": int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout),
    "kernel": platform.release(),
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "loadavg_at_start": load,
}
print(f"# grove bench — {machine['date']}, {machine['nproc']} cores, kernel {machine['kernel']}, "
      f"{'quick' if quick == '1' else 'full'} sizes, {pairs} pair(s), {float(total):.0f} s")
print()
print(f"{grove_version}; {git_version}; load average at start {load}")
print()
print("| scenario | grove median | baseline median | ratio grove/baseline | target | met? | grove max RSS |")
print("|---|---:|---:|---:|---|---|---:|")
scenarios = []
for sub, f in rows:
    title = f.get("title", sub)
    met = f.get("met", "no")
    mark = "yes" if met == "yes" else "**no**"
    if f.get("verified") == "no":
        mark += " (wrong result)" if "wrong" in f else " (failed)"
    if sub.startswith("B7"):
        grove_cell = mib(f.get("grove_max_rss_kb"))
        base_cell, ratio_cell = "—", "—"
    elif sub == "B2":
        grove_cell = f"{num(f.get('grove_median_s')) or 0:.2f} s ({f.get('overhead_per_task_ms', '?')} ms/task)"
        base_cell, ratio_cell = "1.00 s (ideal)", f"{num(f.get('ratio')) or 0:.2f}"
    elif "error" in f:
        grove_cell = base_cell = ratio_cell = "—"
    else:
        grove_cell = f"{num(f.get('grove_median_s')) or 0:.2f} s"
        base_cell = f"{num(f.get('baseline_median_s')) or 0:.2f} s"
        ratio_cell = f"{num(f.get('ratio')) or 0:.2f}"
    rss_cell = mib(f.get("grove_max_rss_kb"))
    print(f"| {title} | {grove_cell} | {base_cell} | {ratio_cell} | {f.get('target', '')} | {mark} | {rss_cell} |")
    entry = {
        "scenario": sub,
        "title": title,
        "grove_median_s": num(f.get("grove_median_s")),
        "baseline_median_s": num(f.get("baseline_median_s")),
        "ratio": num(f.get("ratio")) if not sub.startswith("B7") else None,
        "target": f.get("target"),
        "met": met == "yes",
        "verified": f.get("verified") == "yes",
        "pairs": int(f.get("pairs", pairs)),
        "grove_max_rss_kb": num(f.get("grove_max_rss_kb")),
        "baseline_max_rss_kb": num(f.get("baseline_max_rss_kb")),
        "seconds": num(f.get("seconds")),
    }
    for key in ("overhead_per_task_ms",):
        if key in f:
            entry[key] = num(f[key])
    for key in ("baseline_kind", "note", "error"):
        if key in f:
            entry[key] = f[key]
    if "wrong" in f:
        entry["wrong"] = f["wrong"]
    scenarios.append(entry)
for sub, f in rows:
    for line in f.get("wrong", []):
        print(f"\n{sub}: wrong result — {line}")
    if "note" in f:
        print(f"\n{sub}: {f['note']}")
    if "error" in f:
        print(f"\n{sub}: {f['error']}")
document = {
    "machine": machine,
    "grove_version": grove_version,
    "git_version": git_version,
    "quick": quick == "1",
    "pairs": int(pairs),
    "total_seconds": float(total),
    "scenarios": scenarios,
}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(document, handle, indent=2)
    handle.write("\n")
PY
note "wrote $results_json; total $total s"
exit "$status"
