#!/usr/bin/env python3
"""TUN integration tests: tcplab's stack against the kernel's own TCP.

Each test is one function below, run as `tun_test.py NAME` inside a private
network namespace made by netns-run.sh (ctest does this; see CMakeLists.txt).
The stack runs as `tcplab listen` or `tcplab connect` on a TUN device; the
kernel side is real sockets, nc and curl. Checks are on behaviour: bytes,
exit statuses, messages, and the JSON Lines trace (states the stack went
through, the kernel's states seen via sock_diag, drop reasons).

Every wait is bounded; every process started here is stopped here, by PID.
Exit status: 0 pass, 1 fail (with a message), 77 skip.
"""
import hashlib
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TCPLAB = os.environ.get("TCPLAB", "tcplab")
STACK = "10.7.0.2"
KERNEL = "10.7.0.1"
WORK = tempfile.mkdtemp(prefix="tcplab-tun-")  # removed by main(), pass or fail
# The TUN tests run in both modes: offloads on (the default: vnet header,
# 64 KB GSO segments from the kernel) and, with TCPLAB_TUN_NO_OFFLOAD=1
# (ctest's tun.plain.* tests), plain packets of at most the MTU.
MODE = ["--no-offload"] if os.environ.get("TCPLAB_TUN_NO_OFFLOAD") == "1" else []


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def iface_exists(name="tl0"):
    # not /sys/class/net: sysfs shows the namespace that mounted it, not ours
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


def wait_for(pred, timeout, what, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(step)
    raise Fail(f"timed out after {timeout}s waiting for {what}")


class Listen:
    """`tcplab listen` in the background, with a JSON trace."""

    def __init__(self, *args, trace=True, tun="tl0"):
        self.trace = os.path.join(WORK, f"listen-{os.getpid()}-{random.randrange(1 << 30)}.jsonl")
        self.stderr_path = self.trace + ".err"
        self.tun = tun
        cmd = [TCPLAB, "listen", "--quiet", *MODE]
        if trace:
            cmd += ["--trace", self.trace]
        cmd += list(args)
        self.err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=self.err)
        try:
            wait_for(lambda: iface_exists(tun) or self.proc.poll() is not None, 20,
                     "the TUN device to appear")
            check(self.proc.poll() is None, f"tcplab listen exited early: {self.stderr()}")
            # The kernel's address on the device means it is configured and up.
            wait_for(lambda: KERNEL in subprocess.run(["ip", "-br", "addr", "show", tun],
                                                      capture_output=True, text=True).stdout,
                     20, "the device's address")
        except BaseException:
            self.kill()
            raise

    def stderr(self):
        self.err.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        """Stop it the way a user would; it must exit 0 and remove the device."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail("tcplab listen did not exit within 10 s of " + signal.Signals(sig).name)
        check(rc == 0, f"tcplab listen exited {rc} after {signal.Signals(sig).name}: {self.stderr()}")
        wait_for(lambda: not iface_exists(self.tun), 10, "the TUN device to be removed")
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def events(self):
        """The trace's events so far. While tcplab runs, its last line may be
        half written (a write is not atomic for a reader of the file), so a
        line without its newline is left for the next call; once it has
        exited, every line must be whole."""
        out = []
        running = self.proc.poll() is None
        with open(self.trace) as f:
            for line in f:
                if not line.endswith("\n") and running:
                    break
                line = line.strip()
                if line:
                    out.append(json.loads(line))
        return out


def run(cmd, timeout, input=None):
    return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)


def tcp_roundtrip(port, data, timeout=10):
    """Send data, half-close, read to EOF; returns what came back."""
    s = socket.create_connection((STACK, port), timeout=timeout)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    return bytes(got)


def conn_name(local, remote):
    return f"{local[0]}:{local[1]}-{remote[0]}:{remote[1]}"


def stack_states(events, stack_port, kernel_port):
    """The `to` states, in order, of the stack's connection STACK:stack_port <-> KERNEL:kernel_port."""
    want = {conn_name((STACK, stack_port), (KERNEL, kernel_port)),
            conn_name((KERNEL, kernel_port), (STACK, stack_port))}
    return [e for e in events if e.get("ev") == "state" and e.get("conn") in want
            and e.get("host", "stack") != "kernel"]


def kernel_events(events, kernel_port):
    """TEV_KERNEL events about the kernel socket using kernel_port."""
    out = []
    for e in events:
        if e.get("ev") != "kernel":
            continue
        if f":{kernel_port}" in json.dumps(e):
            out.append(e)
    return out


def is_subsequence(want, seq):
    it = iter(seq)
    return all(any(x == w for x in it) for w in want)


# ---------------------------------------------------------------------------
# the tests


def test_ping():
    """The stack answers ICMP echo (a raw ICMP socket plays `ping`)."""
    L = Listen()
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.settimeout(15)
        ident, payload = 0x7c1a, b"tcplab-ping-payload"
        for seqno in range(1, 4):
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seqno)
            csum = inet_checksum(hdr + payload)
            s.sendto(struct.pack("!BBHHH", 8, 0, csum, ident, seqno) + payload, (STACK, 0))
            while True:
                pkt, addr = s.recvfrom(2048)
                ihl = (pkt[0] & 0xF) * 4
                typ, code, _, rid, rseq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
                if addr[0] == STACK and typ == 0 and rid == ident and rseq == seqno:
                    check(pkt[ihl + 8:] == payload, "echo reply data differs from the request")
                    break
    finally:
        L.stop()
    icmp = [e for e in L.events() if e.get("ev") == "icmp"]
    check(len(icmp) >= 3, f"expected 3 icmp events in the trace, saw {len(icmp)}")


def inet_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def test_nc_echo_roundtrip():
    L = Listen()
    try:
        r = run(["nc", "-N", "-w", "15", STACK, "7"], 30, input=b"hello, tcplab\n")
        check(r.returncode == 0, f"nc failed ({r.returncode}): {r.stderr!r}")
        check(r.stdout == b"hello, tcplab\n", f"echo returned {r.stdout!r}")
    finally:
        L.stop()


def test_udp_echo_keeps_message_boundaries():
    """UDP echo (RFC 862) on port 7 beside TCP's: each datagram comes back
    whole and alone, no handshake first; a datagram to another port gets no
    answer at all (UDP has no RST)."""
    import socket
    L = Listen()
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(15)
        u.sendto(b"hello", (STACK, 7))
        u.sendto(b"world, two", (STACK, 7))
        got = [u.recvfrom(2048), u.recvfrom(2048)]
        check([g[0] for g in got] == [b"hello", b"world, two"],
              f"datagrams came back as {[g[0] for g in got]!r}")
        check(all(g[1] == (STACK, 7) for g in got), f"replies from {[g[1] for g in got]}")
        u.sendto(b"anyone?", (STACK, 9))
        u.settimeout(0.5)
        try:
            extra = u.recvfrom(2048)
            raise Fail(f"port 9 answered a datagram: {extra!r}")
        except socket.timeout:
            pass
        u.close()
        # TCP echo still works beside it.
        r = run(["nc", "-N", "-w", "15", STACK, "7"], 30, input=b"over tcp\n")
        check(r.stdout == b"over tcp\n", f"tcp echo returned {r.stdout!r}")
    finally:
        L.stop()


VALGRIND = ["valgrind", "-q", "--error-exitcode=9", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect"]


def test_listen_and_connect_clean_under_valgrind():
    """No invalid reads, uninitialised bytes sent to the kernel, or leaks: the
    device setup, an echo round trip, a refused connect, and SIGINT's cleanup."""
    check(subprocess.run(["sh", "-c", "command -v valgrind"], capture_output=True).returncode == 0,
          "valgrind is not installed (scripts/deps.sh test installs it)")
    err = os.path.join(WORK, f"vg-{os.getpid()}.txt")
    with open(err, "w") as ef:
        p = subprocess.Popen(VALGRIND + [TCPLAB, "listen", "--quiet", "--trace", os.devnull, "7"],
                             stdin=subprocess.DEVNULL, stderr=ef)
    try:
        wait_for(lambda: KERNEL in subprocess.run(["ip", "-br", "addr", "show", "tl0"],
                                                  capture_output=True, text=True).stdout
                 or p.poll() is not None, 30, "the device under valgrind")
        r = run(["nc", "-N", "-w", "10", STACK, "7"], 30, input=b"under valgrind\n")
        check(r.stdout == b"under valgrind\n", f"echo returned {r.stdout!r}")
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
    with open(err) as f:
        report = f.read()
    check(rc == 0, f"listen under valgrind: status {rc}:\n{report[-3000:]}")
    check(not iface_exists(), "the device is still there after SIGINT")
    r = run(VALGRIND + [TCPLAB, "connect", "--quiet", *MODE, KERNEL, "5999"], 60, input=b"")
    check(r.returncode == 1 and b"refused" in r.stderr,
          f"refused connect under valgrind: status {r.returncode}:\n{r.stderr[-3000:]!r}")


def pseudo_random_stream(total, seed, chunk=1 << 16):
    rnd = random.Random(seed)
    block = rnd.randbytes(chunk)
    sent = 0
    i = 0
    while sent < total:
        n = min(chunk, total - sent)
        # rotate the block so the stream does not repeat with a short period
        k = (i * 7919) % chunk
        yield (block[k:] + block[:k])[:n]
        sent += n
        i += 1


def echo_bulk(total, timeout):
    """Send `total` bytes through echo, read them back; compare SHA-256."""
    s = socket.create_connection((STACK, 7), timeout=timeout)
    sent_hash = hashlib.sha256()
    errors = []

    def sender():
        try:
            for blk in pseudo_random_stream(total, 42):
                sent_hash.update(blk)
                s.sendall(blk)
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    start = time.monotonic()
    t.start()
    got_hash = hashlib.sha256()
    got = 0
    while True:
        b = s.recv(1 << 18)
        if not b:
            break
        got_hash.update(b)
        got += len(b)
        check(time.monotonic() - start < timeout, f"echo of {total} bytes not done in {timeout}s")
    t.join(timeout=5)
    s.close()
    check(not errors, f"sender failed: {errors}")
    check(got == total, f"sent {total} bytes, echo returned {got}")
    check(sent_hash.hexdigest() == got_hash.hexdigest(), "SHA-256 of sent and echoed data differ")
    log(f"echo {total} bytes in {time.monotonic() - start:.2f}s, sha256 {got_hash.hexdigest()[:16]}…")


def test_echo_100mb_sha256():
    L = Listen(trace=False)
    try:
        echo_bulk(100 * 1000 * 1000, 120)
    finally:
        L.stop()


def test_200_concurrent_clients():
    """200 connections open at once; each gets its own message echoed."""
    L = Listen(trace=False)
    n = 200
    sel = selectors.DefaultSelector()
    try:
        conns = []
        for i in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((STACK, 7))
            msg = f"client {i:03d} says hello\n".encode() * 20
            conns.append({"s": s, "msg": msg, "out": 0, "got": bytearray(), "done": False})
            sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, conns[-1])
        deadline = time.monotonic() + 90
        finished = 0
        while finished < n:
            check(time.monotonic() < deadline, f"only {finished} of {n} clients served in 90 s")
            for key, ev in sel.select(timeout=1):
                c = key.data
                s = c["s"]
                if ev & selectors.EVENT_WRITE and c["out"] < len(c["msg"]):
                    try:
                        c["out"] += s.send(c["msg"][c["out"]:])
                    except BlockingIOError:
                        pass
                    if c["out"] == len(c["msg"]):
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ, c)
                if ev & selectors.EVENT_READ:
                    try:
                        b = s.recv(65536)
                    except BlockingIOError:
                        continue
                    if b:
                        c["got"] += b
                    else:
                        sel.unregister(s)
                        s.close()
                        c["done"] = True
                        finished += 1
        bad = [i for i, c in enumerate(conns) if bytes(c["got"]) != c["msg"]]
        check(not bad, f"{len(bad)} clients got wrong echoes, e.g. #{bad[:5]}")
    finally:
        L.stop()


