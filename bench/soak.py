#!/usr/bin/env python3
"""bench/soak.py — the load of bench/soak.sh, run inside its private namespace.

    soak.py TCPLAB SYNFLOOD MINUTES CONNS FLOOD_RATE

Starts `tcplab listen --quiet 7:echo 13:daytime`, then:
  - opens CONNS connections to the echo port and pushes SOAK_FILL bytes
    (128 KiB) through each, so that every connection's receive and send rings
    (64 KiB with the default SOAK_LISTEN_OPTS) have wrapped and all their
    pages are resident before the clock starts: RSS then has no reason to
    grow, and growth means a leak (without the fill the rings take up to 40
    minutes to wrap at the traffic's rate and RSS climbs all that time);
  - for MINUTES, each held connection sends a numbered message about every
    second (their moments spread over the second) and checks the echo byte
    for byte;
  - a churn thread connects to daytime, reads the answer and closes, as fast
    as it can, one connection at a time (the stack closes first, so its
    TIME_WAIT blocks pile up and max_time_wait is reached);
  - synflood sends spoofed SYNs (FLOOD_RATE per second) from the subnet's
    addresses to the daytime port, for the whole run, so the churn's
    connections get in through SYN cookies.
Every SOAK_ROW_SECONDS (30) and at the end one row: time, the stack's RSS and
open fds, the connections held, the kernel's sockets to the stack
(established, TIME_WAIT), churn connections done and failed, messages
checked, data errors, packets dropped at tl0 so far. Then the failed churn
connects, explained or not (classify()), the client kernel's TCP counters,
listen's exit summary and the verdict (verdict()).

Exit status 0 if and only if: no data error; every held connection
connected, filled and alive at the end; no unexplained churn failure; RSS
and fds flat after the warm-up (SOAK_WARMUP seconds, by default 300 or half
the run if that is shorter; flat_after_warmup() says what flat means); and
listen exited 0.

A failed churn connect is *explained* only by a packet the kernel dropped at
tl0 at the moment that connect needed it (classify()): tl0's drop counter is
read just before connect() and just after it returns, so each connect knows
whether a drop happened during its own handshake. The share of successful
handshakes that saw a drop in the same window is printed too: it is how much
the evidence is worth (at 1 % a failure that coincides with a drop is hardly
chance; at 90 % it would be).

SOAK_PCAP=FILE also records every RST on tl0 (tcpdump), to find the failed
connections' ports afterwards; SOAK_RING=FILE keeps a ring of daytime's
packets on tl0 (tcpdump -C 100 -W 5: FILE0..FILE4) stopped at the first
churn failure. tcpdump sees a packet the kernel sends to tl0 before tun's
queue takes or drops it, so a capture shows the final ACK either way; the
drop counter is what tells. SOAK_TXQUEUELEN=N sets tl0's queue (tcplab
leaves the kernel's 500) before the load starts, to measure its effect.
"""
import errno
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

STACK = "10.7.0.2"
PORT = 7
DAYTIME = 13

# "Flat": after the warm-up, RSS never more than this far above its value at
# the end of the warm-up. Everything a connection holds is allocated and
# touched by then (the fill), so what is left is the allocator's noise:
# 2 MiB or 2 %, whichever is larger. fds may not grow at all.
RSS_FLAT_MIN_KB = 2048
RSS_FLAT_FRACTION = 0.02
PATTERN = bytes(range(256)) * 65  # the fill's bytes: 16 KiB from any offset
# The fill goes FILL_BATCH connections at a time (20 x 16 KiB is ~240 packets,
# half of tl0's queue) and all of it ends within FILL_SECONDS.
FILL_BATCH = 20
FILL_SECONDS = 120


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def kernel_sockets():
    """(established, time_wait) kernel sockets talking to the stack."""
    out = subprocess.run(["ss", "-tanH", "dst", STACK], capture_output=True, text=True).stdout
    est = tw = 0
    for line in out.splitlines():
        state = line.split()[0] if line.split() else ""
        est += state == "ESTAB"
        tw += state == "TIME-WAIT"
    return est, tw


