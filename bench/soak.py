#!/usr/bin/env python3
"""bench/soak.py — the load of bench/soak.sh, run inside its private namespace.

    soak.py TCPLAB SYNFLOOD MINUTES CONNS FLOOD_RATE

Starts `tcplab listen --quiet 7:echo 13:daytime`, then for MINUTES:
  - holds CONNS concurrent connections to the echo port; each sends a
    numbered message about every second (their moments spread over the
    second) and checks the echo byte for byte;
  - a churn thread connects to daytime, reads the answer and closes, as fast
    as it can, one connection at a time (the stack closes first, so its
    TIME_WAIT blocks pile up and max_time_wait is reached);
  - synflood sends spoofed SYNs (FLOOD_RATE per second) from the subnet's
    addresses to the daytime port, for the whole run, so the churn's
    connections get in through SYN cookies.
Every 30 s (and at the end) one row: time, the stack's RSS and open fds, the
connections held, the kernel's sockets to the stack (established, TIME_WAIT),
churn connections done, messages checked, data errors. Then why churn
connects failed, the client kernel's TCP counters, the packets the kernel
dropped at tl0, and listen's exit summary. Exit status 0 only if there was no
data error, no failed connection and listen exited cleanly. SOAK_PCAP=FILE
also records every RST on tl0 (tcpdump), to find the failed connections'
ports afterwards; SOAK_RING=FILE keeps a ring of daytime's packets on tl0
(tcpdump -C 100 -W 5: FILE0..FILE4) stopped at the first churn failure, so
the failing port's whole history is in it.
"""
import errno
import os
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


class Held:
    """CONNS connections, each echoing one numbered message at a time."""

    def __init__(self, n):
        """The i-th connection's first message goes i/n s into the first
        second, so the messages arrive spread over each second rather than
        as one burst of n packets: a burst larger than tl0's queue
        (txqueuelen, 500) is dropped by the kernel, and a dropped final ACK
        of a cookie handshake is never recovered (see churn())."""
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.errors = 0
        self.checked = 0
        self.failed_connects = 0
        for i in range(n):
            try:
                s = socket.create_connection((STACK, PORT), timeout=20)
            except OSError:
                self.failed_connects += 1
                continue
            s.setblocking(False)
            c = {"sock": s, "i": i, "n": 0, "want": b"", "got": b"", "sent_at": 0.0,
                 "offset": i / n}
            self.conns.append(c)
            self.sel.register(s, selectors.EVENT_READ, c)

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


def churn(stop, stats):
    """Connect to daytime, read to EOF, close: the stack closes first, so the
    TIME_WAIT blocks pile up on the stack's side (and its max_time_wait is
    exercised), not in the kernel, whose ephemeral ports would run out.
    A failure is counted by where it happened (connect, recv) and what the
    kernel said, with the local port and time of the first few, so a report
    can tell the client's trouble (no port: EADDRNOTAVAIL) from the stack's
    (refused, reset, no answer)."""
    while not stop.is_set():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        phase = "connect"
        try:
            s.settimeout(10)
            s.connect((STACK, DAYTIME))
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
            stats["failed"] += 1
            key = f"{phase} {failure_name(e)}"
            stats["why"][key] = stats["why"].get(key, 0) + 1
            if len(stats["examples"]) < 10:
                try:
                    port = s.getsockname()[1]
                except OSError:
                    port = 0
                stats["examples"].append(f"{key} port {port} at {time.monotonic() - stats['t0']:.1f} s")
            ring = stats.get("ring")
            if ring and ring.poll() is None:  # SOAK_RING: keep the first failure's history
                time.sleep(0.5)
                ring.terminate()
            time.sleep(0.1)
        finally:
            s.close()


def tun_drops():
    """Packets the kernel dropped on the way to the stack (tl0's queue of
    txqueuelen packets was full: the stack had fallen behind; the kernel's
    drop reason is FULL_RING) and on the way from it. Read from /proc/net/dev,
    which is this network namespace's: /sys/class/net is the one sysfs was
    mounted in (unshare --net does not remount it), where tl0 does not exist."""
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "tl0":
                v = [int(x) for x in rest.split()]
                return v[11], v[3]  # transmit drop (to the stack), receive drop
    return 0, 0


