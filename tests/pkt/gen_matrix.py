#!/usr/bin/env python3
"""gen_matrix.py - write tests/pkt/matrix/*.pkt: RST, SYN, FIN and ACK segments
arriving in each state at the left edge of the receive window (SEG.SEQ =
RCV.NXT), at its right edge (RCV.NXT + RCV.WND - 1) and just outside it
(RCV.NXT + RCV.WND), with what RFC 9293 3.10.7.4 and RFC 5961 say must follow.

Run it after changing the table below; the scripts it writes are committed
so `tcplab replay tests/pkt` needs no Python. Every script starts the same
way (a passive open with a 4000-byte receive window) and, where the segment
must be dropped without an answer, ends with a probe: an old duplicate ACK
0.6 s later, which must be answered with an ACK (0.6 s: past the 500 ms for
which RFC 5961 §5/§7 and Linux's tcp_invalid_ratelimit let a connection
answer only one invalid segment). Anything the engine sent
for the segment itself would be matched first, and fail on its time.
"""
import os
import sys

WIN = 4000
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "matrix")

# (RCV.NXT, SND.NXT, SND.UNA) of the engine in each state, and how to get there.
OPEN = [
    "0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
    "+0   bind(3, ..., ...) = 0",
    "+0   listen(3, 1) = 0",
    "+0   < S 0:0(0) win %d <mss 1000>" % WIN,
    "+0   > S. 0:0(0) ack 1 win %d <mss 1460>" % WIN,
]
EST = OPEN + ["+.1  < . 1:1(0) ack 1 win %d" % WIN, "+0   accept(3, ..., ...) = 4"]
FW1 = EST + ["+.1  shutdown(4, SHUT_WR) = 0", "+0   > F. 1:1(0) ack 1"]
FW2 = FW1 + ["+.1  < . 1:1(0) ack 2 win %d" % WIN]
TW = FW2 + ["+.1  < F. 1:1(0) ack 2 win %d" % WIN, "+0   > . 2:2(0) ack 2"]
CLOSING = FW1 + ["+.1  < F. 1:1(0) ack 1 win %d" % WIN, "+0   > . 2:2(0) ack 2"]
CW = EST + ["+.1  < F. 1:1(0) ack 1 win %d" % WIN, "+0   > . 1:1(0) ack 2"]
LA = CW + ["+.1  close(4) = 0", "+0   > F. 1:1(0) ack 2"]

STATES = {
    "syn-received": (OPEN, 1, 1, 0, "SYN_RECEIVED"),
    "established": (EST, 1, 1, 1, "ESTABLISHED"),
    "fin-wait-1": (FW1, 1, 2, 1, "FIN_WAIT_1"),
    "fin-wait-2": (FW2, 1, 2, 2, "FIN_WAIT_2"),
    "close-wait": (CW, 2, 1, 1, "CLOSE_WAIT"),
    "closing": (CLOSING, 2, 2, 1, "CLOSING"),
    "last-ack": (LA, 2, 2, 1, "LAST_ACK"),
    "time-wait": (TW, 2, 2, 2, "TIME_WAIT"),
}

POS = {
    "left-edge": lambda rcv: rcv,
    "right-edge": lambda rcv: rcv + WIN - 1,
    "outside": lambda rcv: rcv + WIN,
}



def probe(rcv, snd, una):
    """Nothing was sent for the segment: an old duplicate gets the first answer."""
    return [
        "// nothing was sent for it: the next packet is the answer to an old duplicate",
        "+.6  < . %d:%d(0) ack %d win %d" % (rcv - 1, rcv - 1, una, WIN),
        "+0   > . %d:%d(0) ack %d" % (snd, snd, rcv),
    ]


def gone(rcv, snd):
    """The connection is closed: a segment for it is answered with RST (RFC 9293 3.10.7.1)."""
    return [
        "// the connection is gone: an ACK for it gets <SEQ=SEG.ACK><CTL=RST>",
        "+.1  < . %d:%d(0) ack %d win %d" % (rcv, rcv, snd, WIN),
        "+0   > R %d:%d(0)" % (snd, snd),
    ]


