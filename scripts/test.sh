#!/usr/bin/env bash
# The whole test suite, in two phases (both always run, in this order):
#  1. unit: every package's own tests, files in parallel;
#  2. e2e: tests that run several node processes or in-process networks, one file at a time,
#     so they do not compete with each other for the machine's two cores.
# Arguments (e.g. a path filter) go to both phases.
set -uo pipefail
# A filter may match files of only one phase; without one, each phase must find tests.
extra=()
[ "$#" -gt 0 ] && extra=(--passWithNoTests)
vitest run --project unit "${extra[@]}" "$@"
unit=$?
vitest run --project e2e "${extra[@]}" "$@"
e2e=$?
if [ "$unit" -ne 0 ] || [ "$e2e" -ne 0 ]; then
  echo "dseq tests: unit exit $unit, e2e exit $e2e" >&2
  exit 1
fi
