#!/bin/sh
# print-lots.sh [MB] — fake agent that floods stdout.
#
# Writes exactly MB * 1048576 bytes (default MB = 100) of text lines to stdout, as fast
# as `yes | head -c` can, then exits 0. MB must be a non-negative integer (else exit 2).
mb=${1:-100}
case $mb in
    ''|*[!0-9]*) echo "print-lots: MB must be a non-negative integer: '$mb'" >&2; exit 2 ;;
esac
yes 'print-lots: the quick brown fox jumps over the lazy dog 0123456789' | head -c "$((mb * 1048576))"