def rst_case(state, pos):
    pre, rcv, snd, una, name = STATES[state]
    seq = POS[pos](rcv)
    lines = ["+.1  < R %d:%d(0) win %d" % (seq, seq, WIN)]
    if pos == "left-edge":
        if state == "time-wait":
            why = ("RFC 1337: TIME_WAIT ignores RST (no TIME-WAIT assassination). RFC 9293 "
                   "3.10.7.4 would close; tcplab follows RFC 1337 (Linux by default does not).")
            lines += ["// still in TIME_WAIT: the retransmitted FIN is acknowledged",
                      "+.1  < F. 1:1(0) ack 2 win %d" % WIN, "+0   > . 2:2(0) ack 2"]
        elif state == "syn-received":
            why = ("RFC 9293 3.10.7.4 second step: in SYN-RECEIVED after a passive OPEN, an "
                   "acceptable RST returns the connection to LISTEN.")
            lines += ["// back to LISTEN: the completing ACK finds no connection",
                      "+.1  < . 1:1(0) ack 1 win %d" % WIN, "+0   > R 1:1(0)"]
        else:
            why = ("RFC 5961 3.2 / RFC 9293 3.10.7.4: a RST whose SEQ is exactly RCV.NXT "
                   "resets the connection.")
            if state in ("established", "close-wait", "fin-wait-1", "fin-wait-2"):
                lines += ["+0   read(4, ..., 100) = -1 ECONNRESET (Connection reset by peer)"]
            lines += gone(rcv, snd)
    elif pos == "right-edge":
        why = ("RFC 5961 3.2: a RST in the window but not at RCV.NXT gets a challenge ACK "
               "<SEQ=SND.NXT><ACK=RCV.NXT> and is dropped.")
        if state == "time-wait":
            why = "RFC 1337: TIME_WAIT ignores every RST, in the window or not."
            lines += probe(rcv, snd, una)
        else:
            lines += ["+0   > . %d:%d(0) ack %d" % (snd, snd, rcv)]
    else:
        why = "RFC 5961 3.2 / RFC 9293 3.10.7.4 first step: a RST outside the window is dropped silently."
        lines += probe(rcv, snd, una)
    return pre, lines, why, name


def syn_case(state, pos):
    pre, rcv, snd, una, name = STATES[state]
    seq = POS[pos](rcv)
    lines = ["+.1  < S %d:%d(0) win %d <mss 1000>" % (seq, seq, WIN)]
    if pos == "outside":
        why = ("RFC 9293 3.10.7.4 first step: an unacceptable segment is answered with "
               "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped.")
    else:
        why = ("RFC 5961 4.2 / RFC 9293 3.10.7.4 fourth step: a SYN in a synchronized state, "
               "whatever its sequence number, gets a challenge ACK and is dropped.")
    lines += ["+0   > . %d:%d(0) ack %d" % (snd, snd, rcv)]
    # the connection is still there, in the same state
    lines += probe(rcv, snd, una)
    return pre, lines, why, name


def fin_case(state, pos):
    pre, rcv, snd, una, name = STATES[state]
    seq = POS[pos](rcv)
    lines = ["+.1  < F. %d:%d(0) ack %d win %d" % (seq, seq, una, WIN)]
    nxt = {"established": "CLOSE_WAIT", "fin-wait-1": "CLOSING", "fin-wait-2": "TIME_WAIT"}
    if pos == "left-edge":
        why = ("RFC 9293 3.10.7.4 eighth step: a FIN at RCV.NXT is acknowledged "
               "(RCV.NXT advances over it); %s -> %s." % (name, nxt[state]))
        lines += ["+0   > . %d:%d(0) ack %d" % (snd, snd, rcv + 1)]
        if state == "established":
            lines += ["+0   read(4, ..., 100) = 0"]
        lines += probe(rcv + 1, snd, una)
        return pre, lines, why, name
    elif pos == "right-edge":
        why = ("RFC 9293 3.10.7.4 / RFC 5681 4.2: a FIN beyond RCV.NXT is out of order; it is "
               "not processed, and the gap is acknowledged at once <ACK=RCV.NXT>.")
        lines += ["+0   > . %d:%d(0) ack %d" % (snd, snd, rcv)]
    else:
        why = "RFC 9293 3.10.7.4 first step: a FIN outside the window is answered with an ACK and dropped."
        lines += ["+0   > . %d:%d(0) ack %d" % (snd, snd, rcv)]
    lines += probe(rcv, snd, una)
    return pre, lines, why, name


