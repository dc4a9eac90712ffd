#!/usr/bin/env bash
# kernel_transitions.sh TCPLAB — with tracefs, a --tun run shows every one of
# the kernel's state changes as the kernel makes it (sock:inet_sock_set_state,
# tun/ktrace.h): a kernel that closes first is seen in FIN_WAIT_1, told by
# the tracepoint with the state before it (ESTABLISHED), then FIN_WAIT_2;
# TIME_WAIT (which the tracepoint cannot tell) comes from sock_diag after
# FIN_WAIT_2; and each kernel event's state before is the one told last
# (nothing passed unseen: no "(passed through ..., not observed)").
# Without tracefs (not mountable, no tracepoint): skipped, saying why.
# Run through netns-run.sh (the namespace is private).
set -u
TCPLAB=${1:?usage: netns-run.sh kernel_transitions.sh TCPLAB}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

ev=/sys/kernel/tracing/events/sock/inet_sock_set_state
if ! unshare -m sh -c "[ -e $ev ] || { mount -t tracefs nodev /sys/kernel/tracing && [ -e $ev ]; }" \
    2>/dev/null; then
    echo "SKIP: tracefs with the sock:inet_sock_set_state tracepoint is not available" \
         "(needs root and a kernel with tracefs); sampling alone is tested elsewhere"
    exit 77
fi

"$TCPLAB" replay --tun --trace "$tmp/k.jsonl" "$here/kernel-closes-first.tcps" >"$tmp/out" 2>&1 ||
    fail "replay --tun failed: $(cat "$tmp/out")"
python3 - "$tmp/k.jsonl" <<'PY' || exit 1
import json, sys
k = [r for r in map(json.loads, open(sys.argv[1])) if r.get("ev") == "kernel"]
conn = [r for r in k if r["conn"].startswith("10.7.0.1:8990-")]
seen = [(r.get("prev"), r["state"], bool(r.get("traced"))) for r in conn]
assert ("ESTABLISHED", "FIN_WAIT_1", True) in seen, f"no traced ESTABLISHED -> FIN_WAIT_1: {seen}"
assert ("FIN_WAIT_1", "FIN_WAIT_2", True) in seen, f"no traced FIN_WAIT_1 -> FIN_WAIT_2: {seen}"
assert ("FIN_WAIT_2", "TIME_WAIT", False) in seen, f"TIME_WAIT not after FIN_WAIT_2: {seen}"
states = [s for _, s, _ in seen]
assert len(states) == len(set(states)), f"a state told twice: {seen}"
gaps = [(a, b) for a, b in zip(seen, seen[1:]) if b[0] != a[1]]
assert not gaps, f"a state passed unseen between {gaps[0][0]} and {gaps[0][1]}"
print("ok   kernel:", " -> ".join(states))
PY
echo "PASS: every kernel transition of the connection, FIN_WAIT_1 included, from the tracepoint"
