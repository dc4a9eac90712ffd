#!/bin/sh
# tests/pkt/check-play.sh TCPLAB DIR — `tcplab play FILE.pkt` animates the
# record of a .pkt run: the screen after N steps shows the script's lines
# as narration and the engine's states; a malformed script is status 2 with
# file:line:col; an unsupported one says why it cannot be played.
tcplab=$1
dir=$2
fail=0
out=$("$tcplab" play --dump-screen 6 --size 100x30 "$dir/behaviour/nagle.pkt" 2>&1)
rc=$?
for want in "packetdrill: nagle.pkt" "step 6/" "ESTABLISHED" "SYN,ACK seq=0 ack=1" "< . 1:1(0) ack 1 win 65535"; do
    if ! printf '%s\n' "$out" | grep -qF "$want"; then
        echo "FAIL: play nagle.pkt: no '$want' on the screen (status $rc):"; printf '%s\n' "$out"; fail=1
    fi
done
[ $rc -eq 0 ] || { echo "FAIL: play nagle.pkt: status $rc"; fail=1; }
out=$("$tcplab" play --dump-screen 1 "$dir/../pkt-bad/bad-flag.pkt" 2>&1)
rc=$?
if [ $rc -ne 2 ] || ! printf '%s\n' "$out" | grep -q "bad-flag.pkt:2:6: "; then
    echo "FAIL: play of a malformed script: status $rc: $out"; fail=1
fi
out=$("$tcplab" play --dump-screen 1 "$dir/skip/python.pkt" 2>&1)
rc=$?
if [ $rc -ne 2 ] || ! printf '%s\n' "$out" | grep -q "python.pkt:2: Python code"; then
    echo "FAIL: play of an unsupported script: status $rc: $out"; fail=1
fi
[ $fail -eq 0 ] && echo "tcplab play FILE.pkt: as expected"
exit $fail
