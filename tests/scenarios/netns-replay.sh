#!/bin/sh
# netns-replay.sh TCPLAB FILE — replay FILE with --tun inside a private
# network namespace of its own (the TUN device, the kernel sockets and all
# traffic stay in it and vanish with it).
# Not permitted: exit 77 (ctest: skipped), or 1 when TCPLAB_REQUIRE_TUN=1.
tcplab=$1
file=$2
skip() {
    if [ "$TCPLAB_REQUIRE_TUN" = 1 ]; then
        echo "FAIL: $1 (TCPLAB_REQUIRE_TUN=1)" >&2
        exit 1
    fi
    echo "SKIP: $1" >&2
    exit 77
}
if [ -z "$TCPLAB_SCN_IN_NETNS" ]; then
    export TCPLAB_SCN_IN_NETNS=1
    if unshare --net true 2>/dev/null; then
        exec unshare --net "$0" "$@"
    fi
    skip "cannot create a private network namespace (unshare --net): run as root, e.g. sudo ctest -L scenarios-tun"
fi
ip link set lo up || exit 1
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
exec "$tcplab" replay --tun "$file"
