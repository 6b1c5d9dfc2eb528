#!/bin/sh
# spawn-background.sh [SECONDS] — fake agent that leaves a background child behind.
#
# Starts `sleep SECONDS` (default 600) in the background; the child inherits, and so
# keeps open, this script's stdout and stderr. Prints the child's pid (a bare number on
# one line) on stdout and exits 0 at once. A runner that waits for EOF on the output
# pipe instead of the process exit would hang; a runner that kills the process group
# ends the child too.
secs=${1:-600}
sleep "$secs" &
echo "$!"
exit 0
