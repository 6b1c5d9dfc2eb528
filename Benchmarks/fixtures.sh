#!/usr/bin/env bash
# Benchmarks/fixtures.sh — the fixture repositories of Benchmarks/run.sh, built on top of
# Fixtures/make-repo.sh. Deterministic contents; every repository ignores the caller's git
# configuration (run.sh exports GIT_CONFIG_GLOBAL=/dev/null, GIT_CONFIG_NOSYSTEM=1).
#
#   fixtures.sh large DIR FILES
#       make-repo.sh DIR FILES 0, then one more commit on main adding ~4.8 MB of larger files
#       under assets/ (the "few MB of larger files" of a real repository), main checked out.
#   fixtures.sh stale DIR WTDIR FIRST COUNT
#       B5's repository: make-repo.sh DIR 20 0 with COUNT linked worktrees WTDIR/1..COUNT, each
#       on its own branch work/K made from main with one commit. Worktree K has the global
#       number G = FIRST + K - 1, and G mod 3 decides what it is:
#         0  stale: its branch is merged into main and it is clean
#         1  unmerged: its commit is in no other branch, clean
#         2  merged but dirty: its branch is merged, and it has an uncommitted change
#            (a modified tracked file for even G, an untracked file for odd G)
#       so "stale" means one thing for every tool: clean, and its branch's own commit is in
#       main. Prints the stale worktrees' paths, one a line.
#
# Exit status: 0 success, 2 bad arguments, other: a git failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
make_repo=$here/../Fixtures/make-repo.sh
export LC_ALL=C

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# blob_text SEED BYTES → BYTES of deterministic, poorly compressible text (hex digits), so the
# larger files cost in the object store and on checkout what real binary-ish assets cost.
blob_text() {
    awk -v seed="$1" -v bytes="$2" 'BEGIN {
        srand(seed)
        lines = int(bytes / 33)
        for (i = 0; i < lines; i++)
            printf "%08x%08x%08x%08x\n", rand() * 4294967295, rand() * 4294967295, rand() * 4294967295, rand() * 4294967295
    }'
}

large() {
    [ $# -eq 2 ] || usage
    local dir=$1 files=$2
    "$make_repo" "$dir" "$files" 0 >/dev/null
    mkdir -p "$dir/assets"
    local seed=1 size
    for size in 262144 524288 1048576 1048576 2097152; do
        blob_text "$seed" "$size" >"$dir/assets/blob-$seed.txt"
        seed=$((seed + 1))
    done
    git -C "$dir" add assets
    # Fixed identity and date (the environment wins over any config): the same commit id on
    # every run.
    GIT_AUTHOR_NAME=Fixture GIT_AUTHOR_EMAIL=fixture@example.com GIT_AUTHOR_DATE='1700000100 +0000' \
        GIT_COMMITTER_NAME=Fixture GIT_COMMITTER_EMAIL=fixture@example.com GIT_COMMITTER_DATE='1700000100 +0000' \
        git -C "$dir" commit -q -m "Add larger files"
}

stale() {
    [ $# -eq 4 ] || usage
    local dir=$1 wtdir=$2 first=$3 count=$4
    # `git -C DIR worktree add` reads a relative path from DIR: make it absolute first.
    case $wtdir in /*) ;; *) wtdir=$PWD/$wtdir ;; esac
    "$make_repo" "$dir" 20 0 >/dev/null
    mkdir -p "$wtdir"
    local k g wt file merged=() stale_paths=()
    for k in $(seq "$count"); do
        g=$((first + k - 1))
        wt=$wtdir/$k
        git -C "$dir" worktree add -q -b "work/$k" "$wt" main
        file=$(printf 'src/d000/f%05d.txt' $(((k - 1) % 20)))
        echo "change $k" >>"$wt/$file"
        git -C "$wt" commit -q -a -m "work $k"
        case $((g % 3)) in
            0) merged+=("work/$k"); stale_paths+=("$wt") ;;
            1) ;;
            2) merged+=("work/$k") ;;
        esac
    done
    # One octopus merge lands every branch meant to be merged (they touch different files).
    if [ ${#merged[@]} -gt 0 ]; then
        git -C "$dir" merge -q --no-edit "${merged[@]}" >/dev/null
    fi
    # The dirty ones get their change after the merge, so only their working tree differs.
    for k in $(seq "$count"); do
        g=$((first + k - 1))
        [ $((g % 3)) -eq 2 ] || continue
        if [ $((g % 2)) -eq 0 ]; then
            echo "uncommitted" >>"$wtdir/$k/README.md"
        else
            echo "uncommitted" >"$wtdir/$k/notes.txt"
        fi
    done
    [ ${#stale_paths[@]} -eq 0 ] || printf '%s\n' "${stale_paths[@]}"
}

[ $# -ge 1 ] || usage
command=$1
shift
case $command in
    large) large "$@" ;;
    stale) stale "$@" ;;
    *) usage ;;
esac
