#!/bin/sh
# add-section.sh FILE HEADING — a pretend coding agent for the demo (Fixtures/demo.sh).
#
# Reads its task from $GROVE_INSTRUCTIONS, appends a section `## HEADING` holding the
# instructions to FILE, and commits it itself ("Docs: HEADING section in FILE"). Prints its
# progress, pausing $DEMO_PAUSE seconds (default 0.7) between steps. Exit 0.
set -eu
file=$1
heading=$2
pause() { sleep "${DEMO_PAUSE:-0.7}"; }

echo "reading the task: ${GROVE_INSTRUCTIONS:-}"
pause
echo "reading $file ($(wc -l <"$file" | tr -d ' ') lines)"
pause
printf '\n## %s\n\n%s.\n' "$heading" "${GROVE_INSTRUCTIONS:-No instructions}" >>"$file"
echo "added the section \"$heading\""
pause
git add -- "$file"
git commit -q -m "Docs: $heading section in $file"
echo "committed: $(git log -1 --format=%s)"
