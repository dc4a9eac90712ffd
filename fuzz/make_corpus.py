#!/usr/bin/env python3
"""Write the seed corpora for the fuzz targets (python3 standard library only).

    python3 fuzz/make_corpus.py        # rewrites fuzz/corpus/{packet,segment,wire}/

Packets are written with zero checksums: both targets fix checksums when the
control/mode bit 0x01 is set, which every seed here sets (the fuzzer then
mutates from valid packets and also tries with the bit cleared).

fuzz/corpus/packet/ — for fuzz_packet.c: [cfg] then records [ctl][act][len16][packet]...
  cfg picks the engine options and the kind of open (0x40 = the stack connects).
  ctl 0x0f = fix checksums, peer->stack addresses, connection ports, seq/ack
  relative to what the stack last sent the peer (see fuzz_packet.c),
  so seq 0 ack 0 is "the next byte, acknowledging everything sent".
fuzz/corpus/segment/ — for fuzz_segment.c: [cfg] then 12-byte records
  [flags][seq_at][ack_at][opts][win16][len][act][d0..d3] (see fuzz_segment.c).
fuzz/corpus/wire/ — one mode byte (0x01) and one raw IPv4 packet, for fuzz_wire.c.
"""
import os
import struct

PEER = bytes([10, 7, 0, 1])
STACK = bytes([10, 7, 0, 2])
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def ipv4(proto, payload, src=PEER, dst=STACK, frag=0x4000, ihl=5):
    total = ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, frag, 64, proto, 0, src, dst)
    return hdr + b"\x00" * (ihl * 4 - 20) + payload


def tcp(flags, seq=0, ack=0, data=b"", win=65535, opts=b"", sport=5555, dport=80):
    while len(opts) % 4:
        opts += b"\x01"
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0)
    return ipv4(6, hdr + opts + data)


SYN_OPTS = (
    b"\x02\x04\x05\xb4"  # MSS 1460
    + b"\x04\x02"  # SACK permitted
    + b"\x08\x0a" + struct.pack("!II", 12345, 0)  # timestamps
    + b"\x01\x03\x03\x07"  # NOP, window scale 7
)


def tsopt(val, ecr):
    """NOP, NOP, timestamps (RFC 7323 §3): the layout every non-SYN segment uses."""
    return b"\x01\x01\x08\x0a" + struct.pack("!II", val, ecr)


def sack(*blocks, length=None):
    """NOP NOP, kind 5 with the given (left, right) blocks; `length` forces a
    (wrong) length byte."""
    body = b"".join(struct.pack("!II", l, r) for l, r in blocks)
    return b"\x01\x01\x05" + bytes([length if length is not None else 2 + len(body)]) + body


TS_OPT = tsopt(7, 9)


def icmp_echo(data=b"ping"):
    return ipv4(1, struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + data)


def record(pkt, ctl=0x0F, act=0x00):
    return struct.pack("!BBH", ctl, act, len(pkt)) + pkt


PACKET_SEEDS = {
    "data_then_read": record(tcp(PSH | ACK, 0, 0, b"hello"), act=0x01),
    "ack_data_then_fin": record(tcp(ACK)) + record(tcp(FIN | ACK), act=0x09)
    + record(tcp(ACK), act=0xC0),
    "we_close_first": record(tcp(ACK), act=0x08) + record(tcp(ACK))
    + record(tcp(FIN | ACK), act=0xC0),
    "partial_ack": record(tcp(ACK, 0, 0xFFFFFFFC), act=0x81),
    "rst_exact": record(tcp(RST, 0, 0)),
    "rst_in_window_challenged": record(tcp(RST, 100, 0)),
    "syn_on_established": record(tcp(SYN, 0, 0, opts=SYN_OPTS)),
    "new_connection_with_options": record(tcp(SYN, 1000, 0, opts=SYN_OPTS, sport=6000), ctl=0x03)
    + record(tcp(ACK, 1001, 0, sport=6000), ctl=0x03),
    "out_of_order_data": record(tcp(PSH | ACK, 10, 0, b"world")) + record(tcp(PSH | ACK, 0, 0, b"0123456789"), act=0x01),
    "zero_window_then_open": record(tcp(ACK, win=0), act=0x42) + record(tcp(ACK), act=0x80),
    "retransmission_timeouts": record(tcp(ACK, 0, 0), act=0x82) + record(b"", act=0xC0),
    "ping": record(icmp_echo(), ctl=0x03),
    "udp": record(ipv4(17, b"\x00\x35\x00\x35\x00\x0c\x00\x00abcd"), ctl=0x03),
    "fragment": record(ipv4(6, b"\x00" * 20, frag=0x2000), ctl=0x03),
    "ip_options": record(ipv4(6, b"\x15\xb3\x00\x50" + b"\x00" * 8 + b"\x50\x10\xff\xff\x00\x00\x00\x00", ihl=6), ctl=0x03),
    "connect_out": record(b"", ctl=0, act=0x20),
    # SACK (RFC 2018): the stack sends 100 bytes twice, then ACKs with
    # blocks good and bad (their edges are absolute: the harness moves only
    # seq/ack, so most land outside [SND.UNA, SND.MAX] and are ignored)
    "sack_blocks_after_data": record(tcp(ACK), act=0x02) + record(tcp(ACK), act=0x02)
    + record(tcp(ACK, opts=sack((1000, 1100)))) + record(tcp(ACK, opts=sack((1000, 1000))))
    + record(tcp(ACK, opts=sack((1000, 1100), (1050, 1200))))
    + record(tcp(ACK, opts=sack((1, 2), (3, 4), (5, 6), (7, 8))))
    + record(tcp(ACK, opts=TS_OPT + sack((10, 20), (30, 40), (50, 60)))),
    "sack_bad_length": record(tcp(ACK, opts=sack((1, 2), length=9))),
    "dsack_below_ack": record(tcp(ACK, 0, 0, opts=sack((0xFFFFFF00, 0xFFFFFF80)))),
    "garbage": record(bytes(range(40)), ctl=0),
}