def kernel_tcp_counters():
    """The client side's view (the kernel's /proc/net/snmp Tcp line):
    AttemptFails counts connects that ended in a RST or gave up."""
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Tcp:")]
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


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
    flood = None
    stop = threading.Event()
    status = 1
    try:
        for _ in range(250):
            r = subprocess.run(["ip", "-br", "addr", "show", "tl0"], capture_output=True, text=True)
            if "10.7.0.1" in r.stdout:
                break
            time.sleep(0.02)
        seconds = minutes * 60
        dump = None
        if os.environ.get("SOAK_PCAP"):  # SOAK_PCAP=FILE: every RST on tl0, for a post-mortem
            dump = subprocess.Popen(["tcpdump", "-q", "-i", "tl0", "-s", "96", "-w",
                                     os.environ["SOAK_PCAP"], "tcp[tcpflags] & tcp-rst != 0"],
                                    stderr=subprocess.DEVNULL)
        ring = None
        if os.environ.get("SOAK_RING"):  # SOAK_RING=FILE: a ring of daytime's packets, stopped at the first failure
            ring = subprocess.Popen(["tcpdump", "-q", "-i", "tl0", "-s", "96", "-C", "100", "-W", "5",
                                     "-w", os.environ["SOAK_RING"], "port", str(DAYTIME)],
                                    stderr=subprocess.DEVNULL)
        rss0 = rss_kb(listen.pid)
        print(f"# listen {' '.join(opts)} pid {listen.pid}, RSS at start {rss0} kB; {nconns} connections, "
              f"churn, SYN flood {rate}/s, {minutes:g} min")
        held = Held(nconns)
        flood = subprocess.Popen([synflood, STACK, str(DAYTIME), "10.7.0.0/24",
                                  str(max(1, int(rate * (seconds + 5)))), str(rate),
                                  str(seconds + 5)], stdout=subprocess.PIPE)
        cstats = {"done": 0, "errors": 0, "failed": 0, "why": {}, "examples": [],
                  "t0": time.monotonic(), "ring": ring}
        snmp0 = kernel_tcp_counters()
        drops0 = tun_drops()
        t = threading.Thread(target=churn, args=(stop, cstats), daemon=True)
        t.start()
        print("| t (s) | RSS kB | fds | held | kernel ESTAB | kernel TIME_WAIT | churned | "
              "echoes checked | data errors |")
        print("|---|---|---|---|---|---|---|---|---|")
        start = time.monotonic()
        held.start(start)
        next_row = start
        while True:
            now = time.monotonic()
            if now >= next_row or now - start >= seconds:
                est, tw = kernel_sockets()
                print(f"| {now - start:.0f} | {rss_kb(listen.pid)} | {nfds(listen.pid)} | "
                      f"{len(held.conns)} | {est} | {tw} | {cstats['done']} | {held.checked} | "
                      f"{held.errors + cstats['errors']} |", flush=True)
                next_row += 30
            if now - start >= seconds:
                break
            held.step(now)
        stop.set()
        t.join(timeout=15)
        held.close()
        flood.kill()
        flood.wait(timeout=5)
        if ring and ring.poll() is None:
            ring.terminate()
            ring.wait(timeout=5)
        if dump:
            dump.terminate()
            dump.wait(timeout=5)
        errors = held.errors + cstats["errors"]
        print(f"# data errors {errors}; failed connects: held {held.failed_connects}, "
              f"churn {cstats['failed']}; churned {cstats['done']}; echoes checked "
              f"{held.checked}")
        if cstats["why"]:
            print("# churn failures by what the kernel said: " +
                  ", ".join(f"{k} {v}" for k, v in sorted(cstats["why"].items())))
            for ex in cstats["examples"]:
                print(f"#   {ex}")
        snmp1 = kernel_tcp_counters()
        print("# the client kernel's TCP counters over the run: " +
              ", ".join(f"{k} {snmp1[k] - snmp0[k]}" for k in
                        ("ActiveOpens", "AttemptFails", "EstabResets", "RetransSegs", "InErrs",
                         "OutRsts")))
        drops1 = tun_drops()
        to_stack, from_stack = drops1[0] - drops0[0], drops1[1] - drops0[1]
        print(f"# packets the kernel dropped at tl0: {to_stack} on the way to the stack "
              f"(its queue full: the stack fell behind), {from_stack} from it")
        if cstats["why"].get("recv timeout"):
            print("# a recv timeout is a connect that completed (the client ESTABLISHED) and then "
                  "no daytime text in 10 s. With drops at tl0 above it is a lost final ACK of a "
                  "SYN-cookie handshake: the cookie SYN,ACK kept no state, so nothing resends it, "
                  "and daytime's client sends nothing until it gives up (RFC 4987 s3.6; "
                  "tests/unit/test_tcp_limits.c). SOAK_RING=FILE keeps daytime's packets up to "
                  "the first failure")
        status = 0 if errors == 0 and held.failed_connects == 0 and cstats["failed"] == 0 else 1
    finally:
        stop.set()
        if flood and flood.poll() is None:
            flood.kill()
            flood.wait(timeout=5)
        if listen.poll() is None:
            listen.send_signal(signal.SIGTERM)
        try:
            rc = listen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            listen.kill()
            rc = -9
        err.close()
        with open(summary_path) as f:
            print("".join("# " + line for line in f))
        os.unlink(summary_path)
        if rc != 0:
            print(f"# tcplab listen exited {rc}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
