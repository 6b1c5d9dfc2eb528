#!/bin/sh
# fail.sh [MESSAGE] — fake agent that fails.
#
# Prints a line on stdout, then MESSAGE (default "fail.sh: task $GROVE_TASK failed on
# purpose") on stderr, and exits with status 3. Changes nothing.
# Env: GROVE_TASK (default "agent").
task=${GROVE_TASK:-agent}
echo "fail: $task starting"
echo "${1:-fail.sh: task $task failed on purpose}" >&2
exit 3
