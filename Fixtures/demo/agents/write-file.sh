#!/bin/sh
# write-file.sh FILE — a pretend coding agent for the demo (Fixtures/demo.sh).
#
# Reads its task from $GROVE_INSTRUCTIONS, writes FILE (a Markdown page titled after the
# file's name, with the instructions in it) and leaves it uncommitted: grove commits what a
# succeeded task leaves behind. Prints its progress, pausing $DEMO_PAUSE seconds (default
# 0.7) between steps so that grove's live display has something to show. Exit 0.
set -eu
file=$1
pause() { sleep "${DEMO_PAUSE:-0.7}"; }
title=$(basename "$file")
title=${title%.*}

echo "reading the task: ${GROVE_INSTRUCTIONS:-}"
pause
echo "looking around: $(git ls-files | wc -l | tr -d ' ') files in the repository"
pause
echo "drafting $file"
mkdir -p "$(dirname "$file")"
{
    printf '# %s\n\n' "$title"
    printf '%s.\n\n' "${GROVE_INSTRUCTIONS:-No instructions}"
    printf 'Written by the %s task.\n' "${GROVE_TASK:-agent}"
} >"$file"
pause
echo "wrote $file ($(wc -l <"$file" | tr -d ' ') lines); leaving it for grove to commit"
