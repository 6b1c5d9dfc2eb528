#!/usr/bin/env bash
# demo.sh [DIR] — grove's main job end to end, on a repository it makes, printing each
# command before it runs it (`+ grove run grove.yaml`), so a newcomer learns grove by watching.
# `make demo` builds the release binary and runs it.
#
#   DIR       where to put the demo: must not exist, or be an empty directory
#             (default: a new directory ${TMPDIR:-/tmp}/grove-demo.XXXXXX). It is kept at the end,
#             to look around in; the last lines say how to remove it.
#   GROVE     the grove binary to use (default: .build/release/grove of this checkout)
#   DEMO_PAUSE  seconds the pretend agents pause between steps (default 0.7; 0 for tests)
#
# What it does, in DIR:
#   1. Fixtures/make-repo.sh makes a repository `repo` (main, 8 files); one commit adds the
#      demo's task file grove.yaml, its pretend agents agents/*.sh and its tests check.sh
#      (all from Fixtures/demo/);
#   2. with its own grove home (GROVE_HOME=DIR/home): grove run grove.yaml (eight tasks;
#      one fails), grove status, grove logs, grove merge --plan, grove merge --check
#      "sh check.sh" (six land, one conflicts), grove report, grove clean;
#   3. checks with the git CLI that it all ended as designed.
#
# Exit status: 0 everything behaved as designed (grove's own exit 1 for the failed and the
# conflicting task is expected); 1 grove or git did something else (the message says what);
# 2 bad arguments, a DIR in use, or no grove binary.
set -euo pipefail

prog=${0##*/}
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/Fixtures
GROVE=${GROVE:-$root/.build/release/grove}

die() {
    printf '%s: %s\n' "$prog" "$1" >&2
    exit "${2:-1}"
}

[ $# -le 1 ] || die "usage: $prog [DIR]  (GROVE=path/to/grove, DEMO_PAUSE=seconds)" 2
case ${1:-} in -*) die "usage: $prog [DIR]  (GROVE=path/to/grove, DEMO_PAUSE=seconds)" 2 ;; esac
[ -x "$GROVE" ] || die "no grove binary at $GROVE; run \`make release\` first, or set GROVE=path/to/grove" 2
GROVE=$(cd "$(dirname "$GROVE")" && pwd)/$(basename "$GROVE")

if [ $# -eq 1 ]; then
    demo=$1
    if [ -e "$demo" ] || [ -L "$demo" ]; then
        [ -d "$demo" ] || die "$demo exists and is not a directory; give a new or empty directory" 2
        [ -z "$(ls -A -- "$demo")" ] || die "$demo is not empty; give a new or empty directory" 2
    fi
    mkdir -p -- "$demo"
else
    demo=$(mktemp -d "${TMPDIR:-/tmp}/grove-demo.XXXXXX")
fi
demo=$(cd "$demo" && pwd)

# The demo ignores your git configuration (signing, hooks, templates), as Fixtures/ do.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
    GIT_COMMON_DIR GIT_NAMESPACE GIT_CEILING_DIRECTORIES GIT_TEMPLATE_DIR GIT_CONFIG \
    GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT 2>/dev/null || true
unset GROVE_HOME

# A word as a shell would need it: bare when safe, else in single quotes.
quote() {
    local out="" word
    for word in "$@"; do
        if [[ $word =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            out+=" $word"
        else
            out+=" '${word//\'/\'\\\'\'}'"
        fi
    done
    printf '%s' "${out# }"
}

# What the demo says between commands.
say() {
    echo
    printf '# %s\n' "$@"
}

# step STATUS CMD...: prints `+ CMD`, runs it, and ends the demo unless it exits STATUS.
step() {
    local want=$1 status=0
    shift
    printf '+ %s\n' "$(quote "$@")"
    "$@" || status=$?
    if [ "$status" -ne "$want" ]; then
        die "\`$(quote "$@")\` exited $status; the demo expects $want. It stopped here; $demo holds what it made."
    fi
}

grove() { "$GROVE" "$@"; }

# expect WHAT ACTUAL EXPECTED: the final checks.
expect() {
    [ "$2" = "$3" ] || die "$1 is not as designed:
--- expected
$3
--- found
$2
$demo holds what the demo made."
}

say "grove demo in $demo (grove: $GROVE)" \
    "A repository to work on: main with 8 generated files, then the demo's task file," \
    "its pretend coding agents and its tests."
step 0 "$fixtures/make-repo.sh" "$demo/repo" 8 0
step 0 cp -R "$fixtures/demo/grove.yaml" "$fixtures/demo/check.sh" "$fixtures/demo/agents" "$demo/repo/"
step 0 cd "$demo/repo"
step 0 git add grove.yaml check.sh agents
step 0 git commit -q -m "Demo: task file, pretend agents and tests"
start=$(git rev-parse HEAD)
step 0 cat grove.yaml

say "grove keeps its state, worktrees and logs in its home; this demo has its own."
step 0 export GROVE_HOME="$demo/home"

say "Run the eight tasks, four at a time, each in its own worktree on its own branch." \
    "migrate-users is designed to fail, so grove run exits 1."
step 1 grove run grove.yaml

say "What each task did (run 1 is the latest run; --json for scripts)."
step 0 grove status
say "The failed task's output; its worktree and its commit are kept."
step 0 grove logs migrate-users

say "Before landing: the order, and the conflicts grove predicts. Changes nothing."
step 0 grove merge --plan

say "Land the succeeded tasks one at a time: each is rebased onto main in memory," \
    "checked in its worktree with the repository's tests, then main moves to it." \
    "settings-strict conflicts with settings-retries, which lands first, so grove merge exits 1."
step 1 grove merge --check "sh check.sh"

say "The run's report: times, tasks, diffstats, the end of each log."
step 0 grove report

say "Remove the run's worktrees and landed branches. The branches of settings-strict and" \
    "migrate-users hold commits found nowhere else, so grove keeps them and exits 1."
step 1 grove clean

say "What is left, seen by git itself."
step 0 git log --oneline main
step 0 git branch --list 'grove/*'
step 0 git worktree list

# The outcome must be exactly the designed one.
states='
import json, sys
for task in json.load(sys.stdin)["tasks"]:
    print(task["name"], task["state"], (task["merge"] or {}).get("result", "-"))'
expect "main's new commits (oldest first)" "$(git log --reverse --format=%s "$start..main")" \
    "grove: add-license (run 1)
Docs: Usage section in README.md
grove: changelog (run 1)
Settings: retries = 3
Style: alpha → Alpha in src/d000
grove: docs-faq (run 1)"
expect "the branches left" "$(git for-each-ref --format='%(refname:short)' refs/heads/)" \
    "grove/1/migrate-users
grove/1/settings-strict
main"
expect "the worktrees left" "$(git worktree list --porcelain | grep -c '^worktree ')" "1"
expect "the work tree of main" "$(git status --porcelain)" ""
expect "the tasks' states" "$(grove status --json | python3 -c "$states")" \
    "add-license succeeded landed
readme-usage succeeded landed
changelog succeeded landed
settings-retries succeeded landed
settings-strict succeeded conflict
style-alpha succeeded landed
migrate-users failed -
docs-faq succeeded landed"

say "The demo behaved as designed: 6 tasks landed on main, settings-strict conflicted," \
    "migrate-users failed. Everything is in $demo:" \
    "  cd $demo/repo && git log --graph --oneline --all" \
    "  GROVE_HOME=$demo/home $GROVE status" \
    "Remove it with: rm -rf $demo"
