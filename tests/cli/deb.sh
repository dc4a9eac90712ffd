#!/usr/bin/env bash
# deb.sh TCPLAB — `cpack -G DEB` makes a Debian package with the program, the
# lessons, the manual page and the completions, declaring the libraries it
# links; unpacked (dpkg-deb -x, never installed on this machine) its tcplab
# runs and finds its lessons. Installing it with dpkg -i is the manual check
# described in README.md ("Installing").
set -euo pipefail
tcplab=$1
build=$(cd "$(dirname "$tcplab")" && pwd)
[ -f "$build/CPackConfig.cmake" ] || { echo "SKIP: no CPackConfig.cmake in $build"; exit 77; }
command -v dpkg-deb >/dev/null || { echo "SKIP: no dpkg-deb (not Debian)"; exit 77; }
# A sanitizer build is no package (and cpack of its binaries takes minutes).
if grep -q '^TCPLAB_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "SKIP: an ASan/UBSan build tree is not packaged"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$tmp" && cpack -G DEB -B "$tmp/out" --config "$build/CPackConfig.cmake") \
    >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; fail "cpack -G DEB failed"; }
deb=$(ls "$tmp"/out/tcplab_*.deb 2>/dev/null | sed -n 1p)
[ -n "$deb" ] || { cat "$tmp/cpack.log"; fail "cpack made no tcplab_*.deb"; }

dpkg-deb -f "$deb" Package Version Architecture Depends Section Description >"$tmp/fields"
grep -qx "Package: tcplab" "$tmp/fields" || fail "the package is not called tcplab"
grep -q "^Depends:.*libncursesw6" "$tmp/fields" || { cat "$tmp/fields"; fail "Depends lacks libncursesw6"; }
grep -q "^Depends:.*libpcap" "$tmp/fields" || { cat "$tmp/fields"; fail "Depends lacks libpcap"; }
dpkg-deb -c "$deb" >"$tmp/contents"
for f in ./usr/bin/tcplab ./usr/share/man/man1/tcplab.1.gz ./usr/share/doc/tcplab/copyright \
         ./usr/share/doc/tcplab/changelog.gz ./usr/share/tcplab/lessons/01-socket-calls.tcps \
         ./usr/share/bash-completion/completions/tcplab ./usr/share/zsh/vendor-completions/_tcplab; do
    grep -q " $f\$" "$tmp/contents" || fail "the package lacks $f"
done
if grep -v '^d' "$tmp/contents" | grep -v ' root/root ' | grep . >/dev/null; then
    fail "files in the package not owned by root/root"
fi

dpkg-deb -x "$deb" "$tmp/root"
cd "$tmp"
unset TCPLAB_DATA
"$tmp/root/usr/bin/tcplab" --version | grep -x "tcplab [0-9.]*" >/dev/null || fail "tcplab --version from the package"
"$tmp/root/usr/bin/tcplab" lessons | grep "lessons in $tmp/root/usr/share/tcplab/lessons\." >/dev/null ||
    fail "the unpacked tcplab does not find the packaged lessons"
"$tmp/root/usr/bin/tcplab" play 2 --dump-screen 1 | grep "three-way handshake" >/dev/null ||
    fail "the unpacked tcplab cannot play lesson 2"
if [ "${TCPLAB_LINTIAN:-0}" = 1 ] && command -v lintian >/dev/null; then
    # Report only, on request (it is slow): lintian's opinion is not a test result.
    TMPDIR=$tmp lintian --tag-display-limit 0 "$deb" || true
fi
echo "PASS: deb ($(basename "$deb"))"
