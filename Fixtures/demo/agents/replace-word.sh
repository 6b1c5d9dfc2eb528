#!/bin/sh
# replace-word.sh FROM TO DIR — a pretend coding agent for the demo (Fixtures/demo.sh).
#
# Reads its task from $GROVE_INSTRUCTIONS, replaces the word FROM with TO in every tracked
# file under DIR, one file at a time, and commits ("Style: FROM → TO in DIR"). Prints its
# progress, pausing $DEMO_PAUSE seconds (default 0.7). Exit 0; 1 if no file contains FROM.
set -eu
from=$1
to=$2
dir=$3
pause() { sleep "${DEMO_PAUSE:-0.7}"; }

echo "reading the task: ${GROVE_INSTRUCTIONS:-}"
pause
files=$(git grep -l -w -e "$from" -- "$dir" || true)
[ -n "$files" ] || { echo "no file under $dir says \"$from\"" >&2; exit 1; }
echo "$(echo "$files" | wc -l | tr -d ' ') files under $dir say \"$from\""
pause
for f in $files; do
    sed "s/\\<$from\\>/$to/g" "$f" >"$f.new" && mv "$f.new" "$f"
done
echo "replaced \"$from\" with \"$to\""
pause
git commit -q -a -m "Style: $from → $to in $dir"
echo "committed: $(git log -1 --format=%s)"
