#!/usr/bin/env bash
# The one loophole in the layering the CMake targets enforce (docs/architecture.md):
# a path such as "../ui/render/trace.h" is found relative to the including
# file, whatever the target's include directories say. Headers are included
# by bare name; a relative include may only point down the layers:
#   stack <- tun <- scenarios <- capture, ui/render, ui/tui <- ui/cli
# And one rule inside the engine: its memory is taken and given back only in
# stack/stack_mem.c (counted, and through cfg.allocator, so the limits hold and
# a stack can live in an arena); event.c and relseq.c allocate for observers.
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
while IFS= read -r hit; do
    echo "layering: $hit: stack/ allocates through stack_mem_alloc() (stack/stack_mem.c) only"
    bad=1
done < <(grep -HnE '\b(malloc|calloc|realloc|free)[[:space:]]*\(' stack/*.c |
    grep -vE '^stack/(stack_mem|event|relseq)\.c:' | grep -vE ':[0-9]+:[[:space:]]*(/?\*|//)')
exit $bad
