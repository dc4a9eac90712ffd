#!/usr/bin/env bash
# The one loophole in the layering the CMake targets enforce (docs/architecture.md):
# a path such as "../ui/render/trace.h" is found relative to the including
# file, whatever the target's include directories say. Headers are included
# by bare name; a relative include may only point down the layers:
#   stack <- tun <- scenarios <- capture, ui/render, ui/tui <- ui/cli
# Usage: check-layering.sh [SOURCE_DIR]   (exit 1 and name each offender)
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
bad=0
check() { # folder, the folders its relative includes may name
    local dir=$1 allowed=$2
    [ -d "$dir" ] || return 0
    while IFS= read -r hit; do
        target=$(sed -E 's@.*#[[:space:]]*include[[:space:]]*"((\.\./)+)([a-z_]+)/.*@\3@' <<<"$hit")
        if [[ " $allowed " != *" $target "* ]]; then
            echo "layering: $hit: $dir/ may not include from $target/ (include headers by bare name)"
            bad=1
        fi
    done < <(grep -rnE '#[[:space:]]*include[[:space:]]*"\.\./' "$dir" --include='*.[ch]')
}
check stack ""
check tun "stack"
check scenarios "stack tun"
check capture "stack tun scenarios"
check ui ""
exit $bad
