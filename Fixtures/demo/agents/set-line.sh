#!/bin/sh
# set-line.sh FILE N TEXT — a pretend coding agent for the demo (Fixtures/demo.sh).
#
# Reads its task from $GROVE_INSTRUCTIONS, replaces line N of FILE with TEXT and commits
# ("Settings: TEXT"). Two tasks that set the same line differently conflict when the second
# one is landed. Prints its progress, pausing $DEMO_PAUSE seconds (default 0.7). Exit 0.
set -eu
file=$1
line=$2
text=$3
pause() { sleep "${DEMO_PAUSE:-0.7}"; }

echo "reading the task: ${GROVE_INSTRUCTIONS:-}"
pause
echo "line $line of $file is now: $(sed -n "${line}p" "$file")"
pause
awk -v n="$line" -v text="$text" 'NR == n { print text; next } { print }' "$file" >"$file.new"
mv "$file.new" "$file"
echo "line $line of $file becomes: $text"
pause
git commit -q -a -m "Settings: $text"
echo "committed: $(git log -1 --format=%s)"
