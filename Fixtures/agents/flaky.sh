#!/bin/sh
# Fails its first attempt and succeeds from the second, counting attempts in a file outside the
# worktree ($FLAKY_COUNTER, default ${TMPDIR:-/tmp}/flaky-$GROVE_RUN-$GROVE_TASK). Each attempt
# leaves an uncommitted change; the failing one also leaves a note, so a test can find it in the
# saved ref.
counter=${FLAKY_COUNTER:-${TMPDIR:-/tmp}/flaky-$GROVE_RUN-$GROVE_TASK}
attempt=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$attempt" > "$counter"
echo "attempt $attempt" >> attempts.txt
if [ "$attempt" -lt 2 ]; then
    echo "half-done work of attempt $attempt" > half-done.txt
    echo "attempt $attempt fails"
    exit 1
fi
echo "attempt $attempt succeeds"