def ack_case(state, pos):
    pre, rcv, snd, una, name = STATES[state]
    seq = POS[pos](rcv)
    lines = ["+.1  < . %d:%d(0) ack %d win %d" % (seq, seq, una, WIN)]
    if pos == "outside":
        why = "RFC 9293 3.10.7.4 first step: an unacceptable segment is answered with an ACK and dropped."
        lines += ["+0   > . %d:%d(0) ack %d" % (snd, snd, rcv)]
    else:
        why = ("RFC 9293 3.10.7.4 first step: a zero-length segment with RCV.NXT =< SEG.SEQ < "
               "RCV.NXT+RCV.WND is acceptable; a duplicate ACK needs no answer.")
    lines += probe(rcv, snd, una)
    return pre, lines, why, name


CASES = []
for st in ["syn-received", "established", "fin-wait-1", "fin-wait-2", "close-wait", "closing",
           "last-ack", "time-wait"]:
    for pos in POS:
        CASES.append(("rst", st, pos, rst_case))
for st in ["established", "fin-wait-1", "fin-wait-2", "close-wait", "closing", "last-ack"]:
    for pos in POS:
        CASES.append(("syn", st, pos, syn_case))
for st in ["established", "fin-wait-1", "fin-wait-2"]:
    for pos in POS:
        CASES.append(("fin", st, pos, fin_case))
for st in ["established", "fin-wait-1", "fin-wait-2", "close-wait", "closing", "last-ack"]:
    for pos in POS:
        CASES.append(("ack", st, pos, ack_case))


# CLOSED (no socket has the port), LISTEN and SYN-SENT have their own rules
# (RFC 9293 3.10.7.1-3.10.7.3): written out one by one.
CLOSED_PRE = ["0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"]
LISTEN_PRE = CLOSED_PRE + ["+0   bind(3, ..., ...) = 0", "+0   listen(3, 1) = 0"]
SYN_SENT_PRE = CLOSED_PRE + [
    "+0   fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0",
    "+0   connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)",
    "+0   > S 0:0(0) win %d <mss 1460>" % WIN,
]
LISTEN_PROBE = ["// the listener is unchanged: a SYN still gets SYN,ACK",
                "+.1  < S 0:0(0) win %d <mss 1000>" % WIN,
                "+0   > S. 0:0(0) ack 1 win %d <mss 1460>" % WIN]
SYN_SENT_PROBE = ["// still SYN-SENT: the SYN,ACK completes the handshake",
                  "+.1  < S. 0:0(0) ack 1 win %d <mss 1000>" % WIN,
                  "+0   > . 1:1(0) ack 1"]