def connect_close_in_flight(port, inflight, total, seconds):
    """Kernel clients doing connect, shutdown(SHUT_WR), read to EOF, close,
    `inflight` at a time until `total` connections are done; `seconds` bounds
    the whole run (a stalled service fails, a slow machine only takes longer).
    Returns the number of connections completed."""
    sel = selectors.DefaultSelector()
    done = started = 0
    give_up = time.monotonic() + seconds

    def start():
        nonlocal started
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((STACK, port))
        sel.register(s, selectors.EVENT_WRITE, "connecting")
        started += 1

    for _ in range(inflight):
        start()
    while sel.get_map():
        check(time.monotonic() < give_up, f"only {done} of {total} connections done in {seconds} s "
              f"({len(sel.get_map())} still open)")
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            if key.data == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                check(err == 0, f"connect failed: {os.strerror(err)} after {done} connections")
                s.shutdown(socket.SHUT_WR)
                sel.modify(s, selectors.EVENT_READ, "reading")
                continue
            try:
                b = s.recv(65536)
            except BlockingIOError:
                continue
            if b:
                continue
            sel.unregister(s)
            s.close()
            done += 1
            if started < total:
                start()
    return done


def test_16_in_flight_no_syn_retransmissions():
    """16 kernel clients at a time, connect+close, 600 connections (well over
    the backlog of 128; counted, not timed, so a loaded machine only takes
    longer): the services accept every connection as a real server does, no
    SYN is dropped (backlog_full) and so the kernel never retransmits a SYN —
    with a JSON trace open (which also samples the kernel's sockets) and
    without."""
    for port, trace in ((9, True), (10, False)):
        before = kernel_counter("TcpExt:TCPSynRetrans")
        L = Listen(f"{port}:discard", trace=trace)
        try:
            n = connect_close_in_flight(port, 16, 600, 120)
        finally:
            L.stop()
        retrans = kernel_counter("TcpExt:TCPSynRetrans") - before
        log(f"port {port} trace={trace}: {n} connections, {retrans} SYN retransmissions")
        check(n == 600 and n > 4 * 128, f"{n} connections, not 600 (well over the backlog of 128)")
        check(retrans == 0, f"the kernel retransmitted {retrans} SYNs in {n} connections "
              f"(trace={trace}): SYNs were dropped")
        if trace:
            ev = L.events()
            drops = [e for e in ev if e.get("reason") == "backlog_full"]
            check(not drops, f"{len(drops)} segments dropped as backlog_full, e.g. {drops[:1]}")
            accepts = [e for e in ev if e.get("ev") == "call" and e.get("call") == "accept"
                       and e.get("result", -1) >= 0]
            check(len(accepts) == n, f"{len(accepts)} accept() calls for {n} connections")
            kstates = {e.get("state") for e in ev if e.get("ev") == "kernel"}
            check({"SYN_SENT", "FIN_WAIT_1"} <= kstates,
                  f"the kernel's sampled states miss SYN_SENT/FIN_WAIT_1: {sorted(kstates)}")


def packets_summary(L):
    """(in, out, dropped, retransmitted) from the summary tcplab listen prints
    when it stops."""
    m = re.search(r"packets in (\d+), out (\d+), dropped (\d+), retransmitted (\d+)", L.stderr())
    check(m, f"no packet summary in: {L.stderr()!r}")
    return tuple(int(g) for g in m.groups())


def drop_reasons(L):
    """{reason: count} from the "drops by reason" line of listen's summary."""
    m = re.search(r"drops by reason: (.*)", L.stderr())
    return {k: int(v) for k, v in (x.rsplit(" ", 1) for x in m.group(1).split(", "))} if m else {}


def kernel_counter(name):
    """One of this namespace's own kernel TCP counters: `Tcp:RetransSegs`
    from /proc/net/snmp, `TcpExt:TCPSynRetrans` from /proc/net/netstat."""
    section, field = name.split(":")
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        with open(path) as f:
            lines = f.read().splitlines()
        for names, values in zip(lines[::2], lines[1::2]):
            if names.startswith(section + ":"):
                row = dict(zip(names.split()[1:], values.split()[1:]))
                if field in row:
                    return int(row[field])
    raise Fail(f"no {name} in /proc/net/snmp or /proc/net/netstat")


# A machine so loaded that a process waits longer than a retransmission
# timeout for the CPU makes a sender time out once; that is the scheduler's
# doing. What observing must not cause is a stream of them.
RTX_SLACK = 10


def check_observed_run_clean(L, krtx, what):
    """Nothing dropped and nothing sent again, but for what a machine too
    loaded to run the stack in time explains: a kernel that timed out sends
    again what the stack already has, and the stack drops that duplicate
    (unacceptable, with an ACK, RFC 9293 §3.10.7.4) — one drop per kernel
    retransmission at most, and no more than one timeout's worth."""
    pin, pout, dropped, rtx = packets_summary(L)
    reasons = drop_reasons(L)
    dups = sum(reasons.pop(r, 0) for r in ("unacceptable_segment", "paws"))
    log(f"{what}: packets in {pin}, out {pout}, dropped {dropped} {drop_reasons(L)}, "
        f"retransmitted by the stack {rtx}, by the kernel {krtx}")
    check(not reasons and dups <= krtx <= RTX_SLACK and rtx <= RTX_SLACK,
          f"{what}: dropped {dropped} {drop_reasons(L)}, the stack retransmitted {rtx}, "
          f"the kernel {krtx}")
    return pin, pout


def connect_close_300(what, *args, trace):
    """300 connect+close exchanges with discard on a `tcplab listen ARGS`:
    ((packets in, out), the stopped Listen), the run held to
    check_observed_run_clean."""
    before = kernel_counter("Tcp:RetransSegs")
    L = Listen("9:discard", *args, trace=trace)
    try:
        for _ in range(300):
            check(tcp_roundtrip(9, b"") == b"", "discard sent something back")
    finally:
        L.stop()
    return check_observed_run_clean(L, kernel_counter("Tcp:RetransSegs") - before,
                                    f"300 connect+close {what}"), L