def tl0_drops_from(dev):
    """(to the stack, from it): tl0's transmit and receive drop columns of
    /proc/net/dev's text (bytes); (0, 0) without a tl0 line."""
    for line in dev.splitlines():
        name, _, rest = line.partition(b":")
        if name.strip() == b"tl0":
            v = rest.split()
            return int(v[11]), int(v[3])
    return 0, 0


class Tl0Drops:
    """Packets the kernel dropped at tl0: on the way to the stack (tun's
    queue of txqueuelen packets was full: the stack had fallen behind; the
    kernel's drop reason is FULL_RING) and on the way from it. Read from
    /proc/net/dev, which is this network namespace's (/sys/class/net is the
    one sysfs was mounted in, where tl0 does not exist), kept open and read
    with one pread() (a few microseconds), so the churn can read it around
    every connect."""

    def __init__(self):
        self.fd = os.open("/proc/net/dev", os.O_RDONLY)

    def read(self):
        return tl0_drops_from(os.pread(self.fd, 16384, 0))

    def total(self):
        a, b = self.read()
        return a + b

    def close(self):
        os.close(self.fd)


class Held:
    """CONNS connections, each echoing one numbered message at a time."""

    def __init__(self, n, fill):
        """Connect n, then push `fill` bytes through each (16 KiB at a time,
        each chunk's echo read before the next, so neither side's buffers
        can fill up and stall) and check them. The i-th connection's first message
        goes i/n s into the first second, so the messages arrive spread over
        each second rather than as one burst of n packets: a burst larger
        than tl0's queue (txqueuelen, 500) is dropped by the kernel, and a
        dropped final ACK of a cookie handshake is never recovered (see
        churn())."""
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.errors = 0
        self.checked = 0
        self.failed_connects = 0
        self.failed_fills = 0
        for i in range(n):
            try:
                s = socket.create_connection((STACK, PORT), timeout=20)
            except OSError:
                self.failed_connects += 1
                continue
            self.conns.append({"sock": s, "i": i, "n": 0, "want": b"", "got": b"",
                               "sent_at": 0.0, "offset": i / n})
        deadline = time.monotonic() + FILL_SECONDS
        for b in range(0, len(self.conns), FILL_BATCH):
            for c in self.fill(self.conns[b:b + FILL_BATCH], fill, deadline):
                self.failed_fills += 1
                c["sock"].close()
                self.conns.remove(c)
        for c in self.conns:
            c["sock"].setblocking(False)
            self.sel.register(c["sock"], selectors.EVENT_READ, c)

    def fill(self, batch, nbytes, deadline):
        """Push nbytes through each connection of the batch, 16 KiB per
        round to all of them, then read all the echoes: the connections'
        round trips overlap. Returns the connections that failed, which
        includes every one not filled by the deadline."""
        failed = []
        sent = 0
        while sent < nbytes and len(failed) < len(batch):
            n = min(16384, nbytes - sent)
            live = [c for c in batch if c not in failed]
            for c in live:
                off = (c["i"] + sent) % 256
                try:
                    c["sock"].settimeout(max(0.01, deadline - time.monotonic()))
                    c["sock"].sendall(PATTERN[off:off + n])
                except OSError:
                    failed.append(c)
            for c in live:
                if c in failed:
                    continue
                off = (c["i"] + sent) % 256
                got = b""
                try:
                    while len(got) < n:
                        c["sock"].settimeout(max(0.01, deadline - time.monotonic()))
                        b = c["sock"].recv(n - len(got))
                        if not b:
                            break
                        got += b
                except OSError:
                    pass
                if len(got) < n:
                    failed.append(c)
                elif got != PATTERN[off:off + n]:
                    self.errors += 1
            sent += n
        return failed

    def start(self, now):
        for c in self.conns:
            c["sent_at"] = now - 1.0 + c["offset"]

    def message(self, c):
        body = f"conn {c['i']} message {c['n']} ".encode()
        return body + bytes((c["i"] + c["n"] + k) % 251 for k in range(c["i"] % 200)) + b"\n"

    def step(self, now):
        for c in self.conns:
            if not c["want"] and now - c["sent_at"] >= 1.0:
                c["want"] = self.message(c)
                c["got"] = b""
                c["sent_at"] = now
                try:
                    c["sock"].sendall(c["want"])
                except OSError:
                    self.errors += 1
        for key, _ in self.sel.select(timeout=0.05):
            c = key.data
            try:
                b = c["sock"].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                b = b""
            if not b:
                self.errors += 1
                self.sel.unregister(c["sock"])
                self.conns.remove(c)
                continue
            c["got"] += b
            if len(c["got"]) >= len(c["want"]):
                if c["got"] != c["want"]:
                    self.errors += 1
                self.checked += 1
                c["n"] += 1
                c["want"] = b""

    def close(self):
        for c in self.conns:
            c["sock"].close()


