#!/bin/sh
# netns-run.sh COMMAND [ARGS...] — run a TUN integration test inside its own
# private network namespace, so the TUN device, the kernel sockets and all
# traffic stay inside it and vanish with it.
#
# Not permitted to make a namespace (not root, no CAP_SYS_ADMIN, no user
# namespaces): exit 77, which ctest reports as "skipped" — unless
# TCPLAB_REQUIRE_TUN=1, when it is a failure.
if [ -z "$TCPLAB_IN_NETNS" ]; then
    export TCPLAB_IN_NETNS=1
    if unshare --net true 2>/dev/null; then
        exec unshare --net "$0" "$@"
    fi
    if unshare -rn true 2>/dev/null; then
        exec unshare -rn "$0" "$@"
    fi
    msg="cannot create a private network namespace (unshare --net): run the TUN tests as root, e.g. sudo ctest -L tun"
    if [ "$TCPLAB_REQUIRE_TUN" = 1 ]; then
        echo "FAIL: $msg (TCPLAB_REQUIRE_TUN=1)" >&2
        exit 1
    fi
    echo "SKIP: $msg" >&2
    exit 77
fi
ip link set lo up || exit 1
if [ ! -c /dev/net/tun ]; then
    if [ "$TCPLAB_REQUIRE_TUN" = 1 ]; then
        echo "FAIL: /dev/net/tun is missing (TCPLAB_REQUIRE_TUN=1)" >&2
        exit 1
    fi
    echo "SKIP: /dev/net/tun is missing (modprobe tun)" >&2
    exit 77
fi
# Inside a user namespace (unshare -rn) /dev/net/tun may still be closed to
# us: try to make a device once before running the test.
if ! ip tuntap add dev tlprobe0 mode tun 2>/dev/null; then
    if [ "$TCPLAB_REQUIRE_TUN" = 1 ]; then
        echo "FAIL: cannot create a TUN device in the namespace (TCPLAB_REQUIRE_TUN=1)" >&2
        exit 1
    fi
    echo "SKIP: cannot create a TUN device in the namespace: run as root" >&2
    exit 77
fi
ip link del tlprobe0
exec "$@"