def test_trace_does_not_change_the_segments_sent():
    """Observing must not change the protocol. 300 connect+close exchanges
    (connect, shutdown, read to EOF, close) with a JSON trace — every event
    formatted and written, the kernel's sockets sampled — and without any
    observer need the same packets each way, counted by the stack; the only
    slack allowed is an ACK that a batch boundary folds into a FIN or not.
    Then a 2 MB echo with and without the trace: how many packets carry it
    depends on how the device's batches and GSO super-packets fall, which
    the scheduler decides, so there the comparison is of what observing
    must never cause: a segment sent again (by the stack or by the kernel)
    or a packet dropped. Both runs must be clean (check_observed_run_clean)."""
    counts = {trace: connect_close_300(f"trace={trace}", trace=trace)[0] for trace in (False, True)}
    for i, what in ((0, "in"), (1, "out")):
        a, b = counts[False][i], counts[True][i]
        check(abs(a - b) <= 300 // 10, f"packets {what}: {a} without an observer, {b} with --trace")
    for trace in (False, True):
        before = kernel_counter("Tcp:RetransSegs")
        L = Listen("7:echo", trace=trace)
        try:
            data = os.urandom(2 << 20)
            check(tcp_roundtrip(7, data, timeout=30) == data, "the echo came back different")
        finally:
            L.stop()
        check_observed_run_clean(L, kernel_counter("Tcp:RetransSegs") - before,
                                 f"2 MB echo trace={trace}")


def test_busy_poll_does_not_change_the_segments_sent():
    """Busy-polling is a way of waiting, not of doing TCP: 300 connect+close
    exchanges with --busy-poll 0 (the loop sleeps at once) and with
    --busy-poll 200 need the same packets each way (the slack is the one of
    test_trace_does_not_change_the_segments_sent: an ACK a batch boundary
    folds into a FIN or not), both runs clean (check_observed_run_clean);
    with 0 the summary says nothing was spun."""
    counts, lines = {}, {}
    for spin in ("0", "200"):
        counts[spin], L = connect_close_300(f"--busy-poll {spin}", "--busy-poll", spin, trace=False)
        m = re.search(r"busy-poll ([0-9.]+) ms of CPU \(caught (\d+), slept (\d+)\)", L.stderr())
        check(m, f"no busy-poll line in the summary: {L.stderr()!r}")
        lines[spin] = m
    m = lines["0"]
    check(m.group(1) == "0.0" and m.group(2) == "0" and m.group(3) == "0",
          f"--busy-poll 0 still spun: {m.group(0)}")
    for i, what in ((0, "in"), (1, "out")):
        a, b = counts["0"][i], counts["200"][i]
        check(abs(a - b) <= 300 // 10, f"packets {what}: {a} with --busy-poll 0, {b} with 200")


def bulk_into_discard(total, *args):
    """TOTAL bytes (a multiple of 64 KiB) from a kernel client into a
    `tcplab listen ARGS 9:discard`, then the client's FIN and discard's;
    returns the stopped Listen and the client's port."""
    L = Listen(*args, "9:discard")
    try:
        s = socket.create_connection((STACK, 9), timeout=10)
        port = s.getsockname()[1]
        chunk = b"x" * (1 << 16)
        for _ in range(total // len(chunk)):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        check(s.recv(1) == b"", "discard sent something back")
        s.close()
    finally:
        L.stop()
    return L, port


def test_offload_segments_arrive_as_sent():
    """Bulk data into discard: with offloads (the default) the kernel hands
    over GSO super-packets and the trace shows them as they arrived, single
    segments larger than the MSS; with --no-offload no segment is larger
    than the MSS. Either way every byte is received exactly once."""
    total = 8 << 20
    L, _ = bulk_into_discard(total)
    data = [e for e in L.events() if e.get("ev") == "seg" and e.get("dir") == "in"
            and e.get("dst") == f"{STACK}:9" and e.get("len", 0) > 0]
    check(sum(e["len"] for e in data) >= total, "the trace shows fewer bytes than were sent")
    biggest = max(e["len"] for e in data)
    if MODE:
        check(biggest <= 1460, f"--no-offload: a {biggest}-byte segment arrived (MSS 1460)")
    else:
        check(biggest > 1460, f"offloads on, but no segment larger than the MSS ({biggest})")
        log(f"largest segment received: {biggest} bytes")


def bulk_into_discard_acks(total, *args):
    """TOTAL bytes from a kernel client into discard with plain packets
    (--no-offload plus ARGS); returns the data segments that arrived and, for
    each segment the stack sent on that connection after one that held no
    out-of-order data, how far its ACK number moved past the one before (the
    bytes that one ACK newly covers)."""
    L, port = bulk_into_discard(total, "--no-offload", *args)
    me, peer = f"{STACK}:9", f"{KERNEL}:{port}"
    segs = [e for e in L.events() if e.get("ev") == "seg" and {e.get("src"), e.get("dst")} == {me, peer}]
    data = [e for e in segs if e["dir"] == "in" and e.get("len", 0) > 0]
    # An ACK after one that carried SACK blocks may fill a hole (a packet
    # the kernel dropped at tl0's queue under load): it covers all that was
    # held, as it must. Only moves from an ACK with nothing held count.
    acks = [e for e in segs if e["dir"] == "out" and "." in e["flags"]]
    moves = [(b["ack"] - a["ack"]) % (1 << 32) for a, b in zip(acks, acks[1:])
             if not a.get("opts", {}).get("sack")]
    check(sum(e["len"] for e in data) >= total, "the trace shows fewer bytes than were sent")
    return data, moves


def test_plain_acks_at_least_every_2_rmss():
    """RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3 (SHLD-19) on TUN, where the loop
    holds ACKs to the end of each batch: with plain packets, no ACK waits
    for more than 2*RMSS bytes of in-order data, however the kernel's
    segments were batched. (An ACK
    that fills a hole covers what was held beyond it; those are left out.) With
    --stretch-acks 64K (one ACK per burst, as Linux's GRO) no ACK covers
    more than 64 KB, and every byte still arrives."""
    total = 8 << 20
    data, moves = bulk_into_discard_acks(total)
    mss = max(e["len"] for e in data)
    check(mss <= 1460, f"--no-offload, yet a {mss}-byte segment arrived")
    # "at least every second full-sized segment or 2*RMSS bytes" (RMSS: the
    # 1460 the stack announced): an ACK is due once 2*RMSS bytes wait, so it
    # covers less than 2*RMSS plus the segment that made it due (+1: a FIN).
    rmss = 1460
    check(max(moves) <= 3 * rmss,
          f"an ACK covered {max(moves)} new bytes: more than 2*RMSS waited unacknowledged")
    _, moves = bulk_into_discard_acks(total, "--stretch-acks", "64K")
    check(max(moves) <= 65536 + 1, f"--stretch-acks 64K, yet an ACK covered {max(moves)} bytes")
    log(f"--stretch-acks 64K: {len(moves)} ACKs for {total} bytes, largest {max(moves)}")


def test_rfc7323_kernel_and_stack_agree_timestamps_rtt_from_tsecr():
    """RFC 7323 against the kernel: its SYN offers timestamps and the stack
    (timestamps on by default on TUN) agrees — the SYN,ACK echoes the SYN's
    TSval, the kernel reports TCPI_OPT_TIMESTAMPS, every segment the stack
    sends carries TSopt — and each RTT sample the stack takes (`rtt` events)
    comes from a TSecr: the echo, in the kernel's ACK just before it, of a
    TSval the stack had sent. No timed (Karn) sample is taken. With
    `--timestamps off` nothing carries TSopt and the samples are timed."""
    L = Listen()
    try:
        s = socket.create_connection((STACK, 7), timeout=15)
        port = s.getsockname()[1]
        for i in range(5):
            msg = f"stamp {i}\n".encode()
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = s.recv(100)
                check(chunk, "the echo stopped")
                got += chunk
            check(got == msg, f"echo returned {got!r}")
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        check(info[5] & 1, "the kernel did not agree to timestamps (tcpi_options)")
        s.close()
        wait_for(lambda: any(e.get("ev") == "state" and e.get("to") == "CLOSED"
                             for e in stack_states(L.events(), 7, port)), 20,
                 "the stack's connection to close")
    finally:
        L.stop()
    ev = L.events()
    me, peer = f"{STACK}:7", f"{KERNEL}:{port}"
    segs = [e for e in ev if e.get("ev") == "seg" and {e.get("src"), e.get("dst")} == {me, peer}]
    syn = next((e for e in segs if e["dir"] == "in" and e["flags"] == "S"), None)
    check(syn and "ts" in syn.get("opts", {}), f"the kernel's SYN offered no timestamps: {syn}")
    synack = next((e for e in segs if e["dir"] == "out" and e["flags"] == "S."), None)
    check(synack and synack.get("opts", {}).get("ts", [0, 0])[1] == syn["opts"]["ts"][0],
          f"the SYN,ACK does not echo the SYN's TSval: {synack}")
    outs = [e for e in segs if e["dir"] == "out" and "R" not in e["flags"]]
    check(all("ts" in e.get("opts", {}) for e in outs),
          f"a segment without TSopt: {[e for e in outs if 'ts' not in e.get('opts', {})][:1]}")
    sent = set()
    last_in = None
    samples = 0
    conn = conn_name((STACK, 7), (KERNEL, port))
    for e in ev:
        if e in segs and e["dir"] == "out":
            sent.add(e["opts"]["ts"][0]) if "ts" in e.get("opts", {}) else None
        elif e in segs and e["dir"] == "in":
            last_in = e
        elif e.get("ev") == "rtt" and e.get("conn") == conn:
            samples += 1
            check(e.get("from") == "ts", f"an RTT sample not from a TSecr: {e}")
            check(e["ecr"] in sent, f"the sample's TSecr {e['ecr']} is not a TSval the stack sent")
            check(last_in and last_in.get("opts", {}).get("ts", [0, 0])[1] == e["ecr"],
                  f"the sample's TSecr is not the echo in the kernel's ACK: {e} after {last_in}")
    check(samples >= 5, f"only {samples} RTT samples from the kernel's TSecr")

    # --timestamps off: the SYN,ACK answers without TSopt, nothing carries
    # it, and the RTT is timed instead (Karn).
    L = Listen("--timestamps", "off")
    try:
        s = socket.create_connection((STACK, 7), timeout=15)
        port = s.getsockname()[1]
        s.sendall(b"untimed\n")
        check(s.recv(100) == b"untimed\n", "no echo with --timestamps off")
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        check(not info[5] & 1, "the kernel uses timestamps though the stack did not agree")
        s.close()
        wait_for(lambda: any(e.get("ev") == "state" and e.get("to") == "CLOSED"
                             for e in stack_states(L.events(), 7, port)), 20,
                 "the stack's connection to close")
    finally:
        L.stop()
    ev = L.events()
    outs = [e for e in ev if e.get("ev") == "seg" and e["dir"] == "out" and e["dst"] == f"{KERNEL}:{port}"]
    check(outs and not any("ts" in e.get("opts", {}) for e in outs), "TSopt sent with --timestamps off")
    rtts = [e for e in ev if e.get("ev") == "rtt"]
    check(rtts and all(e["from"] == "timed" for e in rtts), f"RTT samples with --timestamps off: {rtts}")


def test_gso_send_the_kernel_cuts_what_the_stack_sent():
    """Send-side GSO: echo replies leave the stack as super-packets (the
    trace shows single segments larger than the MSS) with a vnet header, and
    the kernel cuts them. Seen on the way to a routed namespace whose veth
    has TSO/GSO switched off, so the kernel segments in software before the
    capture on it: every packet there is at most the MTU with a correct
    checksum, and the data arrives intact. With --no-offload no segment is
    larger than the MSS to begin with."""
    for tool in ("ethtool", "nsenter", "tcpdump", "tshark"):
        check(shutil.which(tool), f"needs {tool} (scripts/deps.sh test)")
    L = Listen("7:echo")
    student = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    dump = None
    pcap = os.path.join(WORK, "veth.pcap")
    try:
        # until unshare has made its namespace (moving veth1 before that
        # would leave it here)
        ours = os.readlink("/proc/self/ns/net")
        wait_for(lambda: os.readlink(f"/proc/{student.pid}/ns/net") != ours, 20,
                 "the routed namespace")
        ns = ["nsenter", f"--net=/proc/{student.pid}/ns/net"]
        for cmd in (["ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1"],
                    ["ip", "link", "set", "veth1", "netns", str(student.pid)],
                    ["ip", "addr", "add", "10.8.0.1/24", "dev", "veth0"],
                    ["ip", "link", "set", "veth0", "up"],
                    ["ethtool", "-K", "veth0", "tso", "off", "gso", "off", "sg", "off", "tx", "off"],
                    ns + ["ip", "link", "set", "lo", "up"],
                    ns + ["ip", "addr", "add", "10.8.0.2/24", "dev", "veth1"],
                    ns + ["ip", "link", "set", "veth1", "up"],
                    ns + ["ip", "route", "add", "default", "via", "10.8.0.1"],
                    ["sysctl", "-qw", "net.ipv4.ip_forward=1"]):
            r = run(cmd, 10)
            check(r.returncode == 0, f"{' '.join(cmd)}: {r.stderr!r}")
        dump = subprocess.Popen(["tcpdump", "-i", "veth0", "-nn", "-U", "-w", pcap,
                                 "tcp and src 10.7.0.2"], stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(pcap), 20, "tcpdump to start")
        time.sleep(0.3)
        total = 4 << 20
        client = routed_echo_client(total)
        r = run(ns + [sys.executable, "-c", client], 60)
        check(r.returncode == 0, f"the routed client failed: {r.stdout!r} {r.stderr!r}")
        time.sleep(0.3)
    finally:
        if dump:
            dump.send_signal(signal.SIGINT)
            dump.wait(timeout=10)
        student.kill()
        student.wait(timeout=5)
        L.stop()
    out = [e for e in L.events() if e.get("ev") == "seg" and e.get("dir") == "out"
           and e.get("len", 0) > 0]
    check(sum(e["len"] for e in out) >= total, "the trace shows fewer bytes sent than echoed")
    biggest = max(e["len"] for e in out)
    r = run(["tshark", "-r", pcap, "-o", "tcp.check_checksum:TRUE", "-T", "fields",
             "-e", "ip.len", "-e", "tcp.checksum.status"], 60)
    check(r.returncode == 0, f"tshark failed: {r.stderr!r}")
    rows = [l.split("\t") for l in r.stdout.decode().splitlines() if l.strip()]
    # (tcpdump may lose a few packets on a busy machine: half is plenty)
    check(len(rows) >= total // 1460 // 2, f"only {len(rows)} packets on veth0 for {total} bytes")
    check(max(int(x[0]) for x in rows) <= 1500, "a packet larger than the MTU left on veth0")
    check(all(x[1] == "1" for x in rows), "a segment on veth0 has a bad TCP checksum")
    log(f"largest segment sent: {biggest} bytes; {len(out)} data segments in the trace, "
        f"{len(rows)} packets on the routed veth")
    if MODE:
        check(biggest <= 1460, f"--no-offload: a {biggest}-byte segment was sent (MSS 1460)")
    else:
        # That the kernel cut them is the three facts together: the stack sent
        # segments larger than the MSS (here), nothing larger than the MTU
        # left on veth0, and the data arrived intact. How many packets each
        # became depends on how the stack batched its sends, so counts of the
        # two sides are not compared.
        check(biggest > 1460, f"offloads on, but no segment sent larger than the MSS ({biggest})")


def routed_echo_client(total):
    """A Python client for 10.7.0.2:7 from the routed namespace: `total`
    pseudo-random bytes out, the same back, exit 0 only if intact."""
    return f"""
import hashlib, random, socket, sys, threading
d = random.Random(7).randbytes({total})
s = socket.create_connection(("10.7.0.2", 7), timeout=30)
def send():
    s.sendall(d)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=send, daemon=True).start()
g = bytearray()
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    g += b
sys.exit(0 if bytes(g) == d else 1)
"""


def test_kernel_closes_first():
    """The kernel client closes first: the stack goes CLOSE_WAIT -> LAST_ACK ->
    CLOSED and the kernel's socket is seen in TIME_WAIT (sock_diag)."""
    L = Listen()
    try:
        s = socket.create_connection((STACK, 7), timeout=15)
        port = s.getsockname()[1]
        s.sendall(b"bye\n")
        check(s.recv(100) == b"bye\n", "no echo")
        s.close()  # our FIN first
        # until the kernel's TIME_WAIT has been reported (bounded)
        wait_for(lambda: any("TIME_WAIT" in json.dumps(e) for e in kernel_events(L.events(), port)),
                 20, "a TEV_KERNEL event with TIME_WAIT in the trace")
    finally:
        L.stop()
    ev = L.events()
    tos = [e["to"] for e in stack_states(ev, 7, port)]
    check(is_subsequence(["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"], tos),
          f"stack states were {tos}")
    ks = [e.get("state") for e in kernel_events(ev, port)]
    # FIN_WAIT_1 lasts one round trip: it is seen because the kernel's sockets
    # are read just before the stack handles the kernel's FIN.
    check(is_subsequence(["ESTABLISHED", "FIN_WAIT_1", "TIME_WAIT"], ks) or
          is_subsequence(["SYN_SENT", "FIN_WAIT_1", "TIME_WAIT"], ks), f"kernel states were {ks}")


def stack_closes_first(fetch, port, through_fin_wait_2=False):
    L = Listen("--msl", "1")
    try:
        cport, data = fetch()
        wait_for(lambda: "CLOSED" in [e["to"] for e in stack_states(L.events(), port, cport)
                                      if e["from"] == "TIME_WAIT"],
                 30, "TIME_WAIT -> CLOSED after 2*MSL")
    finally:
        L.stop()
    st = stack_states(L.events(), port, cport)
    tos = [e["to"] for e in st]
    # A FIN that carries the ACK of ours still passes FIN_WAIT_2 (RFC 9293's
    # fifth step takes the ACK before the eighth takes the FIN; the engine has
    # no FIN_WAIT_1 -> TIME_WAIT). The one other legal path is a simultaneous
    # close: curl closes as soon as it has Content-Length bytes, and its FIN
    # can cross ours on the wire (its ACK does not cover our FIN yet).
    paths = [["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"]]
    if not through_fin_wait_2:
        paths += [["ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT", "CLOSED"]]
    check(any(is_subsequence(p, tos) for p in paths), f"stack states were {tos}")
    tw = [e for e in st if e["to"] == "TIME_WAIT"][0]
    closed = [e for e in st if e["from"] == "TIME_WAIT" and e["to"] == "CLOSED"][0]
    # 2*MSL with --msl 1: the timer may not fire early (a lower bound, not a speed test).
    check(closed["t"] - tw["t"] >= 1.99, f"TIME_WAIT lasted {closed['t'] - tw['t']:.3f}s, not 2*MSL")
    return data


def test_stack_closes_first_daytime():
    def fetch():
        s = socket.create_connection((STACK, 13), timeout=15)
        port = s.getsockname()[1]
        data = b""
        while True:
            b = s.recv(1000)
            if not b:
                break
            data += b
        # Wait before closing, so the kernel acknowledges our FIN on its own
        # (delayed ACK) and the stack passes through FIN_WAIT_2.
        time.sleep(0.3)
        s.close()
        return port, data
    data = stack_closes_first(fetch, 13, through_fin_wait_2=True)
    check(data.endswith(b"\r\n") and b"UTC" in data, f"daytime said {data!r}")


def test_stack_closes_first_http_curl():
    def fetch():
        port = 40123
        r = run(["curl", "-s", "-m", "20", "--local-port", str(port), f"http://{STACK}/"], 30)
        check(r.returncode == 0, f"curl failed ({r.returncode}): {r.stderr!r}")
        return port, r.stdout
    body = stack_closes_first(fetch, 80)
    check(b"tcplab" in body and KERNEL.encode() in body and b"ESTABLISHED" in body,
          f"the page does not describe the connection: {body[:300]!r}")


def test_unserved_port_refused():
    L = Listen()
    try:
        try:
            socket.create_connection((STACK, 5555), timeout=15)
            raise Fail("connect to an unserved port succeeded")
        except ConnectionRefusedError:
            pass
    finally:
        L.stop()


def test_connect_refused():
    r = run([TCPLAB, "connect", "--quiet", *MODE, KERNEL, "5999"], 20, input=b"")
    check(r.returncode == 1, f"status {r.returncode}, want 1; stderr {r.stderr!r}")
    check(b"refused" in r.stderr, f"stderr does not say refused: {r.stderr!r}")
    check(not iface_exists(), "the TUN device is still there after exit")


def test_connect_to_kernel_listener_half_close():
    """Data both ways; the stack's FIN (stdin EOF) arrives while the kernel's
    direction stays open; the kernel answers after it and closes. 3 MiB of
    stdin: many pipe reads, several in one wake-up (cmd_connect.c reads
    stdin again while the stack takes it all), must arrive intact, in order."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 5000))
    srv.listen(1)
    srv.settimeout(15)
    result = {}

    def server():
        try:
            c, _ = srv.accept()
            c.settimeout(10)
            got = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break  # the stack's FIN: half-closed
                got += b
            result["got"] = got
            c.sendall(b"kernel heard %d bytes\n" % len(got) + b"k" * 100000)
            c.close()
        except Exception as e:
            result["error"] = e

    t = threading.Thread(target=server, daemon=True)
    t.start()
    data = os.urandom(3 << 20)
    r = run([TCPLAB, "connect", "--quiet", *MODE, KERNEL, "5000"], 30, input=data)
    t.join(timeout=5)
    srv.close()
    check("error" not in result, f"kernel server failed: {result.get('error')}")
    check(result.get("got") == data, "the kernel did not receive stdin intact")
    check(r.returncode == 0, f"status {r.returncode}; stderr {r.stderr!r}")
    check(r.stdout == b"kernel heard %d bytes\n" % len(data) + b"k" * 100000,
          f"stdout was {len(r.stdout)} bytes: {r.stdout[:60]!r}")


def test_connect_reset_by_kernel_says_reset():
    """A kernel server that aborts (SO_LINGER 0): tcplab connect says "reset", status 1."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 5002))
    srv.listen(1)
    srv.settimeout(15)

    def server():
        try:
            c, _ = srv.accept()
            c.recv(100)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        except OSError:
            pass

    t = threading.Thread(target=server, daemon=True)
    t.start()
    # stdin stays open (a pipe nobody closes), so only the RST can end it
    p = subprocess.Popen([TCPLAB, "connect", "--quiet", *MODE, KERNEL, "5002"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"hello\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Fail("tcplab connect did not end after the kernel's RST")
    finally:
        t.join(timeout=5)
        srv.close()
    check(p.returncode == 1, f"status {p.returncode}, want 1; stderr {err!r}")
    check(b"reset" in err, f"stderr does not say reset: {err!r}")


def test_connect_prints_data_received_before_rst():
    """The kernel server writes 31 bytes, then closes with our data unread, which
    makes Linux send RST: like nc, tcplab connect writes the 31 bytes to stdout
    first, then says "reset" and exits 1."""
    payload = b"31 bytes before the reset here\n"
    check(len(payload) == 31, "the payload is 31 bytes")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 5003))
    srv.listen(1)
    srv.settimeout(15)
    unread = threading.Event()

    def has_data(c):
        try:
            return c.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return False

    def server():
        try:
            c, _ = srv.accept()
            # wait until our line sits unread in the kernel's receive queue
            wait_for(lambda: has_data(c), 10, "the client's line to arrive")
            unread.set()
            # Right away: the segment and the RST arrive together, as in the report.
            c.sendall(payload)
            c.close()  # with unread data Linux answers close() with RST (RFC 2525)
        except (OSError, Fail):
            pass

    t = threading.Thread(target=server, daemon=True)
    t.start()
    # stdout and stderr into one pipe, to see their order
    p = subprocess.Popen([TCPLAB, "connect", "--quiet", KERNEL, "5003"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        p.stdin.write(b"hello\n")
        p.stdin.flush()  # stdin stays open: only the RST ends the connection
        out, _ = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Fail("tcplab connect did not end after the kernel's RST")
    finally:
        t.join(timeout=5)
        srv.close()
    check(unread.is_set(), "the server never saw the client's line")
    check(p.returncode == 1, f"status {p.returncode}, want 1; output {out!r}")
    check(out.startswith(payload), f"the 31 bytes are not written first: {out!r}")
    check(b"reset" in out[len(payload):], f"no 'reset' message after the data: {out!r}")


def test_chargen_streams_rfc864_lines():
    L = Listen(trace=False)
    try:
        s = socket.create_connection((STACK, 19), timeout=15)
        got = b""
        while len(got) < 20000:
            b = s.recv(65536)
            check(b, "chargen ended by itself")
            got += b
        s.close()
    finally:
        L.stop()
    lines = got.split(b"\r\n")[:-1]
    check(len(lines) > 200, "too few lines")
    for i, line in enumerate(lines[:-1]):
        want = bytes(32 + (i + k) % 95 for k in range(72))
        check(line == want, f"line {i} is {line[:20]!r}…, want {want[:20]!r}…")


def test_linger0_abort_resets_stack_connection():
    L = Listen()
    try:
        s = socket.create_connection((STACK, 7), timeout=15)
        port = s.getsockname()[1]
        s.sendall(b"x")
        check(s.recv(10) == b"x", "no echo")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
        wait_for(lambda: any(e["to"] == "CLOSED" for e in stack_states(L.events(), 7, port)), 20,
                 "the stack's connection to close on RST")
        check(tcp_roundtrip(7, b"still here\n") == b"still here\n",
              "echo does not work after the reset")
    finally:
        L.stop()
    st = stack_states(L.events(), 7, port)
    last = st[-1]
    check(last["from"] == "ESTABLISHED" and last["to"] == "CLOSED",
          f"expected ESTABLISHED -> CLOSED on RST, saw {[(e['from'], e['to']) for e in st]}")
    segs = [e for e in L.events() if e.get("ev") == "seg" and e.get("dir") == "in"
            and "R" in e.get("flags", "") and e.get("src", "").endswith(f":{port}")]
    check(segs, "no incoming RST segment in the trace")


def nft(rules):
    r = subprocess.run(["nft", "-f", "-"], input=rules.encode(), capture_output=True)
    if r.returncode != 0:
        raise Fail(f"nft refused the rules: {r.stderr.decode()}")


def test_connect_syn_retries_then_timed_out():
    nft("""table inet tcplab_test {
  chain input { type filter hook input priority 0; tcp dport 5001 tcp flags & syn == syn drop; }
}""")
    trace = os.path.join(WORK, "syn.jsonl")
    r = run([TCPLAB, "connect", "--quiet", *MODE, "--syn-retries", "3", "--trace", trace, KERNEL, "5001"],
            60, input=b"")
    check(r.returncode == 1, f"status {r.returncode}, want 1; stderr {r.stderr!r}")
    check(b"timed out" in r.stderr, f"stderr does not say timed out: {r.stderr!r}")
    ev = [json.loads(line) for line in open(trace) if line.strip()]
    syns = [e["t"] for e in ev if e.get("ev") == "seg" and e.get("dir") == "out"
            and e.get("flags") == "S"]
    check(len(syns) == 4, f"expected the SYN and 3 retransmissions, saw {len(syns)} SYNs")
    # The backoff doubles (RFC 6298 (5.5)): each retransmission timer the
    # engine arms is twice the one before. Read from the arm events (deadline
    # minus the time armed, both the engine's), not from when the SYNs left:
    # a loaded machine fires a timer late, which stretches one gap and
    # shortens the next, and says nothing about the backoff.
    arms = [e["deadline"] - e["t"] for e in ev if e.get("ev") == "timer"
            and e.get("timer") == "rtx" and e.get("action") == "arm"]
    check(len(arms) >= 4, f"expected 4 retransmission timers armed, saw {arms}")
    arms = arms[:4]
    check(all(abs(b - 2 * a) < 0.001 for a, b in zip(arms, arms[1:])), f"the RTOs do not double: {arms}")
    # and no SYN left before its timer ran out (late is the scheduler, early a bug)
    gaps = [b - a for a, b in zip(syns, syns[1:])]
    check(all(g >= a - 0.001 for g, a in zip(gaps, arms)), f"a SYN went before its RTO: {gaps} {arms}")


def test_echo_20mb_with_5pct_loss_both_ways():
    L = Listen(trace=False)
    try:
        nft("""table inet tcplab_loss {
  chain input { type filter hook input priority 0; ip saddr 10.7.0.2 numgen random mod 100 < 5 drop; }
  chain output { type filter hook output priority 0; ip daddr 10.7.0.2 numgen random mod 100 < 5 drop; }
}""")
        echo_bulk(20 * 1000 * 1000, 170)
    finally:
        L.stop()


def sack_transfer(sack, loss_pct, total, port=5020, cc_algo=None):
    """The stack sends `total` bytes (`tcplab connect`, plain packets) to a
    kernel sink while nftables drops `loss_pct` of each 100 data segments
    from the stack, by a counter (`numgen inc`), not at random, so SACK on
    and off meet the same loss pattern. `cc_algo` is given to --cc (None:
    the default, NewReno). Returns
    (retransmitted bytes, the cc events) after checking the data arrived
    intact."""
    subprocess.run(["nft", "delete", "table", "inet", "tcplab_sack"], capture_output=True)
    # 10 * loss_pct of each 1000 data segments, at places drawn once from a
    # seeded generator: loss that looks random (sometimes two close
    # together, so a retransmission can be lost too) but is the same for
    # every run
    spread = ", ".join(str(x) for x in sorted(random.Random(9).sample(range(1000), 10 * loss_pct)))
    nft(f"""table inet tcplab_sack {{
  chain input {{ type filter hook input priority 0;
    ip saddr {STACK} tcp dport {port} ip length > 200 numgen inc mod 1000 {{ {spread} }} drop; }}
}}""")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.settimeout(30)
    got = {"n": 0, "hash": hashlib.sha256(), "err": None}

    def sink():
        try:
            c, _ = srv.accept()
            c.settimeout(120)
            while True:
                b = c.recv(1 << 18)
                if not b:
                    break
                got["n"] += len(b)
                got["hash"].update(b)
            c.close()
        except Exception as e:  # reported by the main thread
            got["err"] = e

    data = os.path.join(WORK, "sack.bin")
    want = hashlib.sha256()
    with open(data, "wb") as f:
        for blk in pseudo_random_stream(total, 20):
            want.update(blk)
            f.write(blk)
    trace = os.path.join(WORK, f"sack-{'on' if sack else 'off'}-{loss_pct}-{cc_algo}.jsonl")
    # the kernel's address exists only once tcplab has made the device:
    # listen on every address
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    t = threading.Thread(target=sink, daemon=True)
    t.start()
    start = time.monotonic()
    with open(data, "rb") as stdin:
        r = subprocess.run([TCPLAB, "connect", "--quiet", "--no-offload", "--sack",
                            "on" if sack else "off", *(["--cc", cc_algo] if cc_algo else []),
                            "--trace", trace, KERNEL, str(port)],
                           stdin=stdin, capture_output=True, timeout=170)
    t.join(timeout=10)
    srv.close()
    subprocess.run(["nft", "delete", "table", "inet", "tcplab_sack"], capture_output=True)
    if os.environ.get("TCPLAB_SACK_KEEP"):  # a directory to keep the traces in, by hand
        shutil.copy(trace, os.environ["TCPLAB_SACK_KEEP"])
    check(r.returncode == 0, f"tcplab connect exited {r.returncode}: {r.stderr[-500:]!r}")
    check(got["err"] is None, f"the kernel sink failed: {got['err']}")
    check(got["n"] == total, f"sent {total} bytes, the kernel received {got['n']}")
    check(got["hash"].hexdigest() == want.hexdigest(), "SHA-256 of sent and received data differ")
    rtx = 0
    cc = []
    sack_opts = 0
    for line in open(trace):
        if not line.strip():
            continue
        e = json.loads(line)
        if e.get("ev") == "seg" and e.get("dir") == "out" and e.get("rtx"):
            rtx += e.get("len", 0)
        elif e.get("ev") == "seg" and e.get("dir") == "in" and "sack" in e.get("opts", {}):
            sack_opts += 1
        elif e.get("ev") == "cc":
            cc.append(e)
    check(sack == (sack_opts > 0),
          f"sack {'on' if sack else 'off'}, but {sack_opts} ACKs from the kernel carried SACK blocks")
    log(f"sack {'on ' if sack else 'off'} loss {loss_pct}%: {total} bytes intact in "
        f"{time.monotonic() - start:.1f}s, retransmitted {rtx} bytes, "
        f"{sum(1 for e in cc if e['phase'] in ('recovery', 'loss'))} cc lines in recovery/loss")
    return rtx, cc


def loss_episodes(cc):
    """(first, end) index pairs of the runs of cc lines in recovery or loss."""
    eps, i = [], 1
    while i < len(cc):
        if cc[i]["phase"] in ("recovery", "loss"):
            j = i
            while j < len(cc) and cc[j]["phase"] in ("recovery", "loss"):
                j += 1
            eps.append((i, j))
            i = j
        else:
            i += 1
    return eps


def check_cwnd_falls_and_grows(cc, what, smss=1460):
    """The saw-tooth: at each loss episode (fast recovery, or a timeout's loss
    phase) cwnd comes down below what it was before, unless that was already
    the two-segment floor (NewReno's inflated cwnd comes down when recovery
    ends, so the line after the episode counts); and after each, when ACKs
    come before the next loss (two or more cc lines in between), cwnd grows
    again."""
    eps = loss_episodes(cc)
    check(len(eps) >= 2, f"{what}: {len(eps)} loss episodes in the cc trace, want at least 2")
    grew = 0
    for k, (i, j) in enumerate(eps):
        before = cc[i - 1]["cwnd"]
        low = min(e["cwnd"] for e in cc[i:j + 1])
        # RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS), so a cwnd of
        # two segments or less is already at the floor fast recovery sets
        # (only a timeout, to one segment, goes lower).
        check(before <= 2 * smss or low < before,
              f"{what}: cwnd did not fall at the loss at t={cc[i]['t']} (before {before}, lowest {low})")
        between = cc[j:eps[k + 1][0] if k + 1 < len(eps) else len(cc)]
        if len(between) >= 2:
            check(max(e["cwnd"] for e in between[1:]) > between[0]["cwnd"],
                  f"{what}: cwnd did not grow again after the loss at t={cc[i]['t']}")
            grew += 1
    check(grew >= 1, f"{what}: cwnd never had the ACKs to grow again")


def test_sack_fewer_retransmissions_than_without_under_1_and_5pct_loss():
    """Issue 9: the stack sends to a kernel sink under nftables loss of 1%
    and 5% (the same deterministic pattern with SACK on and off): the data
    arrives intact, cwnd falls at each loss event and grows again, and with
    SACK fewer bytes are retransmitted than without. TCPLAB_SACK_BYTES sets
    the size (the note's figures are for 20 MB, by hand).

    Without SACK a lost retransmission costs a timeout and go-back-N resends
    everything in flight; with SACK the go-back-N skips what the receiver
    SACKed, and recovery repairs several holes per round trip, so fewer
    timeouts happen at all. At 1% on this link (RTT of microseconds) no
    retransmission is lost and neither side times out: both retransmit
    exactly the lost segments, so only the 5% run is compared."""
    total = int(os.environ.get("TCPLAB_SACK_BYTES", 4 * 1000 * 1000))
    for loss in [int(x) for x in os.environ.get("TCPLAB_SACK_LOSS", "1,5").split(",")]:
        on, cc_on = sack_transfer(True, loss, total)
        off, cc_off = sack_transfer(False, loss, total)
        check_cwnd_falls_and_grows(cc_on, f"sack on, {loss}% loss")
        check_cwnd_falls_and_grows(cc_off, f"sack off, {loss}% loss")
        rto_on = sum(1 for e in cc_on if e["cause"] == "rto")
        rto_off = sum(1 for e in cc_off if e["cause"] == "rto")
        log(f"{loss}% loss: retransmitted {on} bytes with SACK ({rto_on} timeouts), "
            f"{off} without ({rto_off} timeouts)")
        # Only 5% is compared: there the pattern loses retransmissions, so
        # the run without SACK must time out and resend what the receiver
        # had. At 1% both resend exactly the lost segments unless the
        # machine's load fires a spurious timeout in one run and not the
        # other, which says nothing about SACK: logged, not compared.
        if loss >= 5:
            check(rto_off > 0, f"{loss}% loss without SACK had no timeout: the pattern is too kind")
            check(on < off, f"{loss}% loss: retransmitted {on} bytes with SACK, {off} without")


def test_rfc9438_cubic_sender_intact_under_loss_and_decrease_is_beta_0_7():
    """RFC 9438: the stack as a CUBIC sender (--cc cubic) to a kernel sink
    under nftables loss (5%, the SACK test's deterministic pattern; SACK off
    so each fast retransmit is the RFC 5681 one and the cc line entering
    recovery carries FlightSize). The data arrives intact; every cc line
    names the algorithm; at every fast retransmit ssthresh is
    0.7 * FlightSize (§4.6; FlightSize taken at most cwnd, so the segments
    limited transmit sent do not count), not NewReno's half, and W_max is the cwnd the
    loss happened at, or 0.85 of it when that was below the previous W_max
    (fast convergence, §4.7); and cwnd grows again after each loss. Then
    the same with SACK on: intact, and the same 0.7 decrease."""
    total = int(os.environ.get("TCPLAB_CUBIC_BYTES", 4 * 1000 * 1000))
    _, cc = sack_transfer(False, 5, total, port=5021, cc_algo="cubic")
    check(cc and all(e.get("cc") == "cubic" for e in cc),
          f"cc lines not all cubic: {sorted(set(str(e.get('cc')) for e in cc))}")
    check_cwnd_falls_and_grows(cc, "cubic, 5% loss")
    checked, w_max = 0, 0
    for prev, e in zip(cc, cc[1:]):
        entering = e["phase"] == "recovery" and prev["phase"] != "recovery"
        before = prev["cwnd"]
        base = min(e["flight"], before)
        if entering and e["cause"] == "dupack" and base * 7 // 10 >= 4 * 1460:
            want = base * 7 // 10
            check(e["ssthresh"] == want,
                  f"t={e['t']}: ssthresh {e['ssthresh']} after a loss with {e['flight']} "
                  f"in flight and cwnd {before}, want 0.7 * {base} = {want}")
            fast = before * 17 // 20
            check(e["w_max"] in (before, fast),
                  f"t={e['t']}: W_max {e['w_max']}, want the cwnd at the loss {before} "
                  f"or 0.85 of it {fast}")
            if e["w_max"] == fast and fast != before:
                check(before < w_max, f"t={e['t']}: fast convergence though cwnd {before} "
                      f">= the previous W_max {w_max}")
            checked += 1
        w_max = e.get("w_max", w_max)
    check(checked >= 2, f"only {checked} fast retransmits to check the decrease on")
    log(f"cubic 5% loss: {total} bytes intact, {checked} fast retransmits with "
        f"ssthresh = 0.7 * FlightSize")
    # With SACK (RFC 6675 recovery, whose cc lines carry pipe, not
    # FlightSize): intact, all cubic, the saw-tooth, and at each SACK
    # recovery ssthresh = 0.7 * min(FlightSize, cwnd), FlightSize rebuilt
    # from the segments in the trace (highest sequence sent minus highest
    # ACK received, mod 2^32).
    rtx, cc = sack_transfer(True, 5, total, port=5022, cc_algo="cubic")
    check(cc and all(e.get("cc") == "cubic" for e in cc), "with SACK: cc lines not all cubic")
    check_cwnd_falls_and_grows(cc, "cubic with SACK, 5% loss")
    cuts, snd_max, snd_una, prev = 0, None, None, None
    for line in open(os.path.join(WORK, "sack-on-5-cubic.jsonl")):
        e = json.loads(line) if line.strip() else {}
        if e.get("ev") == "seg" and e["dir"] == "out" and "S" not in e["flags"]:
            end = (e["seq"] + e["len"]) % (1 << 32)
            if snd_max is None or 0 < (end - snd_max) % (1 << 32) < (1 << 31):
                snd_max = end
        elif e.get("ev") == "seg" and e["dir"] == "in" and "." in e["flags"] and snd_max is not None:
            if snd_una is None or 0 < (e["ack"] - snd_una) % (1 << 32) < (1 << 31):
                snd_una = e["ack"]
        elif e.get("ev") == "cc":
            if (e["cause"] == "sack" and prev and prev["phase"] != "recovery"
                    and snd_max is not None and snd_una is not None):
                flight = (snd_max - snd_una) % (1 << 32)
                base = min(flight, prev["cwnd"])
                if base * 7 // 10 >= 4 * 1460:
                    check(e["ssthresh"] == base * 7 // 10,
                          f"t={e['t']}: SACK recovery with FlightSize {flight}, cwnd "
                          f"{prev['cwnd']}: ssthresh {e['ssthresh']}, want {base * 7 // 10}")
                    cuts += 1
            prev = e
    check(cuts >= 1, "with SACK: no SACK recovery to check the decrease on")
    log(f"cubic with SACK 5% loss: {total} bytes intact, retransmitted {rtx} bytes, "
        f"{cuts} SACK recoveries with ssthresh = 0.7 * FlightSize")


def kernel_dsack_undo(name, causes):
    """Replay scenarios/regress/NAME.tcps against the kernel and check that
    the stack's reduction (a cc line whose cause is in `causes`) is undone
    after the kernel's D-SACK: a later cc line with cause "undo", cwnd and
    ssthresh back to at least what they were before the reduction."""
    scn = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios",
                       "regress", name + ".tcps")
    trace = os.path.join(WORK, name + ".jsonl")
    r = run([TCPLAB, "replay", "--tun", "--trace", trace, scn], timeout=120)
    check(r.returncode == 0, f"replay --tun failed ({r.returncode}): {r.stdout.decode()[-800:]}"
          f"{r.stderr.decode()[-400:]}")
    with open(trace) as f:
        ev = [json.loads(line) for line in f if line.strip()]
    cc = [e for e in ev if e["ev"] == "cc" and e["host"] == "client"]
    cut = [i for i, e in enumerate(cc) if e["cause"] in causes]
    check(cut, f"no reduction ({'/'.join(causes)}) in the stack's cc lines")
    before = cc[cut[0] - 1]
    undo = [e for e in cc[cut[0]:] if e["cause"] == "undo"]
    dsack = [e for e in ev if e["ev"] == "sack" and e["host"] == "client" and e["what"] == "dsack"]
    check(dsack, "the kernel sent no D-SACK the stack read")
    check(undo, "no undo after the reduction: " + ", ".join(
        f"{e['phase']} {e['cwnd']} ({e['cause']})" for e in cc[cut[0]:]))
    check(undo[0]["cwnd"] >= before["cwnd"] and undo[0]["ssthresh"] >= before["ssthresh"],
          f"undo to cwnd {undo[0]['cwnd']} ssthresh {undo[0]['ssthresh']}, before the reduction "
          f"{before['cwnd']} / {before['ssthresh']}")
    log(f"{name}: {cc[cut[0]]['cause']} at cwnd {before['cwnd']}, undone to {undo[0]['cwnd']} "
        f"after {len(dsack)} D-SACK(s) from the kernel")


def test_rfc3708_kernel_dsack_undoes_spurious_rto():
    """RFC 3708 against the kernel: the scenario holds the kernel's ACKs back
    1.5 s, longer than the stack's 1 s RTO, so the stack times out although
    nothing was lost and resends. The kernel receiver has every byte and
    reports the second copy in a D-SACK (RFC 2883, Linux's tcp_dsack); the
    stack undoes the timeout's reduction."""
    kernel_dsack_undo("rfc3708_dsack_undoes_spurious_rto", ("rto",))


def test_rfc3708_kernel_dsack_undoes_spurious_fast_retransmit():
    """RFC 3708 against the kernel: the first of five segments is overtaken
    by the other four on the way to the kernel, whose SACKs make the stack
    fast-retransmit it; the kernel D-SACKs the second copy and the stack
    undoes the fast retransmit's reduction."""
    kernel_dsack_undo("rfc3708_dsack_undoes_spurious_fast_retransmit", ("sack", "dupack"))


def test_pcap_opens_in_tshark_with_valid_checksums():
    pcap = os.path.join(WORK, "t.pcap")
    L = Listen("--pcap", pcap)
    try:
        check(tcp_roundtrip(7, b"pcap me\n") == b"pcap me\n", "no echo")
        check(tcp_roundtrip(13, b"").endswith(b"\r\n"), "no daytime")
    finally:
        L.stop()

    def count(filt):
        r = run(["tshark", "-r", pcap, "-o", "tcp.check_checksum:TRUE", "-o",
                 "ip.check_checksum:TRUE", "-Y", filt, "-T", "fields", "-e", "frame.number"], 60)
        check(r.returncode == 0, f"tshark failed: {r.stderr!r}")
        return len(r.stdout.split())

    check(count("tcp.checksum.status == 0 || ip.checksum.status == 0") == 0, "bad checksums in pcap")
    check(count("tcp.checksum.status == 1 && ip.checksum.status == 1") >= 10,
          "tshark did not verify the checksums")
    check(count("tcp.flags.syn == 1 && tcp.flags.ack == 0") >= 2, "no SYN in the pcap")
    check(count("tcp.flags.syn == 1 && tcp.flags.ack == 1") >= 2, "no SYN,ACK in the pcap")
    check(count("tcp.flags.fin == 1 && ip.src == 10.7.0.2") >= 2, "no FIN from the stack")
    check(count("tcp.flags.fin == 1 && ip.src == 10.7.0.1") >= 2, "no FIN from the kernel")


def test_pcapng_has_wall_clock_times_and_state_comments():
    """--pcap FILE.pcapng: tshark reads it, every packet's time is the wall
    clock (within a minute of now, not 1970), and the stack's state changes
    are packet comments (what Wireshark shows as pkt_comment)."""
    pcap = os.path.join(WORK, "t.pcapng")
    before = time.time()
    L = Listen("--pcap", pcap)
    try:
        check(tcp_roundtrip(7, b"pcapng me\n") == b"pcapng me\n", "no echo")
    finally:
        L.stop()
    after = time.time()
    r = run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.time_epoch", "-e",
             "tcp.flags.str", "-e", "frame.comment"], 60)
    check(r.returncode == 0, f"tshark cannot read the pcapng file: {r.stderr!r}")
    rows = [l.split("\t") for l in r.stdout.decode().splitlines() if l.strip()]
    check(len(rows) >= 6, f"too few packets: {r.stdout!r}")
    for row in rows:
        t = float(row[0])
        check(before - 60 <= t <= after + 60,
              f"packet time {t} is not within a minute of the wall clock ({before:.0f})")
    comments = "\n".join(row[2] for row in rows if len(row) > 2)
    check("LISTEN -> SYN_RECEIVED" in comments, f"no state change in the comments: {comments!r}")
    check("SYN_RECEIVED -> ESTABLISHED" in comments, f"no ESTABLISHED comment: {comments!r}")
    # `date`'s view of now, as the issue asks, against the first packet
    d = run(["date", "+%s"], 10)
    check(abs(float(d.stdout) - float(rows[0][0])) < 60, "first packet more than a minute from date")


def raw_send(pkt):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    dst = socket.inet_ntoa(pkt[16:20])
    s.sendto(pkt, (dst, 0))
    s.close()


def ip_header(proto, payload_len, dst=STACK, frag=0x4000, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, frag, 64, proto, 0,
                    socket.inet_aton(KERNEL), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", inet_checksum(h)) + h[12:]


def tcp_segment(sport, dport, flags, payload=b"", dst=STACK, bad_sum=False, doff=5, opts=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, doff << 4, flags, 65535, 0, 0) + opts
    pseudo = socket.inet_aton(KERNEL) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, 6, len(hdr) + len(payload))
    csum = inet_checksum(pseudo + hdr + payload)
    if bad_sum:
        csum ^= 0x5555
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload


def test_bad_packets_dropped_with_reasons_and_service_continues():
    L = Listen()
    try:
        # an established connection that must survive all of it
        s = socket.create_connection((STACK, 7), timeout=15)
        s.sendall(b"before\n")
        check(s.recv(100) == b"before\n", "no echo before")
        seg = tcp_segment(40001, 7, 0x02, bad_sum=True)
        raw_send(ip_header(6, len(seg)) + seg)                       # bad TCP checksum
        seg = tcp_segment(40002, 7, 0x02, dst="10.7.0.77")
        raw_send(ip_header(6, len(seg), dst="10.7.0.77") + seg)      # not for the stack
        seg = tcp_segment(40003, 7, 0x02, payload=b"A" * 64)
        pkt = ip_header(6, len(seg), frag=0x2000, ident=77) + seg    # first fragment (MF)
        raw_send(pkt)
        udp = struct.pack("!HHHH", 5000, 7, 12, 0) + b"abcd"
        raw_send(ip_header(17, len(udp)) + udp)                      # UDP: another protocol
        seg = tcp_segment(40004, 7, 0x02, doff=15)                   # data offset past the end
        raw_send(ip_header(6, len(seg)) + seg)
        seg = tcp_segment(40005, 7, 0x02, doff=6, opts=bytes([2, 9, 0, 0]))  # option runs past
        raw_send(ip_header(6, len(seg)) + seg)
        for _ in range(200):                                         # random garbage as TCP
            junk = os.urandom(random.randrange(0, 60))
            raw_send(ip_header(6, len(junk)) + junk)
        s.sendall(b"after\n")
        check(s.recv(100) == b"after\n", "the old connection broke")
        s.close()
        check(tcp_roundtrip(7, b"new\n") == b"new\n", "a new connection does not work")
        time.sleep(0.2)
    finally:
        L.stop()
    reasons = {e.get("reason") for e in L.events() if e.get("ev") == "drop"}
    for want in ("bad_checksum", "not_for_us", "fragment", "bad_data_offset"):
        check(want in reasons, f"no drop with reason {want}; reasons seen: {sorted(map(str, reasons))}")
    check(any(r and r not in ("bad_checksum", "not_for_us", "fragment", "bad_data_offset",
                              "truncated_tcp") for r in reasons),
          f"no drop for the UDP packet / bad option; reasons seen: {sorted(map(str, reasons))}")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_syn_flood_cookies_keep_service_up():
    """A flood of spoofed SYNs (100,000; SYNFLOOD_COUNT) from addresses in this
    namespace's subnet at the echo port, while a kernel client echoes on an
    established connection and opens new ones: every echo is answered, every
    new connection succeeds (SYN cookies once the SYN queue is full), the
    stack's RSS grows by less than 32 MB, and the exit summary counts the
    cookies. The longest echo round trip is logged, never asserted."""
    flood_bin = os.environ.get("SYNFLOOD", "")
    check(os.path.exists(flood_bin), f"SYNFLOOD={flood_bin!r} is not the synflood program")
    count = int(os.environ.get("SYNFLOOD_COUNT", "100000"))
    L = Listen("7", trace=False)
    flood = None
    try:
        rss0 = rss_max = rss_kb(L.proc.pid)
        echo = socket.create_connection((STACK, 7), timeout=10)
        flood = subprocess.Popen([flood_bin, STACK, "7", "10.7.0.0/24", str(count), "20000", "90"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        start = time.monotonic()
        stall = 0.0
        echoes = new_conns = 0
        while flood.poll() is None or echoes < 10:
            check(time.monotonic() - start < 120, "the flood did not end within 120 s")
            t0 = time.monotonic()
            msg = b"ping %d\n" % echoes
            echo.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = echo.recv(4096)
                check(b, f"the established connection closed during the flood after {echoes} echoes")
                got += b
            check(got == msg, f"echo {echoes}: sent {msg!r}, got {got!r}")
            stall = max(stall, time.monotonic() - t0)
            echoes += 1
            if echoes % 4 == 0:
                data = b"new connection %d\n" % new_conns
                back = tcp_roundtrip(7, data, timeout=15)
                check(back == data, f"new connection {new_conns} during the flood: got {back!r}")
                new_conns += 1
            rss_max = max(rss_max, rss_kb(L.proc.pid))
            time.sleep(0.02)
        out, err = flood.communicate(timeout=10)
        check(flood.returncode == 0, f"synflood: status {flood.returncode}: {err!r}")
        echo.close()
        log(f"flood: {out.decode().strip()}; {echoes} echoes answered, longest round trip "
            f"{stall * 1000:.0f} ms; {new_conns} new connections; RSS {rss0} -> max {rss_max} kB")
        check(new_conns >= 2, f"only {new_conns} new connections were tried during the flood")
        check(rss_max - rss0 < 32 * 1024, f"RSS grew by {rss_max - rss0} kB (bound 32 MB)")
    finally:
        if flood and flood.poll() is None:
            flood.kill()
            flood.wait(timeout=5)
        L.stop()
    summary = L.stderr()
    m = re.search(r"SYN cookies \(auto\): sent (\d+), valid (\d+), bad (\d+)", summary)
    check(m, f"no SYN cookie line in listen's summary: {summary!r}")
    check(int(m.group(1)) > 0, f"no cookie was sent: {m.group(0)}")
    m = re.search(r"half-open (\d+)", summary)
    check(m and int(m.group(1)) <= 4096, f"SYN queue not bounded: {summary!r}")
    log(summary.strip())


def test_tun_name_in_use_is_status_2():
    # a persistent TUN device of the same name (someone else's), then a veth
    subprocess.run(["ip", "tuntap", "add", "dev", "tl0", "mode", "tun"], check=True)
    r = run([TCPLAB, "listen", "--quiet"], 10)
    check(r.returncode == 2, f"status {r.returncode}, want 2")
    check(b"already exists" in r.stderr and b"--tun" in r.stderr, f"message: {r.stderr!r}")
    subprocess.run(["ip", "link", "add", "tl1", "type", "veth", "peer", "name", "tl1p"], check=True)
    r = run([TCPLAB, "connect", "--quiet", *MODE, "--tun", "tl1", KERNEL, "7"], 10)
    check(r.returncode == 2 and b"already exists" in r.stderr, f"{r.returncode} {r.stderr!r}")
    # the other device is untouched
    check(iface_exists("tl0") and iface_exists("tl1"), "an existing interface was removed")


def test_subnet_in_use_is_status_2():
    """A second tcplab on another device but the same (default) subnet would get no
    traffic: the kernel routes the subnet to the first device. It is refused."""
    L = Listen()
    try:
        for cmd in (["listen", "--quiet", "--tun", "tl1"],
                    ["connect", "--quiet", "--tun", "tl1", KERNEL, "7"]):
            r = run([TCPLAB] + cmd, 10)
            check(r.returncode == 2, f"{cmd}: status {r.returncode}, want 2: {r.stderr!r}")
            for w in (b"10.7.0.0/24", b"tl0", b"--kernel-addr"):
                check(w in r.stderr, f"{cmd}: message lacks {w!r}: {r.stderr!r}")
            check(not iface_exists("tl1"), f"{cmd}: tl1 was left behind")
        # its own subnet is fine, and the first one still serves
        r = run([TCPLAB, "connect", "--quiet", *MODE, "--tun", "tl1", "--kernel-addr", "10.8.0.1/24",
                 "--addr", "10.8.0.2", "10.8.0.1", "9"], 10)
        check(r.returncode == 1 and b"refused" in r.stderr, f"own subnet: {r.returncode} {r.stderr!r}")
        with socket.create_connection((STACK, 7), timeout=15) as c:
            c.sendall(b"still here")
            check(c.recv(100) == b"still here", "the first tcplab stopped echoing")
    finally:
        L.stop()


def test_bad_arguments_are_status_2():
    for args, word in ([["--addr", "10.7.0.300"], b"--addr"], [["70000"], b"out of range"],
                       [["--kernel-addr", "10.7.0.1"], b"--kernel-addr"],
                       [["7:nosuch"], b"unknown service"], [["--mtu", "20"], b"--mtu"],
                       [["--msl", "-1"], b"--msl"], [["--addr", "10.8.0.2"], b"subnet"],
                       [["--bogus"], b"unknown option"], [["+7"], b"bad service"],
                       [[" 7"], b"bad service"], [["--mtu", " 1500"], b"--mtu"],
                       [["--syncookies", "sometimes"], b"--syncookies"],
                       [["--busy-poll", "fast"], b"--busy-poll"],
                       [["--busy-poll", "5000"], b"--busy-poll"],
                       [["--stretch-acks", "2M"], b"--stretch-acks"],
                       [["--stretch-acks", "on"], b"--stretch-acks"]):
        r = run([TCPLAB, "listen", "--quiet"] + args, 10)
        check(r.returncode == 2, f"{args}: status {r.returncode}, want 2")
        check(word in r.stderr, f"{args}: message does not mention {word!r}: {r.stderr!r}")
    # --ui without a terminal is refused before any device is made: with tl0
    # taken, the answer is still about the terminal, not about the name
    subprocess.run(["ip", "tuntap", "add", "dev", "tl0", "mode", "tun"], check=True)
    r = run([TCPLAB, "listen", "--ui"], 10, input=b"")
    subprocess.run(["ip", "link", "del", "tl0"], check=True)
    check(r.returncode == 2 and b"needs a terminal" in r.stderr,
          f"--ui, no tty: {r.returncode} {r.stderr!r}")
    r = run([TCPLAB, "connect", KERNEL, "0"], 10)
    check(r.returncode == 2 and b"PORT" in r.stderr, f"connect port 0: {r.returncode} {r.stderr!r}")
    r = run([TCPLAB, "connect", KERNEL, "+7"], 10)
    check(r.returncode == 2 and b"PORT" in r.stderr, f"connect port +7: {r.returncode} {r.stderr!r}")
    r = run([TCPLAB, "connect", "192.0.2.1", "80"], 10)
    check(r.returncode == 2 and b"subnet" in r.stderr, f"connect off-subnet: {r.returncode} {r.stderr!r}")
    check(not iface_exists(), "a TUN device was left behind")


def test_not_permitted_message_and_status_1():
    r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", TCPLAB, "listen", "--quiet"], 10)
    check(r.returncode == 1, f"status {r.returncode}, want 1: {r.stderr!r}")
    for w in (b"cannot create TUN device tl0", b"not permitted", b"CAP_NET_ADMIN", b"sudo"):
        check(w in r.stderr, f"message lacks {w!r}: {r.stderr!r}")
    # Which refusal it was: the device file's mode (a 0600 /dev/net/tun, as in
    # many containers) or, where it is open to all (Debian's 0666), the
    # missing capability. The message names the one that happened.
    mode = os.stat("/dev/net/tun").st_mode & 0o7777
    if mode & 0o006 != 0o006:
        want = b"not permitted to open /dev/net/tun (mode %04o" % mode
        check(want in r.stderr, f"a {mode:04o} device but the message lacks {want!r}: {r.stderr!r}")
    else:
        check(b"creating one needs CAP_NET_ADMIN" in r.stderr,
              f"device open to all, yet the message does not blame the capability: {r.stderr!r}")
    # connect says how to run connect, not listen
    r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", TCPLAB, "connect", KERNEL, "5000"], 10)
    check(r.returncode == 1, f"connect: status {r.returncode}, want 1: {r.stderr!r}")
    for w in (b"not permitted", b"CAP_NET_ADMIN", b"sudo tcplab connect " + KERNEL.encode() + b" 5000"):
        check(w in r.stderr, f"connect: message lacks {w!r}: {r.stderr!r}")


def test_interface_deleted_ends_the_process():
    L = Listen()
    subprocess.run(["ip", "link", "del", "tl0"], check=True)
    try:
        rc = L.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        L.kill()
        raise Fail("tcplab listen still runs 20 s after its interface was deleted")
    check(rc == 1, f"status {rc}, want 1")
    check("disappeared" in L.stderr(), f"message: {L.stderr()!r}")


def test_idle_loop_sleeps_and_sigint_cleans_up():
    """No busy-waiting: over 3 s idle the process uses (almost) no CPU. And
    SIGINT ends it with status 0 and the device removed."""
    L = Listen()
    try:
        time.sleep(0.5)

        def cpu_ticks():
            with open(f"/proc/{L.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        before = cpu_ticks()
        time.sleep(3)
        used = (cpu_ticks() - before) / os.sysconf("SC_CLK_TCK")
        # a spinning loop would use ~3 s; an idle one ~0
        check(used < 0.3, f"idle process used {used:.2f}s of CPU in 3 s")
    finally:
        L.stop(signal.SIGINT)


def test_sigterm_during_bulk_stops_listen():
    """While packets keep coming the busy-poll finds one at every turn and
    never sleeps in poll(); the signalfd must still be looked at (at least
    every 100 us, tun_loop.c). A kernel client sends into discard without a
    pause; SIGTERM in the middle of it ends listen with status 0 within
    Listen.stop()'s 10 s, the device removed, and some data had arrived."""
    L = Listen("9:discard", trace=False)
    sent = [0]
    done = threading.Event()

    def sender():
        chunk = b"x" * (1 << 16)
        try:
            s = socket.create_connection((STACK, 9), timeout=5)
            deadline = time.monotonic() + 15
            while not done.is_set() and time.monotonic() < deadline and sent[0] < (4 << 30):
                s.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass  # the device went away under the connection: expected

    t = threading.Thread(target=sender)
    t.start()
    try:
        wait_for(lambda: sent[0] >= (32 << 20) or not t.is_alive(), 20, "32 MB to be sent")
        check(t.is_alive(), f"the sender stopped after {sent[0]} bytes, before SIGTERM")
        L.stop()
    finally:
        done.set()
        L.kill()
        t.join(timeout=20)
    check(not t.is_alive(), "the sender did not finish")


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        print("usage: tun_test.py TEST\ntests: " + " ".join(TESTS), file=sys.stderr)
        return 2
    if os.geteuid() != 0 and os.environ.get("TCPLAB_REQUIRE_TUN") != "1":
        print("SKIP: needs root inside the namespace", file=sys.stderr)
        return 77
    # Stopped with SIGTERM (ctest's timeout): unwind, so WORK is removed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        TESTS[sys.argv[1]]()
    except Fail as e:
        print(f"FAIL {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    print(f"PASS {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(status)
