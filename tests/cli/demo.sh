#!/usr/bin/env bash
# demo.sh TCPLAB — `tcplab demo` tells the whole story of one connection:
# handshake, the echoed line, the client closing first, TIME_WAIT running out;
# the same seed gives the same trace; --trace and --pcap write files other
# tools can read; bad usage is status 2.
set -euo pipefail
tcplab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tcplab" demo >"$tmp/a.txt" || fail "tcplab demo exited with $?"
"$tcplab" demo >"$tmp/b.txt"
cmp -s "$tmp/a.txt" "$tmp/b.txt" || fail "two runs with the same seed differ"

# The transitions, in the order they must happen.
want=(
    "client  CLOSED -> SYN_SENT"
    "server  LISTEN -> SYN_RECEIVED"
    "client  SYN_SENT -> ESTABLISHED"
    "server  SYN_RECEIVED -> ESTABLISHED"
    "server  recv(14) = 14"
    "client  recv(14) = 14"
    "client  ESTABLISHED -> FIN_WAIT_1"
    "server  ESTABLISHED -> CLOSE_WAIT"
    "server  recv([0-9]*) = 0"
    "server  CLOSE_WAIT -> LAST_ACK"
    "client  FIN_WAIT_1 -> FIN_WAIT_2"
    "client  FIN_WAIT_2 -> TIME_WAIT"
    "server  LAST_ACK -> CLOSED"
    "client  TIME_WAIT -> CLOSED"
)
line=0
for w in "${want[@]}"; do
    n=$(tail -n +$((line + 1)) "$tmp/a.txt" | grep -n -e "$w" | sed -n 's/:.*//;1p'; exit "${PIPESTATUS[1]}") ||
        fail "'$w' missing after line $line of the trace:"$'\n'"$(cat "$tmp/a.txt")"
    line=$((line + n))
done
# TIME_WAIT lasted 2*MSL (60 s by default) of virtual time.
grep -Eq '^ +60\.[0-9]+ client  TIME_WAIT -> CLOSED' "$tmp/a.txt" ||
    fail "TIME_WAIT did not end 60 s after it began"

"$tcplab" demo --seed 9 --trace "$tmp/t.jsonl" --pcap "$tmp/t.pcap" >"$tmp/c.txt"
python3 - "$tmp/t.jsonl" <<'PY' || fail "the JSON Lines trace is not what DESIGN.md says"
import json, sys
import time
evs = [json.loads(l) for l in open(sys.argv[1])]
assert all("t" in e and "ev" in e for e in evs)
# The start record: wall clock (within a minute of now), version, config.
s = evs[0]
assert s["ev"] == "start" and s["source"] == "demo" and s["version"], s
assert abs(s["wall_us"] / 1e6 - time.time()) < 60, s
assert s["wall"].endswith("Z") and s["config"]["seed"] == 9, s
states = [(e["from"], e["to"]) for e in evs if e["ev"] == "state"]
assert ("FIN_WAIT_2", "TIME_WAIT") in states and ("TIME_WAIT", "CLOSED") in states, states
flags = [e["flags"] for e in evs if e["ev"] == "seg" and e["dir"] == "out"]
assert flags[:3] == ["S", "S.", "."], flags
PY
if command -v tshark >/dev/null 2>&1; then
    n=$(tshark -r "$tmp/t.pcap" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == 1' 2>/dev/null | wc -l)
    [ "$n" = 9 ] || fail "the pcap should hold 9 packets with good checksums, has $n"
fi

# pcapng: the same packets, virtual time from the documented epoch
# (2000-01-01T00:00:00Z), the state changes as packet comments.
"$tcplab" demo --quiet --pcap "$tmp/t.pcapng" || fail "demo --pcap t.pcapng exited with $?"
if command -v tshark >/dev/null 2>&1; then
    tshark -r "$tmp/t.pcapng" -T fields -e frame.time_epoch -e frame.comment >"$tmp/ng.txt" 2>/dev/null ||
        fail "tshark cannot read the pcapng file"
    [ "$(wc -l <"$tmp/ng.txt")" = 9 ] || fail "the pcapng should hold 9 packets"
    head -n 1 "$tmp/ng.txt" | grep '^946684800\.000000000' >/dev/null || fail "first packet not at the epoch"
    grep -q "server LISTEN -> SYN_RECEIVED (rcvd SYN)" "$tmp/ng.txt" ||
        fail "no state-change comment in the pcapng"
fi

set +e
"$tcplab" demo --no-such-option >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "bad usage exited $rc, not 2"
grep -q '^usage: tcplab demo' "$tmp/err" || fail "bad usage printed no usage on stderr"
"$tcplab" demo --help | grep '^usage: tcplab demo' >/dev/null || fail "--help printed no usage"
echo "demo: ok"