# RFC 7323 timestamps on a connection that agreed to them (cfg 0x10: the
# peer's SYN or SYN,ACK carries TSopt with TSval 1): PAWS, TS.Recent, the
# TSecr checks, RST exemption, a segment without TSopt, a malformed option.
TS_PACKET_SEEDS = {
    "ts_data_then_read": record(tcp(PSH | ACK, 0, 0, b"hello", opts=tsopt(10, 0)), act=0x01),
    "ts_paws_old_segment": record(tcp(PSH | ACK, 0, 0, b"new", opts=tsopt(100, 0)))
    + record(tcp(PSH | ACK, 0, 0, b"old", opts=tsopt(50, 0)), act=0x01),
    "ts_ecr_from_the_future": record(tcp(ACK, 0, 0, opts=tsopt(20, 0xFFFFFFF0))),
    "ts_rst_with_old_tsval": record(tcp(ACK, 0, 0, opts=tsopt(100, 0)))
    + record(tcp(RST, 0, 0, opts=tsopt(2, 0))),
    "ts_missing_after_agreed": record(tcp(PSH | ACK, 0, 0, b"plain"), act=0x01),
    "ts_wrong_length": record(tcp(ACK, 0, 0, opts=b"\x01\x01\x08\x08" + b"\x00" * 6)),
    "ts_idle_then_older_tsval": record(tcp(ACK, 0, 0, opts=tsopt(100, 0)), act=0xC3)
    + record(tcp(PSH | ACK, 0, 0, b"late", opts=tsopt(5, 0)), act=0x01),
    "ts_retransmission_echo": record(tcp(ACK, 0, 0xFFFFFFF7, opts=tsopt(30, 0)), act=0x82)
    + record(tcp(ACK, 0, 0, opts=tsopt(40, 0))),
}

# A few seeds again under other engine configurations (see fuzz_packet.c).
CONFIG_VARIANTS = {
    "active_open_": 0x40,
    "wscale_sack_ts_": 0x11,
    "no_delack_no_nagle_tiny_": 0x0E,
    "keepalive_": 0x20,
}
VARIANT_OF = ["data_then_read", "ack_data_then_fin", "we_close_first", "zero_window_then_open",
              "retransmission_timeouts", "out_of_order_data", "sack_blocks_after_data",
              "dsack_below_ack"]

WIRE_SEEDS = {
    "syn_all_options": tcp(SYN, 1000, 0, opts=SYN_OPTS),
    "data_odd_length": tcp(PSH | ACK, 1, 1, b"hello"),
    "fin_ack": tcp(FIN | ACK, 7, 9),
    "rst": tcp(RST, 7, 0),
    "unknown_options": tcp(ACK, 1, 1, opts=b"\x1e\x06\xff\xff\xff\xff\x05\x0a" + b"\x00" * 8),
    "eol_then_junk": tcp(ACK, 1, 1, opts=b"\x02\x04\x05\xb4\x00\x1e\x00\x00"),
    "ping": icmp_echo(b"abcdefg"),
    "sack_four_blocks": tcp(ACK, 1, 1, opts=sack((1, 2), (3, 4), (5, 6), (0xFFFFFFF0, 0x10))),
    "sack_beside_timestamps": tcp(ACK, 1, 1, opts=TS_OPT + sack((100, 200), (300, 400), (500, 600))),
    "sack_two_options": tcp(ACK, 1, 1, opts=sack((1, 2), (3, 4)) + sack((5, 6), (7, 8))[2:]),
    "sack_length_not_2_plus_8n": tcp(ACK, 1, 1, opts=sack((1, 2), length=11) + b"\x00\x00\x00"),
    "ip_options": ipv4(6, tcp(ACK)[20:], ihl=7),
    "ts_option": tcp(ACK, 1, 1, opts=tsopt(0x01020304, 0x05060708)),
    "ts_wrong_length": tcp(ACK, 1, 1, opts=b"\x01\x01\x08\x09" + b"\x00" * 7),
}


