#!/usr/bin/env bash
# make-repo.sh — build a synthetic, deterministic git repository for tests and benchmarks.
#
# Usage: make-repo.sh [--conflict LIST] [--bare] DIR FILES BRANCHES
#
#   DIR       where to create the repository; must not exist, or be an empty directory
#   FILES     number of generated files on main (src/dNNN/fNNNNN.txt, 100 per folder)
#   BRANCHES  number of task branches task-1 … task-N, one commit each on top of main
#   --conflict LIST   comma-separated branch numbers (e.g. 2,5) whose commit also rewrites
#                     line 1 of conflict.txt, so any two of them conflict with each other
#   --bare    create a bare repository (nothing checked out)
#
# Layout of main (one commit, "Initial commit"):
#   README.md, conflict.txt (5 lines), and FILES files src/dNNN/fNNNNN.txt
#   => `git ls-files | wc -l` == FILES + 2
# Branch task-K (one commit, "task-K: work"): adds tasks/task-K.txt, and for a
# --conflict branch, replaces line 1 of conflict.txt with "line 1: changed by task-K".
#
# Deterministic: fixed identity "Fixture <fixture@example.com>" and fixed dates, so
# commit ids are identical from run to run. The user's git config is ignored; the new
# repository gets a local user.name/user.email so later commits in it work.
# History is written with one `git fast-import` stream, so 15,000 files take seconds.
#
# Exit status: 0 success, 2 bad arguments (usage printed on stderr), other: git failure.
set -euo pipefail

prog=${0##*/}

usage() {
    cat <<EOF
usage: $prog [--conflict LIST] [--bare] DIR FILES BRANCHES

  DIR        new repository path (must not exist, or be empty)
  FILES      number of generated files on main (non-negative integer)
  BRANCHES   number of branches task-1..task-N (non-negative integer)
  --conflict LIST  comma-separated branch numbers (1..BRANCHES) that also rewrite
                   line 1 of conflict.txt, so they conflict with each other
  --bare     create a bare repository
EOF
}

die_usage() {
    printf '%s: %s\n' "$prog" "$1" >&2
    usage >&2
    exit 2
}

conflict_list=""
conflict_given=0
bare=0
positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --bare) bare=1; shift ;;
        --conflict)
            [ $# -ge 2 ] || die_usage "--conflict needs a value"
            conflict_list=$2; conflict_given=1; shift 2 ;;
        --conflict=*) conflict_list=${1#--conflict=}; conflict_given=1; shift ;;
        --) shift; positional+=("$@"); break ;;
        -?*) die_usage "unknown option: $1" ;;
        *) positional+=("$1"); shift ;;
    esac
done

[ ${#positional[@]} -eq 3 ] || die_usage "expected DIR FILES BRANCHES, got ${#positional[@]} argument(s)"
dir=${positional[0]}
files=${positional[1]}
branches=${positional[2]}

[ -n "$dir" ] || die_usage "DIR must not be empty"
is_count() { [[ $1 =~ ^[0-9]+$ ]] && [ ${#1} -le 9 ]; }
is_count "$files" || die_usage "FILES must be a non-negative integer: '$files'"
is_count "$branches" || die_usage "BRANCHES must be a non-negative integer: '$branches'"
files=$((10#$files))
branches=$((10#$branches))

# Validate --conflict into a ",2,5," lookup string for awk.
conflicts=","
if [ "$conflict_given" -eq 1 ]; then
    [ -n "$conflict_list" ] || die_usage "--conflict list is empty"
    IFS=, read -r -a items <<<"$conflict_list"
    for n in "${items[@]}"; do
        [[ $n =~ ^[0-9]+$ ]] && [ ${#n} -le 9 ] || die_usage "--conflict: not a branch number: '$n'"
        n=$((10#$n))
        [ "$n" -ge 1 ] && [ "$n" -le "$branches" ] ||
            die_usage "--conflict: branch $n out of range 1..$branches"
        conflicts="$conflicts$n,"
    done
fi

if [ -e "$dir" ] || [ -L "$dir" ]; then
    [ -d "$dir" ] || die_usage "DIR exists and is not a directory: $dir"
    [ -z "$(ls -A -- "$dir")" ] || die_usage "DIR exists and is not empty: $dir"
fi

# Isolate from the caller's git configuration and environment.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
      GIT_COMMON_DIR GIT_NAMESPACE GIT_CEILING_DIRECTORIES GIT_TEMPLATE_DIR GIT_CONFIG \
      GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT 2>/dev/null || true
export LC_ALL=C

if [ "$bare" -eq 1 ]; then
    git init -q --bare -b main -- "$dir"
else
    git init -q -b main -- "$dir"
fi
git -C "$dir" config user.name Fixture
git -C "$dir" config user.email fixture@example.com

# One fast-import stream: mark :1 is main's commit, task-K's commit is mark :K+1.
awk -v files="$files" -v branches="$branches" -v conflicts="$conflicts" '
function blob(path, content) {
    printf "M 100644 inline %s\ndata %d\n%s\n", path, length(content), content
}
function header(ref, mark, when, msg) {
    printf "commit %s\nmark :%d\n", ref, mark
    printf "author Fixture <fixture@example.com> %d +0000\n", when
    printf "committer Fixture <fixture@example.com> %d +0000\n", when
    printf "data %d\n%s\n", length(msg), msg
}
BEGIN {
    base = 1700000000
    header("refs/heads/main", 1, base, "Initial commit\n")
    blob("README.md", "# Fixture repository\n\nSynthetic repository generated by Fixtures/make-repo.sh.\n")
    conflict = "line 1: base\nline 2\nline 3\nline 4\nline 5\n"
    blob("conflict.txt", conflict)
    for (i = 0; i < files; i++) {
        path = sprintf("src/d%03d/f%05d.txt", int(i / 100), i)
        blob(path, sprintf("file %d\nalpha %d\nbeta %d\ngamma %d\n", i, i * 7 % 1000, i * 13 % 1000, i * 31 % 1000))
    }
    printf "\n"
    for (k = 1; k <= branches; k++) {
        header("refs/heads/task-" k, k + 1, base + 60 * k, "task-" k ": work\n")
        printf "from :1\n"
        blob("tasks/task-" k ".txt", "work of task-" k "\n")
        if (index(conflicts, "," k ",") > 0) {
            c = conflict
            sub(/^line 1: base\n/, "line 1: changed by task-" k "\n", c)
            blob("conflict.txt", c)
        }
        printf "\n"
    }
    printf "done\n"
}' | git -C "$dir" fast-import --quiet --done

if [ "$bare" -eq 0 ]; then
    # HEAD already points at refs/heads/main; populate the index and work tree.
    git -C "$dir" reset -q --hard main
fi