def failure_name(e):
    """What an OSError says, as a short name: ECONNREFUSED, ETIMEDOUT, ..."""
    if isinstance(e, socket.timeout):
        return "timeout"
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


def classify(kind, drops_in_window, cookies_bad):
    """Why a churn connect failed, if the evidence says so; None if nothing
    explains it (a possible bug in the stack). kind is "PHASE NAME" as
    churn() records it; drops_in_window the packets tl0 dropped (to the
    stack) while that connect needed them: for "recv timeout", from just
    before connect() to just after it returned (the kernel queues the final
    ACK for tl0 before connect() can return: it sends it while holding the
    socket lock that connect() takes to return; only if the other CPU is
    running tl0's queue at that moment may the drop be counted microseconds
    later, and then the failure is wrongly unexplained, never wrongly
    explained); for a failed connect, from just before connect() to the
    failure, both directions.

    - "recv timeout": the client was ESTABLISHED and daytime's text never
      came. The stack retransmits its data and FIN, and a SYN,ACK from a
      SYN queue entry, so the one packet nobody resends is the final ACK of a
      SYN-cookie handshake (RFC 4987 s3.6): explained if tl0 dropped a packet
      during that handshake and the stack refused no cookie ACK in the whole
      run (cookies bad 0: no ACK that did arrive was turned away).
    - "connect timeout": no SYN,ACK in 10 s (the kernel sent the SYN four
      times): explained only if tl0 dropped packets during it.
    - anything else (refused, reset, a short answer) is a decision the stack
      made, never a drop: unexplained."""
    if kind == "recv timeout" and drops_in_window > 0 and cookies_bad == 0:
        return "final ACK of a SYN-cookie handshake lost at tl0"
    if kind == "connect timeout" and drops_in_window > 0:
        return "SYNs lost at tl0"
    return None


def churn(stop, stats, drops):
    """Connect to daytime, read to EOF, close: the stack closes first, so the
    TIME_WAIT blocks pile up on the stack's side (and its max_time_wait is
    exercised), not in the kernel, whose ephemeral ports would run out.
    A failure is counted by where it happened (connect, recv), what the
    kernel said and whether tl0 dropped a packet while it mattered
    (classify()), with the local port and time of the first few."""
    while not stop.is_set():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        phase = "connect"
        d0 = drops.read()
        d1 = None
        try:
            s.settimeout(10)
            s.connect((STACK, DAYTIME))
            d1 = drops.read()
            stats["handshakes"] += 1
            stats["handshakes_with_drops"] += d1[0] > d0[0]
            phase = "recv"
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
            stats["done"] += 1
            if not (len(got) > 5 and got.endswith(b"\r\n")):
                stats["errors"] += 1
        except OSError as e:
            if d1 is not None:
                window = d1[0] - d0[0]
            else:
                d2 = drops.read()
                window = d2[0] - d0[0] + d2[1] - d0[1]
            key = (f"{phase} {failure_name(e)}", window > 0)
            stats["failed"] += 1
            stats["why"][key] = stats["why"].get(key, 0) + 1
            if len(stats["examples"]) < 10:
                try:
                    port = s.getsockname()[1]
                except OSError:
                    port = 0
                stats["examples"].append(f"{key[0]} port {port} at "
                                         f"{time.monotonic() - stats['t0']:.1f} s, "
                                         f"{window} tl0 drops while it mattered")
            ring = stats.get("ring")
            if ring and ring.poll() is None:  # SOAK_RING: keep the first failure's history
                time.sleep(0.5)
                ring.terminate()
            time.sleep(0.1)
        finally:
            s.close()


