#!/bin/sh
# migrate.sh — a pretend coding agent for the demo (Fixtures/demo.sh) that fails.
#
# Reads its task from $GROVE_INSTRUCTIONS, commits a first step (migrations/001-users.sql),
# then runs its own "tests", which find a problem it cannot solve: it says so on stderr and
# exits 1. Its commit stays on its branch, so `grove clean` keeps that branch. Prints its
# progress, pausing $DEMO_PAUSE seconds (default 0.7) between steps.
set -eu
pause() { sleep "${DEMO_PAUSE:-0.7}"; }

echo "reading the task: ${GROVE_INSTRUCTIONS:-}"
pause
mkdir -p migrations
printf 'ALTER TABLE users ADD COLUMN email TEXT;\n' >migrations/001-users.sql
git add migrations
git commit -q -m "Migrations: add users.email (step 1 of 2)"
echo "step 1 of 2 committed: migrations/001-users.sql"
pause
echo "step 2 of 2: backfilling users.email"
pause
echo "running the migration tests"
pause
echo "error: users.email has no source for 3 of 12 rows; I need a person to decide" >&2
exit 1
