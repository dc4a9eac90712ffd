#!/usr/bin/env bash
# install.sh TCPLAB — what a user gets from `cmake --install`: the installed
# program finds its own lessons from any directory (`tcplab lessons`, `tcplab
# play 4`), still after the whole tree is moved elsewhere, the manual page
# reads without groff warnings, and the bash completion completes commands,
# options (from --help) and lesson names.
set -euo pipefail
tcplab=$1
build=$(cd "$(dirname "$tcplab")" && pwd)
[ -f "$build/cmake_install.cmake" ] || { echo "SKIP: $build is not a CMake build tree"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" ||
    { cat "$tmp/install.log"; fail "cmake --install failed"; }
for f in bin/tcplab share/man/man1/tcplab.1.gz share/bash-completion/completions/tcplab \
         share/zsh/vendor-completions/_tcplab share/doc/tcplab/README.md \
         share/doc/tcplab/docs/scenarios.md share/tcplab/lessons/04-teardown.tcps \
         share/tcplab/lessons/04-teardown.trace share/tcplab/regress/handshake.tcps; do
    [ -f "$tmp/prefix/$f" ] || fail "not installed: $f"
done

mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
unset TCPLAB_DATA
check_installed() {
    local bin=$1 share=$2
    "$bin" lessons >"$tmp/lessons.txt" || fail "installed tcplab lessons exited with $?"
    grep -q "^04  K  teardown  *Teardown: the client closes first$" "$tmp/lessons.txt" ||
        { cat "$tmp/lessons.txt"; fail "lesson 4 is not listed with its K and title"; }
    grep -q "^06     why-time-wait" "$tmp/lessons.txt" || fail "lesson 6 (not K) is not listed"
    grep -q "lessons in $share/lessons\." "$tmp/lessons.txt" ||
        { tail -2 "$tmp/lessons.txt"; fail "the lessons were not found under $share"; }
    LANG=zh_CN.UTF-8 "$bin" lessons | grep "四次挥手" >/dev/null || fail "no Chinese titles in a zh locale"
    "$bin" play 4 --dump-screen 3 >"$tmp/screen.txt" || fail "play 4 --dump-screen 3 exited with $?"
    grep -q "Teardown: the client closes first" "$tmp/screen.txt" || fail "play 4 is not lesson 4"
    grep -q "step 3/" "$tmp/screen.txt" || fail "play 4 --dump-screen 3 is not at step 3"
    "$bin" play teardown --dump-screen=3 | cmp -s - "$tmp/screen.txt" ||
        fail "play teardown is not the same lesson as play 4"
    "$bin" replay 4 handshake | tail -n 1 | grep -x "2 passed, 0 failed" >/dev/null ||
        fail "replay of installed scenarios by name did not pass"
}
check_installed "$tmp/prefix/bin/tcplab" "$tmp/prefix/share/tcplab"
# The program looks beside itself, so a moved tree (an unpacked .deb) works.
mv "$tmp/prefix" "$tmp/moved"
check_installed "$tmp/moved/bin/tcplab" "$tmp/moved/share/tcplab"

if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$tmp/moved/share/man/man1/tcplab.1.gz" >"$tmp/man.txt" \
        2>"$tmp/man.err" || fail "man -l of the installed page failed"
    [ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err"; fail "groff warnings in tcplab.1"; }
    for want in "tcplab lessons" "tcplab play" "tcplab replay" "tcplab listen" \
                "tcplab connect" "tcplab demo" "EXIT STATUS" "--dump-screen N"; do
        grep -q -- "$want" "$tmp/man.txt" || fail "the manual page has no '$want'"
    done
    # Every option `tcplab --help` lists is described in the page.
    for opt in $("$tmp/moved/bin/tcplab" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -q -- "$opt" "$tmp/man.txt" || fail "tcplab --help has $opt, the manual page does not"
    done
else
    echo "note: no man(1) here; the page was not rendered"
fi

# bash completion, without the bash-completion package's helpers.
complete_words() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tcplab
             printf "%s\n" "${COMPREPLY[@]}"' _ "$tmp/moved/share/bash-completion/completions/tcplab" "$@"
}
PATH=$tmp/moved/bin:$PATH
complete_words tcplab pl | grep -x play >/dev/null || fail "bash completion: 'pl' does not give play"
complete_words tcplab play --du | grep -x -- --dump-screen >/dev/null ||
    fail "bash completion: 'play --du' does not give --dump-screen"
complete_words tcplab play 04 | grep -x 04-teardown >/dev/null ||
    fail "bash completion: 'play 04' does not give the lesson 04-teardown"
if command -v zsh >/dev/null; then
    zsh -n "$tmp/moved/share/zsh/vendor-completions/_tcplab" || fail "_tcplab is not valid zsh"
fi
echo "PASS: install"
