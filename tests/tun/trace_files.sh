#!/usr/bin/env bash
# trace_files.sh TCPLAB CASE — the files a TUN run writes line up with the
# world. Run through netns-run.sh (the namespace is private).
#   pcap: `replay --tun` of lesson 4 writes pcapng whose times are the wall
#         clock (within a minute of `date`), with the steps' narration and the
#         kernel's socket states as packet comments (read by tshark).
#   mono: every JSON trace record's t is >= the one before — a TUN lesson's
#         trace (replay --tun), listen's under 20 parallel clients, and
#         connect's sending 2 MB to a kernel nc.
set -u
TCPLAB=${1:?usage: netns-run.sh trace_files.sh TCPLAB pcap|mono}
CASE=${2:?}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
tmp=$(mktemp -d)
L=
cleanup() { [ -n "$L" ] && kill "$L" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
lesson=$(dirname "$0")/../../scenarios/lessons/04-teardown.tcps

monotonic() { # FILE: t never decreases; prints the number of records
    python3 - "$1" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs and recs[0]["ev"] == "start", "no start record"
t = [r["t"] for r in recs]
back = [(i, a, b) for i, (a, b) in enumerate(zip(t, t[1:])) if b < a]
assert not back, f"t goes backwards at record {back[0][0] + 1}: {back[0][1]} then {back[0][2]}"
assert any(r["ev"] == "kernel" for r in recs), "no kernel events in the trace"
print(len(recs))
PY
}

case $CASE in
pcap)
    command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }
    "$TCPLAB" replay --tun "$lesson" --pcap "$tmp/t.pcapng" >"$tmp/out" 2>&1 ||
        fail "replay --tun failed: $(cat "$tmp/out")"
    now=$(date +%s)
    first=$(tshark -r "$tmp/t.pcapng" -T fields -e frame.time_epoch 2>/dev/null | head -1)
    python3 -c "import sys; sys.exit(0 if abs(float('$first') - $now) < 60 else 1)" ||
        fail "first packet at $first, date says $now: not within a minute"
    tshark -r "$tmp/t.pcapng" -T fields -e frame.comment 2>/dev/null >"$tmp/c"
    python3 - "$lesson" "$tmp/c" <<'PY' || exit 1
import re, sys
say = [m.group(1) for m in (re.match(r'\s+say en "(.*)"\s*$', l) for l in open(sys.argv[1], encoding="utf-8")) if m]
text = open(sys.argv[2], encoding="utf-8").read()
missing = [s for s in say if s not in text]
assert not missing, f"narration missing: {missing[:2]}"
assert re.search(r"kernel 10\.7\.0\.1:\d+-10\.7\.0\.2:\d+ (CLOSE_WAIT|LAST_ACK)", text), "no kernel state comment"
assert "client ESTABLISHED -> FIN_WAIT_1 (close())" in text, "no stack state comment"
PY
    echo "PASS: replay --tun --pcap: wall clock, narration and kernel states"
    ;;
mono)
    "$TCPLAB" replay --tun "$lesson" --trace "$tmp/r.jsonl" >"$tmp/out" 2>&1 ||
        fail "replay --tun failed: $(cat "$tmp/out")"
    n=$(monotonic "$tmp/r.jsonl") || fail "replay --tun --trace"
    echo "ok   replay --tun trace: $n records, t never goes backwards"
    command -v nc >/dev/null || { echo "SKIP: no nc for the listen part"; exit 77; }
    "$TCPLAB" listen --quiet --trace "$tmp/l.jsonl" 7:echo & L=$!
    for i in $(seq 1 50); do ip link show tl0 >/dev/null 2>&1 && break; sleep 0.1; done
    pids=
    for i in $(seq 1 20); do
        (head -c 100000 /dev/zero | timeout 10 nc -N -w 5 10.7.0.2 7 >/dev/null) & pids="$pids $!"
    done
    wait $pids
    sleep 0.5
    kill -INT "$L"; wait "$L"; L=
    n=$(monotonic "$tmp/l.jsonl") || fail "listen --trace"
    echo "ok   listen trace under 20 clients: $n records, t never goes backwards"
    nc -l 5000 >/dev/null 2>&1 &  # every address: 10.7.0.1 exists once connect made tl0
    for i in $(seq 1 20); do ss -ltn | grep -q ':5000 ' && break; sleep 0.1; done
    head -c 2000000 /dev/zero | timeout 20 "$TCPLAB" connect --quiet --trace "$tmp/c.jsonl" \
        10.7.0.1 5000 >/dev/null 2>&1 || fail "connect of 2 MB to a kernel nc failed"
    wait
    n=$(monotonic "$tmp/c.jsonl") || fail "connect --trace"
    echo "ok   connect trace of 2 MB: $n records, t never goes backwards"
    echo "PASS: monotonic t"
    ;;
*) fail "unknown case $CASE" ;;
esac
