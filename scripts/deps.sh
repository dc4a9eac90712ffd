#!/usr/bin/env bash
# deps.sh — make sure the Debian packages tcplab needs are installed.
#
#   scripts/deps.sh build     what `make` needs: compiler, CMake, the libraries
#   scripts/deps.sh test      the above, plus what `make test`, the fuzz smoke run
#                             and the benchmarks use (nc, curl, nft, tshark, tmux, ...)
#   scripts/deps.sh bench    the above, plus the reference stacks bench/run compares
#                             against (Debian's lwIP for bench/tun_compare.sh)
#   scripts/deps.sh --check SET...   only report; never install
#
# Installed packages are found with dpkg-query. Missing ones are installed
# with apt-get when running as root; otherwise the exact command to run is
# printed and the script exits with status 1, so `make` stops before a
# confusing compiler error.
set -euo pipefail

build_pkgs=(cmake pkg-config gcc make libncurses-dev libcmocka-dev libpcap-dev libmnl-dev)
# clang + libclang-rt-14-dev: libFuzzer smoke run; valgrind: instruction counts in bench/;
# tcpdump: the captures `play capture.pcap` is tested on; ethtool: the send-side GSO test
# switches TSO off on a veth so the kernel cuts the stack's super-packets; libxml2-utils (xmllint),
# librsvg2-bin (rsvg-convert), chromium, fonts-noto-cjk: `tcplab export` is checked with them;
# dpkg-dev + file: cpack -G DEB (dpkg-shlibdeps); man-db: the manual page check (tests/cli).
test_pkgs=(iproute2 netcat-openbsd curl nftables tshark tmux python3 clang libclang-rt-14-dev
           valgrind tcpdump ethtool libxml2-utils librsvg2-bin chromium fonts-noto-cjk dpkg-dev file man-db)
# liblwip-dev: bench/lwip/bench_tun_lwip.c, the lwIP reference on TUN (built only if found).
bench_pkgs=(liblwip-dev)

usage() {
    echo "usage: $0 [--check] build|test|bench..." >&2
    exit 2
}

check_only=0
wanted=()
for arg in "$@"; do
    case "$arg" in
    --check) check_only=1 ;;
    build) wanted+=("${build_pkgs[@]}") ;;
    test) wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    bench) wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    -h | --help) usage ;;
    *) echo "deps.sh: unknown package set '$arg'" >&2; usage ;;
    esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=("${build_pkgs[@]}")

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: this is not a Debian-like system (no dpkg-query); make sure these are" >&2
    echo "         installed by other means: ${wanted[*]}" >&2
    exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
    # Skip duplicates (build is part of test).
    case " ${missing[*]-} " in *" $pkg "*) continue ;; esac
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

[ ${#missing[@]} -eq 0 ] && exit 0

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$check_only" = 1 ]; then
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "         installing them needs root; run this, then try again:" >&2
    echo "" >&2
    echo "    sudo apt-get update && sudo $install_cmd" >&2
    echo "" >&2
    exit 1
fi

echo "deps.sh: installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" ahead of time.
if command -v debconf-set-selections >/dev/null 2>&1; then
    echo "wireshark-common wireshark-common/install-setuid boolean false" |
        debconf-set-selections
fi
apt-get update
# shellcheck disable=SC2086
$install_cmd
