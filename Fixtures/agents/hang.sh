#!/bin/sh
# hang.sh [SECONDS] — fake agent that never finishes (for timeout / cancel tests).
#
# Prints "hang: $GROVE_TASK sleeping SECONDS s" on stdout, then replaces itself with
# `sleep SECONDS` (default 600), so the script's pid is the sleep's pid and a signal to
# it ends the task at once. Exit status is sleep's (0 if it ever completes).
# Env: GROVE_TASK (default "agent").
secs=${1:-600}
echo "hang: ${GROVE_TASK:-agent} sleeping $secs s"
exec sleep "$secs"
