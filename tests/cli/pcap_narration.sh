#!/usr/bin/env bash
# pcap_narration.sh TCPLAB — `play` and `replay` write a scenario's run with
# --pcap and --trace: pcapng whose packet comments carry every step's
# narration (in the --lang chosen) and the state changes, read back by
# tshark; virtual time from the fixed epoch 2000-01-01T00:00:00Z; '-' is
# standard output; the JSON trace starts with its start record and its t
# never goes backwards. Bad combinations are usage errors (status 2).
set -euo pipefail
tcplab=$1
command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
src=$(dirname "$0")/../../scenarios/lessons/02-handshake.tcps
comments() { tshark -r "$1" -T fields -e frame.comment 2>/dev/null; }

"$tcplab" play 2 --pcap "$tmp/en.pcapng" --trace "$tmp/en.jsonl" </dev/null ||
    fail "play --pcap exited with $?"
"$tcplab" play 2 --lang zh --pcap "$tmp/zh.pcapng" </dev/null
comments "$tmp/en.pcapng" >"$tmp/en.txt"
comments "$tmp/zh.pcapng" >"$tmp/zh.txt"
[ -s "$tmp/en.txt" ] || fail "tshark found no comments in play's pcapng"

python3 - "$src" "$tmp" <<'PY'
import json, re, sys
src, tmp = sys.argv[1], sys.argv[2]
say = {"en": [], "zh": []}
connect_say = None
stmt = None
for line in open(src, encoding="utf-8"):
    m = re.match(r'\s+say (en|zh) "(.*)"\s*$', line)
    if m:
        say[m.group(1)].append(m.group(2))
        if m.group(1) == "en" and stmt and stmt.startswith("client: connect") and not connect_say:
            connect_say = m.group(2)
    elif line.strip() and not line.startswith("#") and not line[0].isspace():
        stmt = line.strip()
assert connect_say, "no narration of the connect step in " + src
for lang in ("en", "zh"):
    pkts = [l.rstrip("\n") for l in open(f"{tmp}/{lang}.txt", encoding="utf-8")]
    text = "\n".join(pkts)
    missing = [s for s in say[lang] if s not in text]
    assert not missing, f"{lang}: narration missing from the comments: {missing[:2]}"
    other = "zh" if lang == "en" else "en"
    assert not any(s in text for s in say[other]), f"{lang}: the other language's narration is there"
    # in the file's order
    pos = [text.index(s) for s in say[lang]]
    assert pos == sorted(pos), f"{lang}: narration out of order"
en = [l for l in open(f"{tmp}/en.txt", encoding="utf-8")]
assert connect_say in en[0], "the SYN (first packet) lacks the connect step's narration: " + en[0][:200]
assert "client CLOSED -> SYN_SENT (connect())" in en[0], "the SYN lacks its state change"
# The JSON trace: a start record, then t never goes backwards.
recs = [json.loads(l) for l in open(f"{tmp}/en.jsonl")]
s = recs[0]
assert s["ev"] == "start" and s["source"] == "play" and s["config"]["link"] == "virtual", s
assert s["config"]["pcap_epoch_us"] == 946684800 * 10**6, s
t = [r["t"] for r in recs[1:]]
assert t and all(a <= b for a, b in zip(t, t[1:])), "t goes backwards in the sim trace"
outs = sum(1 for r in recs if r["ev"] == "seg" and r["dir"] == "out")
print("segments out", outs)
open(f"{tmp}/outs", "w").write(str(outs))
PY
npk=$(comments "$tmp/en.pcapng" | wc -l)
[ "$npk" = "$(cat "$tmp/outs")" ] || fail "pcap has $npk packets, the trace $(cat "$tmp/outs") segments sent"

# Virtual time: the fixed epoch, not the wall clock.
first=$(tshark -r "$tmp/en.pcapng" -T fields -e frame.time_epoch 2>/dev/null | sed -n 1p)
python3 -c "import sys; t=float('$first'); sys.exit(0 if 946684800 <= t < 946684800+3600 else 1)" ||
    fail "first packet at $first, not at the virtual epoch 946684800"

# replay writes the same; '-' is standard output and the results go to stderr.
"$tcplab" replay 2 --lang en --pcap - 2>"$tmp/replay.err" | tshark -r - -T fields -e frame.comment \
    2>/dev/null >"$tmp/replay.txt"
cmp -s "$tmp/replay.txt" "$tmp/en.txt" || fail "replay --pcap - differs from play --pcap"
grep -q '^PASS 02-handshake' "$tmp/replay.err" || fail "replay's result not on stderr with --pcap -"
"$tcplab" replay 2 --trace - 2>/dev/null | sed -n 1p | grep '"ev":"start","wall"' >/dev/null ||
    fail "replay --trace - does not start with the start record"

# Bad combinations: usage, status 2, nothing run.
rc=0; "$tcplab" replay 2 3 --pcap "$tmp/x.pcapng" 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--pcap with two scenarios: status $rc, not 2"
rc=0; "$tcplab" play 2 --pcap - --trace - >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "--pcap - --trace -: status $rc, not 2"
rc=0; "$tcplab" play 2 --dump-screen 1 --trace - >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "--dump-screen with --trace -: status $rc, not 2"
rc=0; "$tcplab" play "$tmp/en.pcapng" --pcap "$tmp/y.pcapng" </dev/null >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "--pcap of a capture: status $rc, not 2"
echo "PASS: pcap_narration"