def kernel_tcp_counters():
    """The client side's view (the kernel's /proc/net/snmp Tcp line):
    AttemptFails counts connects that ended in a RST or gave up."""
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Tcp:")]
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


def cookies_bad_from(summary):
    """listen's exit summary's "SYN cookies (...): sent N, valid N, bad N":
    bad, or None if the line is missing."""
    m = re.search(r"SYN cookies \([^)]*\): sent \d+, valid \d+, bad (\d+)", summary)
    return int(m.group(1)) if m else None


def flat_after_warmup(rows, warmup):
    """(ok, text) for RSS and for fds. rows are dicts with t (s), rss (kB)
    and fds. The reference is the first row at or after the warm-up; flat
    means no later row above it by more than max(RSS_FLAT_MIN_KB,
    RSS_FLAT_FRACTION of it) kB of RSS, or by any fd. Fewer than two rows
    from the warm-up on: not judged (ok None)."""
    after = [r for r in rows if r["t"] >= warmup]
    if len(after) < 2:
        text = f"not judged: fewer than two rows after the {warmup:g} s warm-up"
        return (None, "RSS " + text), (None, "fds " + text)
    ref = after[0]
    bound = max(RSS_FLAT_MIN_KB, int(ref["rss"] * RSS_FLAT_FRACTION))
    top = max(after[1:], key=lambda r: r["rss"])
    grew = top["rss"] - ref["rss"]
    rss = (grew <= bound,
           f"RSS {ref['rss']} kB at {ref['t']:g} s, at most {top['rss']} kB after "
           f"({grew:+d} kB; flat means at most +{bound} kB)")
    ftop = max(r["fds"] for r in after[1:])
    fds = (ftop <= ref["fds"], f"fds {ref['fds']} at {ref['t']:g} s, at most {ftop} after")
    return rss, fds


def verdict(res):
    """[(ok, text)] for each condition of a good run; ok None is "not
    judged" and does not fail the run. res holds: errors, nconns, held_failed
    (connects or fills that failed), held_alive (at the end), why
    ({(kind, drop_in_window): count}), cookies_bad, rows, warmup,
    listen_rc."""
    out = [(res["errors"] == 0, f"data errors {res['errors']}")]
    held_ok = res["held_failed"] == 0 and res["held_alive"] == res["nconns"]
    out.append((held_ok, f"held connections alive at the end {res['held_alive']} of "
                f"{res['nconns']} ({res['held_failed']} failed to connect or fill)"))
    explained = unexplained = 0
    for (kind, dropped), n in res["why"].items():
        if classify(kind, 1 if dropped else 0, res["cookies_bad"]):
            explained += n
        else:
            unexplained += n
    out.append((unexplained == 0, f"churn failures: {explained} explained by tl0 drops, "
                f"{unexplained} unexplained"))
    rss, fds = flat_after_warmup(res["rows"], res["warmup"])
    out += [rss, fds]
    out.append((res["listen_rc"] == 0, f"tcplab listen exited {res['listen_rc']}"))
    return out


