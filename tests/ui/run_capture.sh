#!/bin/bash
# `tcplab play capture.pcap` on captures of real kernel-to-kernel traffic:
# two network namespaces joined by a veth pair (this one, made private by
# netns-run.sh, and a child made here), tcpdump on the client's end, Python
# sockets on both. Then the states tcplab infers from the segments are
# asserted on its headless screens, and the bad captures (truncated, not
# TCP, no complete connection, mid-connection start, not a capture) get
# their messages and exit statuses.
#
# usage: netns-run.sh run_capture.sh TCPLAB
set -u
export LANG=C.UTF-8 LC_ALL=C.UTF-8
TCPLAB=${1:?usage: run_capture.sh TCPLAB}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
for tool in tcpdump python3 nsenter nft; do
    command -v $tool >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh test)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/tcplab-capture.XXXXXX")
child=""
tcpd=""
cleanup() {
    [ -n "$tcpd" ] && kill "$tcpd" 2>/dev/null
    [ -n "$child" ] && kill "$child" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
until_true() { # until_true SECONDS COMMAND...: poll, bounded; a loaded machine only takes longer
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# The server's namespace: a child of this private one, ended by PID.
unshare --net sleep 120 &
child=$!
# until unshare has made the namespace: moving tlcap1 before that leaves it here
own_ns() { [ "$(readlink "/proc/$child/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }
until_true 20 own_ns || { echo "FAIL: the server's namespace was never made"; exit 1; }
ip link add tlcap0 type veth peer name tlcap1 || exit 1
ip link set tlcap1 netns "$child" || exit 1
ip addr add 10.77.0.1/24 dev tlcap0 && ip link set tlcap0 up
nsenter -t "$child" -n sh -c 'ip link set lo up; ip addr add 10.77.0.2/24 dev tlcap1;
    ip link set tlcap1 up' || exit 1
# The server's first data segment of port 8082 is dropped once on arrival,
# so the client retransmits it: a lost segment and its repair on the wire.
nsenter -t "$child" -n nft -f - <<'EOF' || exit 1
table inet tlcap {
    chain in {
        type filter hook input priority 0;
        tcp dport 8082 meta length > 500 quota until 1500 bytes drop
    }
}
EOF

listening() { grep -q listening "$work/tcpdump.err"; }
capture() { # capture FILE IFACE-OPTION... : start tcpdump, wait until it listens
    tcpdump --immediate-mode -Z root -U -s 0 -w "$1" "${@:2}" tcp 2>"$work/tcpdump.err" &
    tcpd=$!
    capfile=$1
    until_true 20 listening || { echo "FAIL: tcpdump did not start: $(cat "$work/tcpdump.err")"; exit 1; }
}
# The file has stopped growing: tcpdump (-U) has written what it was given.
settled() {
    local a b
    a=$(stat -c %s "$capfile")
    sleep 0.5
    b=$(stat -c %s "$capfile")
    [ "$a" = "$b" ]
}
stop_capture() {
    until_true 20 settled
    kill "$tcpd"
    wait "$tcpd" 2>/dev/null
    tcpd=""
}

# The server: echo on 8080 (closes after the client), echo of 1000 bytes on 8082.
nsenter -t "$child" -n python3 - <<'EOF' &
import socket
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.77.0.2", 8080)); srv.listen(4)
srv2 = socket.socket(); srv2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv2.bind(("10.77.0.2", 8082)); srv2.listen(4)
srv.settimeout(20); srv2.settimeout(20)
s, _ = srv.accept()
data = s.recv(100); s.sendall(data.upper())
assert s.recv(100) == b""; s.close()
s, _ = srv2.accept()
got = b""
while len(got) < 1000:
    got += s.recv(2000)
s.sendall(b"ok"); assert s.recv(10) == b""; s.close()
EOF
server=$!
# until the server listens on both ports (its Python may be slow to start)
serving() {
    local l
    l=$(nsenter -t "$child" -n ss -Hltn 2>/dev/null)
    grep -q "10.77.0.2:8080 " <<<"$l" && grep -q "10.77.0.2:8082 " <<<"$l"
}
until_true 30 serving || { echo "FAIL: the server never listened"; exit 1; }
capture "$work/kernel.pcap" -i tlcap0
python3 - <<'EOF'
import socket, time
c = socket.create_connection(("10.77.0.2", 8080), timeout=10)
c.sendall(b"hello"); assert c.recv(100) == b"HELLO"
c.close()
time.sleep(0.2)
try:
    socket.create_connection(("10.77.0.2", 9), timeout=5)
    raise SystemExit("port 9 answered")
except ConnectionRefusedError:
    pass
c = socket.create_connection(("10.77.0.2", 8082), timeout=10)
c.sendall(b"x" * 1000); assert c.recv(10) == b"ok"
c.close()
time.sleep(0.3)
EOF
[ $? -eq 0 ] && ok "kernel client and server talked over the veth pair" || fail "the traffic"
# every packet of the last connection on the wire (both FINs of 8082) before
# the capture stops
fins_8082() { [ "$(tcpdump -r "$work/kernel.pcap" -nn 'port 8082 and tcp[13] & 1 != 0' 2>/dev/null | wc -l)" -ge 2 ]; }
until_true 20 fins_8082
stop_capture
wait "$server" 2>/dev/null

out="$work/out"
# A capture with three connections: without --conn the headless player lists them.
"$TCPLAB" play --dump-screen 1 "$work/kernel.pcap" >"$out" 2>&1
status=$?
if [ $status -eq 2 ] && grep -q "3 connections" "$out" && grep -q "10.77.0.2:8080" "$out" &&
    grep -q "10.77.0.2:9 " "$out" && grep -q "refused" "$out"; then
    ok "several connections, no --conn: the list and exit 2"
else
    fail "connection list (status $status)"; cat "$out"
fi

# Handshake, data, teardown: states after the handshake and at the end.
"$TCPLAB" play --conn 8080 --dump-screen 3 --size 100x30 "$work/kernel.pcap" >"$out" 2>/dev/null
if grep -q "CAPTURE" "$out" && grep -q "client 10.77.0.1:[0-9]* · captured" "$out" &&
    [ "$(grep -c 'ESTABLISHED' "$out")" -ge 2 ] && grep -q "SYN_SENT" "$out" &&
    grep -q "SYN_RECEIVED" "$out" && grep -q "three-way handshake is complete" "$out"; then
    ok "step 3: the handshake done, both ends ESTABLISHED (inferred)"
else
    fail "step 3 of the 8080 connection"; cat "$out"
fi
"$TCPLAB" play --conn 10.77.0.2:8080 --dump-screen end --size 100x30 "$work/kernel.pcap" \
    >"$out" 2>/dev/null
lanes=$(grep -E '▶|◀' "$out") # the ladder's rows, with the states in the lanes
if grep -q "║ TIME_WAIT" "$out" || grep -q "│ TIME_WAIT" "$out"; then
    ok "the end: the client's box says TIME_WAIT"
else
    fail "client TIME_WAIT box"; cat "$out"
fi
for st in FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT LAST_ACK; do
    echo "$lanes" | grep -q "$st" && ok "lane shows $st" || { fail "no $st in the lanes"; cat "$out"; }
done
if grep -q "(inferred)" "$out" && grep -q "client holds TIME_WAIT" "$out" &&
    grep -q "PSH,ACK seq=1 ack=1 len=5" "$out" && grep -q "FIN,ACK seq=6" "$out"; then
    ok "relative numbers, inferred causes, the TIME_WAIT holder named"
else
    fail "labels / narration at the end"; cat "$out"
fi
"$TCPLAB" play --conn 8080 --lang zh --dump-screen end --size 80x24 "$work/kernel.pcap" >"$out" 2>/dev/null
if grep -q "客户端" "$out" && grep -q "TIME_WAIT" "$out" && grep -q "推断" "$out"; then
    ok "Chinese narration at 80x24"
else
    fail "zh narration"; cat "$out"
fi

# The RST case: a SYN to a closed port.
"$TCPLAB" play --conn 10.77.0.2:9 --dump-screen end --size 100x30 "$work/kernel.pcap" >"$out" 2>/dev/null
if grep -q "RST,ACK seq=0 ack=1" "$out" && grep -q "ECONNREFUSED" "$out" &&
    grep -q "rcvd RST (inferred)" "$out"; then
    ok "refused: RST,ACK, the client back to CLOSED, ECONNREFUSED named"
else
    fail "the RST case"; cat "$out"
fi

# The segment dropped at the server: sent twice, the first copy shown lost.
"$TCPLAB" play --conn 8082 --dump-screen end --size 120x40 "$work/kernel.pcap" >"$out" 2>/dev/null
if grep -q "lost" "$out" && grep -q "(retransmission)" "$out"; then
    ok "8082: the dropped segment lost, its retransmission marked"
else
    fail "lost + retransmission"; cat "$out"
fi
n=$("$TCPLAB" play --conn 8082 --dump-screen 0 "$work/kernel.pcap" 2>/dev/null | grep -o 'step 0/[0-9]*' | cut -d/ -f2)
found=0
for k in $(seq 1 "${n:-0}"); do
    "$TCPLAB" play --conn 8082 --dump-screen "$k" --size 120x40 "$work/kernel.pcap" 2>/dev/null |
        grep -q "a retransmission. No ACK had covered the first copy" && found=1
done
[ $found = 1 ] && ok "8082: the narration explains the retransmission" || fail "retransmission narration"

# The same traffic from `tcpdump -i any` (Linux cooked header).
capture "$work/any.pcap" -i any
python3 -c '
import socket
try: socket.create_connection(("10.77.0.2", 9), timeout=5)
except ConnectionRefusedError: pass'
stop_capture
"$TCPLAB" play --dump-screen 2 "$work/any.pcap" >"$out" 2>&1
if grep -q "RST,ACK" "$out"; then
    ok "a Linux cooked capture (tcpdump -i any) plays"
else
    fail "tcpdump -i any capture"; cat "$out"
fi
if command -v editcap >/dev/null; then
    editcap -F pcapng "$work/kernel.pcap" "$work/kernel.pcapng" 2>/dev/null
    if "$TCPLAB" play --conn 8080 --dump-screen end "$work/kernel.pcapng" 2>/dev/null | grep -q "TIME_WAIT"; then
        ok "pcapng plays like pcap"
    else
        fail "pcapng"
    fi
fi

# Bad captures: each a clear message and exit 2, never a crash.
bad() { # bad NAME FILE PATTERN
    "$TCPLAB" play --dump-screen 1 "$2" >"$out" 2>&1
    local status=$?
    if [ $status -eq 2 ] && grep -q "$3" "$out"; then
        ok "bad capture, $1: exit 2, says '$3'"
    else
        fail "bad capture $1 (status $status)"; cat "$out"
    fi
}
size=$(stat -c %s "$work/kernel.pcap")
head -c $((size - 7)) "$work/kernel.pcap" >"$work/truncated.pcap"
bad truncated "$work/truncated.pcap" "truncated"
tcpdump --immediate-mode -Z root -U -s 0 -w "$work/udp.pcap" -i tlcap0 udp 2>"$work/tcpdump.err" &
tcpd=$!
capfile=$work/udp.pcap
until_true 20 listening || { echo "FAIL: tcpdump did not start: $(cat "$work/tcpdump.err")"; exit 1; }
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b"hello", ("10.77.0.2", 7))'
stop_capture
bad "not TCP" "$work/udp.pcap" "no TCP over IPv4"
tcpdump -r "$work/kernel.pcap" -w "$work/oneway.pcap" 'src port 8080 and tcp[13] & 2 == 0' 2>/dev/null
bad "one direction, no SYN" "$work/oneway.pcap" "no connection to follow"
echo "not a capture" >"$work/text.pcap"
bad "not a capture" "$work/text.pcap" "not a capture"
# A mid-connection start plays, with the states marked assumed.
tcpdump -r "$work/kernel.pcap" -w "$work/mid.pcap" 'port 8080 and tcp[13] & 2 == 0' 2>/dev/null
"$TCPLAB" play --dump-screen 2 "$work/mid.pcap" >"$out" 2>&1
status=$?
if [ $status -eq 0 ] && grep -q "assumed" "$out" && grep -q "ESTABLISHED" "$out"; then
    ok "mid-connection start: animated, states assumed ESTABLISHED"
else
    fail "mid-connection (status $status)"; cat "$out"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
