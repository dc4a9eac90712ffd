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
 * seconds); an older one is stale. The MSS survives the trip in the ISN,
 * from a table of 8 common values rounded down. When the SYN carried
 * timestamps (and they are on here), the cookie SYN,ACK carries them too,
 * and, as Linux does, the low 6 bits of its TSval hold what the ISN has no
 * room for:
 *
 *   TSval = | our clock, rounded down to 64 ms (26) | ECN (1) | SACK (1) | wscale (4) |
 *
 * wscale 15 meaning "no window scale"; the ECN bit is never set (no ECN
 * here). The ACK's TSecr echoes it back (tcp_cookie_ts_decode). Without
 * timestamps only the MSS survives: window scale and SACK-permitted are not
 * offered, and the connection runs without them (RFC 7323 §2.2).
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

#define COOKIE_TS_BITS  6
#define COOKIE_TS_MASK  ((1u << COOKIE_TS_BITS) - 1)
#define COOKIE_TS_NO_WS 0xfu
#define COOKIE_TS_SACK  0x10u
#define COOKIE_TS_ECN   0x20u

uint32_t tcp_cookie_ts_encode(uint32_t ts_now, const struct tcp_cookie_opts *o)
{
    uint32_t bits = o->ws_ok ? (o->wscale > 14 ? 14u : o->wscale) : COOKIE_TS_NO_WS;
    if (o->sack_ok)
        bits |= COOKIE_TS_SACK;
    uint32_t ts = (ts_now & ~COOKIE_TS_MASK) | bits;
    if (seq_gt(ts, ts_now))
        ts -= COOKIE_TS_MASK + 1; /* never ahead of the clock */
    return ts;
}

int tcp_cookie_ts_decode(uint32_t ts_ecr, uint32_t ts_now, struct tcp_cookie_opts *o)
{
    /* An echo of a TSval we could have sent: not from the future, not
     * older than a cookie lives (two periods). */
    uint32_t max_age_ms = (uint32_t)((COOKIE_MAX_AGE + 1) * (COOKIE_PERIOD_US / 1000));
    if (seq_gt(ts_ecr, ts_now) || ts_now - ts_ecr > max_age_ms + COOKIE_TS_MASK)
        return -1;
    uint32_t bits = ts_ecr & COOKIE_TS_MASK;
    if (bits & COOKIE_TS_ECN)
        return -1; /* we never set it */
    uint32_t ws = bits & 0xf;
    if (ws != COOKIE_TS_NO_WS && ws > 14)
        return -1;
    o->ws_ok = ws != COOKIE_TS_NO_WS;
    o->wscale = o->ws_ok ? (uint8_t)ws : 0;
    o->sack_ok = (bits & COOKIE_TS_SACK) != 0;
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
