/*
 * syncookie.c — SYN cookies, RFC 4987 §3.6.
 *
 * When a listener's SYN queue is full (or always, if configured) the SYN is
 * answered with a SYN,ACK whose ISN encodes what the connection needs, and
 * nothing is kept. A real client's ACK echoes it (SEG.ACK - 1); if that
 * number checks out, the connection is made as if the SYN had been queued.
 * Following §3.6, the 32 bits are
 *
 *   | t mod 32 (5) | MSS index (3) | H(4-tuple, client ISN, t) (24) |
 *
 * t counts 64-second periods of the stack's clock; H is SipHash-2-4 keyed
 * with cfg.isn_key (isn.c), so nobody without the key can make a cookie. A
 * cookie is good for the period it was made in and the next one (64 to 128
 * seconds); an older one is stale. Only the MSS survives the trip, from a
 * table of 8 common values rounded down: window scale, SACK-permitted and
 * timestamps are not offered in a cookie SYN,ACK, so the connection runs
 * without them (RFC 7323 §2.2). (Linux also keeps window scale and
 * SACK-permitted in the timestamp when timestamps are on; this engine does
 * not agree to timestamps yet.)
 */
#include <string.h>

#include "tcp_internal.h"

#define COOKIE_PERIOD_US (64ull * 1000000)
#define COOKIE_MAX_AGE   1 /* periods: the current one and the one before */

static const uint16_t cookie_mss[8] = {216, 536, 1024, 1220, 1300, 1400, 1440, 1460};

static uint32_t cookie_hash(const struct stack *s, const struct tcp_tuple *t, uint32_t peer_isn,
                            uint64_t period)
{
    uint8_t m[1 + 4 + 4 + 2 + 2 + 4 + 8];
    m[0] = 'C'; /* not the message tcp_isn() hashes */
    memcpy(m + 1, &t->laddr, 4);
    memcpy(m + 5, &t->raddr, 4);
    memcpy(m + 9, &t->lport, 2);
    memcpy(m + 11, &t->rport, 2);
    memcpy(m + 13, &peer_isn, 4);
    memcpy(m + 17, &period, 8);
    return (uint32_t)tcp_siphash24(s->cfg.isn_key, m, sizeof m) & 0xffffff;
}

uint32_t tcp_cookie_make(const struct stack *s, const struct tcp_tuple *t, uint32_t peer_isn,
                         uint16_t peer_mss, uint16_t *mss_used)
{
    uint32_t idx = 0;
    while (idx + 1 < 8 && cookie_mss[idx + 1] <= peer_mss)
        idx++;
    *mss_used = cookie_mss[idx];
    uint64_t period = s->now / COOKIE_PERIOD_US;
    return (uint32_t)(period & 31) << 27 | idx << 24 | cookie_hash(s, t, peer_isn, period);
}

int tcp_cookie_check(const struct stack *s, const struct tcp_tuple *t, uint32_t peer_isn,
                     uint32_t cookie, uint16_t *mss)
{
    uint64_t now = s->now / COOKIE_PERIOD_US;
    uint32_t age = (uint32_t)(now - (cookie >> 27)) & 31;
    if (age > COOKIE_MAX_AGE || age > now)
        return -1; /* stale (or from before the clock started) */
    if (cookie_hash(s, t, peer_isn, now - age) != (cookie & 0xffffff))
        return -1; /* not one of ours */
    *mss = cookie_mss[(cookie >> 24) & 7];
    return 0;
}

int tcp_syncookies_parse(const char *word)
{
    if (!word)
        return -1;
    if (strcmp(word, "never") == 0)
        return TCP_SYNCOOKIES_NEVER;
    if (strcmp(word, "auto") == 0)
        return TCP_SYNCOOKIES_AUTO;
    if (strcmp(word, "always") == 0)
        return TCP_SYNCOOKIES_ALWAYS;
    return -1;
}

const char *tcp_syncookies_name(enum tcp_syncookies mode)
{
    switch (mode) {
    case TCP_SYNCOOKIES_NEVER:
        return "never";
    case TCP_SYNCOOKIES_ALWAYS:
        return "always";
    default:
        return "auto";
    }
}