def wait_for_tl0():
    for _ in range(250):
        r = subprocess.run(["ip", "-br", "addr", "show", "tl0"], capture_output=True, text=True)
        if "10.7.0.1" in r.stdout:
            return
        time.sleep(0.02)


def tl0_txqueuelen():
    r = subprocess.run(["ip", "-o", "link", "show", "tl0"], capture_output=True, text=True)
    m = re.search(r"qlen (\d+)", r.stdout)
    return int(m.group(1)) if m else 0


def run(tcplab, synflood, minutes, nconns, rate, res):
    """The load; fills res with what verdict() needs (listen_rc and
    cookies_bad come from main(), once listen has stopped)."""
    seconds = minutes * 60
    row_s = float(os.environ.get("SOAK_ROW_SECONDS", "30"))
    res["warmup"] = float(os.environ.get("SOAK_WARMUP", min(300.0, seconds / 2)))
    fill = int(os.environ.get("SOAK_FILL", str(128 * 1024)))
    listen = res["listen"]
    wait_for_tl0()
    if os.environ.get("SOAK_TXQUEUELEN"):
        subprocess.run(["ip", "link", "set", "tl0", "txqueuelen", os.environ["SOAK_TXQUEUELEN"]],
                       check=True)
    drops = Tl0Drops()
    stop = res["stop"]
    dump = ring = None
    if os.environ.get("SOAK_PCAP"):  # SOAK_PCAP=FILE: every RST on tl0, for a post-mortem
        dump = subprocess.Popen(["tcpdump", "-q", "-i", "tl0", "-s", "96", "-w",
                                 os.environ["SOAK_PCAP"], "tcp[tcpflags] & tcp-rst != 0"],
                                stderr=subprocess.DEVNULL)
    if os.environ.get("SOAK_RING"):  # SOAK_RING=FILE: a ring of daytime's packets, stopped at the first failure
        ring = subprocess.Popen(["tcpdump", "-q", "-i", "tl0", "-s", "96", "-C", "100", "-W", "5",
                                 "-w", os.environ["SOAK_RING"], "port", str(DAYTIME)],
                                stderr=subprocess.DEVNULL)
    print(f"# listen {' '.join(res['opts'])} pid {listen.pid}, RSS at start {rss_kb(listen.pid)} kB; "
          f"tl0 txqueuelen {tl0_txqueuelen()}; {nconns} connections filled with {fill} bytes each, "
          f"churn, SYN flood {rate}/s, {minutes:g} min, warm-up {res['warmup']:g} s")
    t_fill = time.monotonic()
    held = Held(nconns, fill)
    res["held"] = held
    print(f"# {len(held.conns)} connections held and filled in {time.monotonic() - t_fill:.1f} s; "
          f"RSS {rss_kb(listen.pid)} kB", flush=True)
    res["flood"] = subprocess.Popen([synflood, STACK, str(DAYTIME), "10.7.0.0/24",
                                     str(max(1, int(rate * (seconds + 5)))), str(rate),
                                     str(seconds + 5)], stdout=subprocess.PIPE)
    cstats = {"done": 0, "errors": 0, "failed": 0, "why": {}, "examples": [],
              "handshakes": 0, "handshakes_with_drops": 0, "t0": time.monotonic(), "ring": ring}
    snmp0 = kernel_tcp_counters()
    drops0 = drops.read()
    t = threading.Thread(target=churn, args=(stop, cstats, Tl0Drops()), daemon=True)
    t.start()
    print("| t (s) | RSS kB | fds | held | kernel ESTAB | kernel TIME_WAIT | churned | churn failed | "
          "echoes checked | data errors | tl0 drops |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = res["rows"]
    start = time.monotonic()
    held.start(start)
    next_row = start
    while True:
        now = time.monotonic()
        if now >= next_row or now - start >= seconds:
            est, tw = kernel_sockets()
            r = {"t": round(now - start), "rss": rss_kb(listen.pid), "fds": nfds(listen.pid)}
            rows.append(r)
            print(f"| {r['t']} | {r['rss']} | {r['fds']} | {len(held.conns)} | {est} | {tw} | "
                  f"{cstats['done']} | {cstats['failed']} | {held.checked} | "
                  f"{held.errors + cstats['errors']} | {drops.read()[0] - drops0[0]} |", flush=True)
            next_row += row_s
        if now - start >= seconds:
            break
        held.step(now)
    stop.set()
    t.join(timeout=15)
    res["held_alive"] = len(held.conns)
    held.close()
    for p in (ring, dump):
        if p and p.poll() is None:
            p.terminate()
            p.wait(timeout=5)
    res["errors"] = held.errors + cstats["errors"]
    res["held_failed"] = held.failed_connects + held.failed_fills
    res["why"] = cstats["why"]
    print(f"# data errors {res['errors']}; failed: held connects {held.failed_connects}, "
          f"fills {held.failed_fills}, churn {cstats['failed']}; churned {cstats['done']}; "
          f"echoes checked {held.checked}")
    hs, hd = cstats["handshakes"], cstats["handshakes_with_drops"]
    print(f"# {hd} of {hs} churn handshakes ({100.0 * hd / max(1, hs):.3f} %) saw a tl0 drop "
          f"between just before connect() and just after it returned: the chance that a "
          f"failure coincides with a drop by accident")
    for (kind, dropped), n in sorted(cstats["why"].items()):
        print(f"# churn failed: {kind} {n}, {'with' if dropped else 'without'} a tl0 drop "
              f"while it mattered")
    for ex in cstats["examples"]:
        print(f"#   {ex}")
    snmp1 = kernel_tcp_counters()
    print("# the client kernel's TCP counters over the run: " +
          ", ".join(f"{k} {snmp1[k] - snmp0[k]}" for k in
                    ("ActiveOpens", "AttemptFails", "EstabResets", "RetransSegs", "InErrs",
                     "OutRsts")))
    drops1 = drops.read()
    print(f"# packets the kernel dropped at tl0: {drops1[0] - drops0[0]} on the way to the stack "
          f"(its queue full: the stack fell behind), {drops1[1] - drops0[1]} from it")


def main():
    tcplab, synflood, minutes, nconns, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), \
        int(sys.argv[4]), int(sys.argv[5])
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
    summary_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"soak-listen-{os.getpid()}.txt")
    err = open(summary_path, "w")
    opts = os.environ.get("SOAK_LISTEN_OPTS", "").split()
    listen = subprocess.Popen([tcplab, "listen", "--quiet"] + opts +
                              [f"{PORT}:echo", f"{DAYTIME}:daytime"],
                              stdin=subprocess.DEVNULL, stderr=err)
    res = {"listen": listen, "opts": opts, "stop": threading.Event(), "rows": [], "flood": None,
           "nconns": nconns}
    completed = False
    try:
        run(tcplab, synflood, minutes, nconns, rate, res)
        completed = True
    finally:
        res["stop"].set()
        flood = res["flood"]
        if flood and flood.poll() is None:
            flood.kill()
            flood.wait(timeout=5)
        if listen.poll() is None:
            listen.send_signal(signal.SIGTERM)
        try:
            res["listen_rc"] = listen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            listen.kill()
            res["listen_rc"] = -9
        err.close()
        with open(summary_path) as f:
            summary = f.read()
        os.unlink(summary_path)
        print("".join("# " + line for line in summary.splitlines(True)))
    if not completed:
        return 1
    res["cookies_bad"] = cookies_bad_from(summary)
    checks = verdict(res)
    for ok, text in checks:
        print(f"# {'ok  ' if ok else 'FAIL' if ok is False else 'n/a '} {text}")
    status = 1 if any(ok is False for ok, _ in checks) else 0
    print(f"# soak verdict: {'pass' if status == 0 else 'FAIL'} (exit {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