SPECIAL = {
    "rst-closed": ("CLOSED", CLOSED_PRE, [
        "+.1  < R 1:1(0) win 0",
        "// nothing is sent for a RST; the next packet answers the ACK below",
        "+.1  < . 1:1(0) ack 1 win %d" % WIN, "+0   > R 1:1(0) win 0"],
        "RFC 9293 3.10.7.1: in CLOSED, an incoming RST is discarded."),
    "ack-closed": ("CLOSED", CLOSED_PRE, [
        "+.1  < . 1:1(0) ack 77 win %d" % WIN, "+0   > R 77:77(0) win 0"],
        "RFC 9293 3.10.7.1: in CLOSED, a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>."),
    "syn-closed": ("CLOSED", CLOSED_PRE, [
        "+.1  < S 100:100(0) win %d <mss 1000>" % WIN, "+0   > R. 0:0(0) ack 101 win 0"],
        "RFC 9293 3.10.7.1: in CLOSED, a segment without ACK gets "
        "<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (the SYN counts one)."),
    "fin-closed": ("CLOSED", CLOSED_PRE, [
        "+.1  < F 100:100(0) win %d" % WIN, "+0   > R. 0:0(0) ack 101 win 0"],
        "RFC 9293 3.10.7.1: in CLOSED, a FIN without ACK gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>."),
    "rst-listen": ("LISTEN", LISTEN_PRE, ["+.1  < R 0:0(0) win 0"] + LISTEN_PROBE,
        "RFC 9293 3.10.7.2: in LISTEN, an incoming RST is ignored."),
    "ack-listen": ("LISTEN", LISTEN_PRE, [
        "+.1  < . 0:0(0) ack 5 win %d" % WIN, "+0   > R 5:5(0) win 0"] + LISTEN_PROBE,
        "RFC 9293 3.10.7.2: in LISTEN, any acknowledgment is bad: <SEQ=SEG.ACK><CTL=RST>."),
    "fin-listen": ("LISTEN", LISTEN_PRE, [
        "+.1  < F 0:0(0) win %d" % WIN] + LISTEN_PROBE,
        "RFC 9293 3.10.7.2 fourth: in LISTEN, a segment with neither SYN, ACK nor RST is dropped."),
    "syn-listen": ("LISTEN", LISTEN_PRE, [
        "+.1  < S 0:0(0) win %d <mss 1000>" % WIN,
        "+0   > S. 0:0(0) ack 1 win %d <mss 1460>" % WIN],
        "RFC 9293 3.10.7.2 third: in LISTEN, a SYN gets <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>."),
    "ack-syn-sent-left-edge": ("SYN_SENT", SYN_SENT_PRE, [
        "+.1  < . 0:0(0) ack 0 win %d" % WIN, "+0   > R 0:0(0) win 0"] + SYN_SENT_PROBE,
        "RFC 9293 3.10.7.3: in SYN-SENT, SEG.ACK =< ISS is unacceptable: <SEQ=SEG.ACK><CTL=RST>."),
    "ack-syn-sent-outside": ("SYN_SENT", SYN_SENT_PRE, [
        "+.1  < . 0:0(0) ack 2 win %d" % WIN, "+0   > R 2:2(0) win 0"] + SYN_SENT_PROBE,
        "RFC 9293 3.10.7.3: in SYN-SENT, SEG.ACK > SND.NXT is unacceptable: <SEQ=SEG.ACK><CTL=RST>."),
    "rst-syn-sent-no-ack": ("SYN_SENT", SYN_SENT_PRE, [
        "+.1  < R 0:0(0) win 0"] + SYN_SENT_PROBE,
        "RFC 9293 3.10.7.3: in SYN-SENT, a RST without an acceptable ACK is dropped."),
    "rst-syn-sent-acceptable": ("SYN_SENT", SYN_SENT_PRE, [
        "+.1  < R. 0:0(0) ack 1 win 0",
        "+0   getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0"],
        "RFC 9293 3.10.7.3: in SYN-SENT, a RST with an acceptable ACK: 'error: connection "
        "reset' (ECONNREFUSED), CLOSED."),
    "fin-syn-sent": ("SYN_SENT", SYN_SENT_PRE, [
        "+.1  < F. 0:0(0) ack 1 win %d" % WIN,
        "// dropped: the SYN,ACK still completes the handshake; no ACK was sent for the FIN",
        "+.1  < S. 0:0(0) ack 1 win %d <mss 1000>" % WIN, "+0   > . 1:1(0) ack 1"],
        "RFC 9293 3.10.7.3 fifth: in SYN-SENT, a segment with neither SYN nor RST is dropped."),
}


def write_special(name):
    sname, pre, lines, why = SPECIAL[name]
    text = ["// %s" % name.replace("-", " ").upper().split()[0] +
            " arriving in %s." % sname, "// " + why, "// (generated by tests/pkt/gen_matrix.py)", "",
            "--set=rcvbuf=%d" % WIN, ""] + pre + ["", "// in %s now" % sname] + lines
    with open(os.path.join(OUT, name + ".pkt"), "w") as f:
        f.write("\n".join(text) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    for kind, st, pos, fn in CASES:
        name = "%s-%s-%s" % (kind, st, pos)
        if only and name not in only:
            continue
        pre, lines, why, sname = fn(st, pos)
        text = ["// %s arriving in %s at %s." % (kind.upper(), sname, pos.replace("-", " ")),
                "// " + why, "// (generated by tests/pkt/gen_matrix.py)", "",
                "--set=rcvbuf=%d" % WIN, ""]
        text += pre + ["", "// in %s now" % sname] + lines
        with open(os.path.join(OUT, name + ".pkt"), "w") as f:
            f.write("\n".join(text) + "\n")
    for name in SPECIAL:
        if not only or name in only:
            write_special(name)
    print("%d scripts in %s" % (len(CASES) + len(SPECIAL), OUT))


if __name__ == "__main__":
    main()
