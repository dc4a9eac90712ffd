/*
 * isn.c — initial sequence numbers, RFC 6528 §3:
 *
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock that ticks every 4 microseconds (the RFC 793 ISN clock), and
 * F is a keyed pseudo-random function so an off-path attacker cannot guess
 * the ISN of someone else's connection. F here is SipHash-2-4 (Aumasson and
 * Bernstein, 2012), written from the paper's description. The key comes from
 * stack_config.isn_key: fixed in simulation so runs are reproducible.
 */
#include <string.h>

#include "tcp_internal.h"

static inline uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* One SipRound: the ARX network of the paper's Figure 2.2. */
static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

uint64_t tcp_siphash24(const uint8_t key[16], const uint8_t *msg, size_t len)
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    /* Initialisation: the key XORed with "somepseudorandomlygeneratedbytes". */
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    /* Compression: each full 8-byte little-endian word, two SipRounds. */
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(msg + i);
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    /* The last word: remaining bytes, and the length mod 256 in the top byte. */
    uint64_t b = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)msg[full + i] << (8 * i);
    v[3] ^= b;
    sip_round(v);
    sip_round(v);
    v[0] ^= b;
    /* Finalisation: four SipRounds. */
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint32_t tcp_isn(const uint8_t key[16], const struct tcp_tuple *t, uint64_t now_us)
{
    uint8_t m[12] = {
        (uint8_t)(t->laddr >> 24), (uint8_t)(t->laddr >> 16), (uint8_t)(t->laddr >> 8),
        (uint8_t)t->laddr,         (uint8_t)(t->lport >> 8),  (uint8_t)t->lport,
        (uint8_t)(t->raddr >> 24), (uint8_t)(t->raddr >> 16), (uint8_t)(t->raddr >> 8),
        (uint8_t)t->raddr,         (uint8_t)(t->rport >> 8),  (uint8_t)t->rport,
    };
    uint32_t m_clock = (uint32_t)(now_us / 4); /* M: the 4-microsecond clock */
    return m_clock + (uint32_t)tcp_siphash24(key, m, sizeof m);
}
