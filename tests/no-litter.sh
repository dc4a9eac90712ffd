#!/bin/sh
# no-litter.sh DIR — the ctest fixture that runs after every other test: the
# tests' TMPDIR must be empty (each test removes what it made, pass or fail).
# Lists what was left, then removes DIR either way.
dir=$1
left=$(find "$dir" -mindepth 1 -maxdepth 1 2>/dev/null)
rm -rf "$dir"
if [ -n "$left" ]; then
    echo "FAIL: tests left these in their TMPDIR:" >&2
    echo "$left" >&2
    exit 1
fi
echo "PASS: no temporary files left behind"
