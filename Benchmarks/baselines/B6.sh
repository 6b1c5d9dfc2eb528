#!/usr/bin/env bash
# B6 baseline — a batch fix over many repositories with all-repos (PyPI all-repos 1.33.0):
# clone every repository of the config's source, then sed one file in each, commit, and land
# it with the config's push (merge_to_master: merge into the default branch, push it back).
# Four at a time, as on the grove side (-j 4).
#
# usage: B6.sh VENV CONFIG EXPRESSION FILE
#   VENV        a virtualenv with all-repos installed (its bin/ holds all-repos-clone, -sed)
#   CONFIG      the all-repos config file (mode 600, or all-repos refuses it)
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: ${0##*/} VENV CONFIG EXPRESSION FILE" >&2; exit 2; }
venv=$1 config=$2 expression=$3 file=$4
"$venv/bin/all-repos-clone" -C "$config" -j 4
# all-repos-sed reports a repository that failed and goes on, exiting 0: run.sh checks what
# landed in every source repository rather than trusting the exit status.
"$venv/bin/all-repos-sed" -C "$config" -j 4 --commit-msg "fix" "$expression" "$file"