def seg(flags, seq_at=0, ack_at=0, opts=0, win=65535, length=0, act=0, d=b"\x05\xb4\x07\x00"):
    return struct.pack("!BBBBHBB4s", flags, seq_at, ack_at, opts, win, length, act, d)


# seq_at/ack_at: low 3 bits choose the edge, high 5 bits an offset (16 = +0).
AT = 16 << 3
SEGMENT_SEEDS = {
    "data_in_order": b"\x00" + seg(PSH | ACK, AT, AT, length=100, act=0x01),
    "data_at_window_edge": b"\x08" + seg(PSH | ACK, AT | 2, AT, length=10) * 3,
    "data_past_window": b"\x08" + seg(PSH | ACK, AT | 3, AT, length=200),
    "out_of_order_then_fill": b"\x00" + seg(PSH | ACK, (17 << 3) | 0, AT, length=50)
    + seg(PSH | ACK, AT, AT, length=1, act=0x01),
    "ack_old_and_future": b"\x00" + seg(ACK, AT, AT | 2) + seg(ACK, AT, AT | 3),
    "sack_blocks_ts": b"\x10" + seg(ACK, AT, AT | 1, opts=0x38, d=b"\x01\x02\x03\x00"),
    "rst_edges": b"\x00" + seg(RST, AT | 1, 0) + seg(RST, AT | 2, 0) + seg(RST, AT, 0),
    "syn_in_established": b"\x00" + seg(SYN, AT, 0, opts=0x0F),
    "fin_then_close": b"\x00" + seg(FIN | ACK, AT, AT, act=0x09) + seg(ACK, AT, AT, act=0xC0),
    "zero_window_then_open": b"\x00" + seg(ACK, AT, AT, win=0, act=0x82) + seg(ACK, AT, AT, act=0x80),
    "bad_options": b"\x00" + seg(ACK, AT, AT, opts=0xC0, d=b"\x08\x00\x00\x00"),
    "active_open_data": b"\x40" + seg(PSH | ACK, AT, AT, length=20, act=0x03),
    # timestamps agreed (cfg 0x10); TSval in d0..d3: a newer one, then an
    # older one (PAWS), then one without TSopt
    "ts_paws_old_then_plain": b"\x10" + seg(PSH | ACK, AT, AT, opts=0x08, length=10,
                                             d=struct.pack("!I", 100))
    + seg(PSH | ACK, AT, AT, opts=0x08, length=10, d=struct.pack("!I", 50))
    + seg(PSH | ACK, AT, AT, length=10, act=0x01),
    "ts_active_open_data": b"\x50" + seg(PSH | ACK, AT, AT, opts=0x08, length=20, act=0x03,
                                          d=struct.pack("!I", 7)),
    # SACK agreed (cfg 0x10): the stack sends, then ACKs carry 1-3 blocks
    # around SND.UNA (some valid, some inverted), out-of-order data makes the
    # stack send SACK blocks, a duplicate makes it send a D-SACK
    "sack_sender_blocks": b"\x10" + seg(ACK, AT, AT, act=0x02) + seg(ACK, AT, AT, act=0x02)
    + seg(ACK, AT, AT | 1, opts=0x30, d=b"\x04\x08\x0c\x00")
    + seg(ACK, AT, AT | 1, opts=0x20, d=b"\x04\x08\x0c\x01")
    + seg(ACK, AT, AT | 1, opts=0x10, d=b"\x06\x01\x00\x00"),
    "sack_receiver_ooo_and_dup": b"\x10" + seg(PSH | ACK, (18 << 3), AT, length=30)
    + seg(PSH | ACK, (20 << 3), AT, length=30) + seg(PSH | ACK, AT, AT, length=16, act=0x01)
    + seg(PSH | ACK, AT, AT, length=16) + seg(PSH | ACK, (12 << 3), AT, length=8),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    packet = {name: b"\x00" + data for name, data in PACKET_SEEDS.items()}
    for prefix, cfg in CONFIG_VARIANTS.items():
        for name in VARIANT_OF:
            packet[prefix + name] = bytes([cfg]) + PACKET_SEEDS[name]
    packet["keepalive_idle"] = b"\x20" + record(b"", ctl=0, act=0xC0)
    for name, data in TS_PACKET_SEEDS.items():
        packet[name] = b"\x10" + data
        packet["active_open_" + name] = b"\x50" + data
    for sub, seeds, prefix in (("packet", packet, b""), ("wire", WIRE_SEEDS, b"\x01"),
                               ("segment", SEGMENT_SEEDS, b"")):
        d = os.path.join(here, "corpus", sub)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(prefix + data)
    print("wrote", len(packet), "packet seeds,", len(SEGMENT_SEEDS), "segment seeds and",
          len(WIRE_SEEDS), "wire seeds")


if __name__ == "__main__":
    main()
