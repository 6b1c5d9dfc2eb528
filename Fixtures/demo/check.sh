#!/bin/sh
# check.sh — the demo repository's tests, run by `grove merge --check "sh check.sh"` on each
# task rebased onto main before it lands (Fixtures/demo.sh). Exit 0 when all pass, else 1.
#   1. every tracked Markdown file starts with a `# ` title line;
#   2. conflict.txt still has exactly 5 lines;
#   3. every generated file under src/ still has its 4 lines;
#   4. nothing tracked contains a conflict marker.
failed=0
fail() { echo "FAIL: $*"; failed=1; }

for f in $(git ls-files '*.md'); do
    head -n 1 "$f" | grep -q '^# ' || fail "$f does not start with a '# ' title"
done
[ "$(wc -l <conflict.txt)" -eq 5 ] || fail "conflict.txt should have 5 lines"
for f in $(git ls-files 'src/*'); do
    [ "$(wc -l <"$f")" -eq 4 ] || fail "$f should have 4 lines"
done
if git grep -q -E '^(<<<<<<<|>>>>>>>)' -- .; then fail "a conflict marker is committed"; fi

if [ "$failed" -eq 0 ]; then echo "check: 4 tests passed"; fi
exit "$failed"
