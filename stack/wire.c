/*
 * wire.c — IPv4, TCP and ICMP echo headers on the wire (RFC 791, RFC 9293
 * §3.1-3.2, RFC 7323, RFC 2018, RFC 792), and the Internet checksum
 * (RFC 1071).
 *
 * Parsing follows one pattern everywhere: check that the bytes we are about
 * to read are there, then read them, then check what they say. Each check
 * that fails has its own error code, so a dropped packet always carries a
 * precise reason (docs/architecture.md: every dropped packet with its reason). The
 * parsers copy header fields into plain structs in host byte order and keep
 * pointers into the caller's buffer for the payload; nothing is allocated.
 *
 * Building goes the other way: a struct wire_tcp plus addresses and payload
 * become a complete IPv4 packet with both checksums filled in.
 */
#include <stdio.h>
#include <string.h>
#if defined(__x86_64__) && !defined(WIRE_PORTABLE_SUM)
#include <x86intrin.h> /* _addcarry_u64 */
/* GCC and clang: target attributes, CPU detection. -DWIRE_NO_VECTOR_SUM
 * leaves the AVX2 path out (to measure or test without it). */
#if defined(__GNUC__) && !defined(WIRE_NO_VECTOR_SUM)
#include <immintrin.h>
#define WIRE_SUM_AVX2 1
#endif
#endif

#include "wire.h"

/* ---- byte order helpers ------------------------------------------------- */

/* Each is one load or store and a byte swap: memcpy because the bytes may
 * sit at any alignment, and GCC and clang compile a fixed-size memcpy to a
 * single move. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define WIRE_BE16(v) __builtin_bswap16(v)
#define WIRE_BE32(v) __builtin_bswap32(v)
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WIRE_BE16(v) (v)
#define WIRE_BE32(v) (v)
#endif

#ifdef WIRE_BE16
static inline uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return WIRE_BE16(v);
}

static inline uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return WIRE_BE32(v);
}

static inline void put16(uint8_t *p, uint16_t v)
{
    v = WIRE_BE16(v);
    memcpy(p, &v, 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
    v = WIRE_BE32(v);
    memcpy(p, &v, 4);
}
#else /* any other byte order: byte by byte */
static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
#endif

/* ---- error names -------------------------------------------------------- */

const char *wire_err_name(int err)
{
    static const char *const names[WIRE_ERR_COUNT_] = {
        [0] = "ok",
        [-WIRE_ERR_TRUNCATED_IP] = "truncated_ip",
        [-WIRE_ERR_BAD_VERSION] = "bad_version",
        [-WIRE_ERR_BAD_IHL] = "bad_ihl",
        [-WIRE_ERR_BAD_TOTAL_LENGTH] = "bad_total_length",
        [-WIRE_ERR_BAD_IP_CHECKSUM] = "bad_ip_checksum",
        [-WIRE_ERR_FRAGMENT] = "fragment",
        [-WIRE_ERR_NOT_TCP] = "not_tcp",
        [-WIRE_ERR_TRUNCATED_TCP] = "truncated_tcp",
        [-WIRE_ERR_BAD_DATA_OFFSET] = "bad_data_offset",
        [-WIRE_ERR_BAD_OPTION_LENGTH] = "bad_option_length",
        [-WIRE_ERR_BAD_CHECKSUM] = "bad_checksum",
        [-WIRE_ERR_TRUNCATED_ICMP] = "truncated_icmp",
        [-WIRE_ERR_BAD_ICMP_CHECKSUM] = "bad_icmp_checksum",
        [-WIRE_ERR_NOT_ECHO] = "not_echo",
        [-WIRE_ERR_TRUNCATED_UDP] = "truncated_udp",
        [-WIRE_ERR_BAD_UDP_CHECKSUM] = "bad_udp_checksum",
    };
    if (err <= 0 && err > -WIRE_ERR_COUNT_)
        return names[-err];
    return "unknown";
}

/* ---- the Internet checksum (RFC 1071) ------------------------------------ */

/*
 * The checksum is the one's-complement sum of the data taken as big-endian
 * 16-bit words. RFC 1071 §2 lists the properties that make it fast:
 *   (B) it does not depend on byte order: summing native-order words and
 *       swapping the bytes of the folded result gives the same answer;
 *   (C) words can be summed in parallel: adding 64-bit chunks with their
 *       carries fed back in (end-around carry) and folding down to 16 bits
 *       at the end equals summing 16-bit words one by one.
 * So the main loop reads 8 bytes at a time (memcpy: the buffer may be at
 * any alignment) and the fold happens once, at the end.
 */

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* compiles to one unaligned load */
    return v;
}

/* s + v with end-around carry: a carry out of bit 63 comes back in at bit 0. */
static inline uint64_t add_carry(uint64_t s, uint64_t v)
{
    s += v;
    return s + (s < v);
}

/* The main loop, 64 bytes per round. On x86-64 it is a chain of ADC
 * instructions, one per 8 bytes, the carry handed from one to the next in
 * the flags and from round to round in `c`. Build with -DWIRE_PORTABLE_SUM
 * to test the portable path on x86-64. (Each step writes a fresh
 * variable: with one reused variable GCC keeps the sum in memory.) */
static uint64_t sum_64_byte_blocks(const uint8_t *p, size_t nblocks)
{
    uint64_t s = 0;
#if defined(__x86_64__) && !defined(WIRE_PORTABLE_SUM)
    unsigned long long r0, r1, r2, r3, r4, r5, r6, r7;
    unsigned char c = 0;
    for (; nblocks; nblocks--, p += 64) {
        c = _addcarry_u64(c, s, load64(p), &r0);
        c = _addcarry_u64(c, r0, load64(p + 8), &r1);
        c = _addcarry_u64(c, r1, load64(p + 16), &r2);
        c = _addcarry_u64(c, r2, load64(p + 24), &r3);
        c = _addcarry_u64(c, r3, load64(p + 32), &r4);
        c = _addcarry_u64(c, r4, load64(p + 40), &r5);
        c = _addcarry_u64(c, r5, load64(p + 48), &r6);
        c = _addcarry_u64(c, r6, load64(p + 56), &r7);
        s = r7;
    }
    return add_carry(s, c);
#else
    for (; nblocks; nblocks--, p += 64)
        for (int i = 0; i < 64; i += 8)
            s = add_carry(s, load64(p + i));
    return s;
#endif
}

static uint64_t sum_native(const uint8_t *p, size_t len)
{
    uint64_t s = sum_64_byte_blocks(p, len / 64);
    p += len & ~(size_t)63;
    len &= 63;
    for (; len >= 8; p += 8, len -= 8)
        s = add_carry(s, load64(p));
    /* The last 0..7 bytes as 4-, 2- and 1-byte loads (a variable-length
     * memcpy would be a library call). Each piece starts at an even offset,
     * so its bytes keep their place in the 16-bit words; a native 16-bit
     * container puts a lone last byte where "pad with a zero byte" says. */
    if (len & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        s = add_carry(s, v);
        p += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        s = add_carry(s, v);
        p += 2;
    }
    if (len & 1) {
        uint16_t v = 0;
        memcpy(&v, p, 1);
        s = add_carry(s, v);
    }
    return s;
}

/* Fold a 64-bit end-around-carry sum to 16 bits (still in native order). */
static inline uint16_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

static inline uint16_t native_to_be_value(uint16_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint16_t)(v >> 8 | v << 8);
#else
    return v;
#endif
}

#ifdef WIRE_SUM_AVX2
/*
 * With AVX2, 32 bytes per step in three instructions. Each 16-bit word w is
 * biased to the signed value w - 32768 (xor 0x8000), then VPMADDWD with a
 * vector of ones adds neighbouring pairs into eight 32-bit lanes, which are
 * summed as plain signed integers: no carries to chase. A pair adds at most
 * 65536 in size to a lane, so 2048 steps (64 KB) cannot overflow one; after
 * each such chunk the lanes are added up and the bias given back
 * (32768 per word), which leaves the exact integer sum of the words — and
 * by RFC 1071 (C) any exact sum of the words, folded, is the checksum.
 * Returns that sum of the first 32 * nsteps bytes.
 */
__attribute__((target("avx2"))) static uint64_t sum_32_byte_steps_avx2(const uint8_t *p,
                                                                       size_t nsteps)
{
    const __m256i bias = _mm256_set1_epi16((short)0x8000);
    const __m256i ones = _mm256_set1_epi16(1);
    uint64_t s = 0;
    while (nsteps) {
        size_t n = nsteps < 2048 ? nsteps : 2048;
        nsteps -= n;
        __m256i acc = _mm256_setzero_si256();
#define WIRE_SUM_STEP(off)                                                                         \
    _mm256_madd_epi16(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + (off))), bias),    \
                      ones)
        for (size_t i = 0; i + 8 <= n; i += 8, p += 256) {
            __m256i a = _mm256_add_epi32(WIRE_SUM_STEP(0), WIRE_SUM_STEP(32));
            __m256i b = _mm256_add_epi32(WIRE_SUM_STEP(64), WIRE_SUM_STEP(96));
            __m256i c = _mm256_add_epi32(WIRE_SUM_STEP(128), WIRE_SUM_STEP(160));
            __m256i d = _mm256_add_epi32(WIRE_SUM_STEP(192), WIRE_SUM_STEP(224));
            acc = _mm256_add_epi32(
                acc, _mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, d)));
        }
        if (n & 4) {
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(WIRE_SUM_STEP(0), WIRE_SUM_STEP(32)));
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(WIRE_SUM_STEP(64), WIRE_SUM_STEP(96)));
            p += 128;
        }
        if (n & 2) {
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(WIRE_SUM_STEP(0), WIRE_SUM_STEP(32)));
            p += 64;
        }
        if (n & 1) {
            acc = _mm256_add_epi32(acc, WIRE_SUM_STEP(0));
            p += 32;
        }
#undef WIRE_SUM_STEP
        __m256i wide = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc)),
                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc, 1)));
        __m128i half =
            _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
        int64_t lanes = _mm_cvtsi128_si64(half) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(half, half));
        s = add_carry(s, (uint64_t)(lanes + (int64_t)n * 16 * 32768));
    }
    return s;
}

/* Chosen once, before main(): does this CPU have AVX2? (A property of the
 * machine, not state: nothing changes it afterwards.) */
static bool wire_have_avx2;

__attribute__((constructor)) static void wire_sum_detect_cpu(void)
{
    __builtin_cpu_init();
    wire_have_avx2 = __builtin_cpu_supports("avx2");
}
#endif

/* Headers (IPv4 20..60 bytes, a bare ACK's TCP header) and other short
 * buffers: at most 16 32-bit words added into 64 bits cannot overflow, so
 * there are no carries to feed back. Inline, so that a constant length (the
 * 20-byte IPv4 header we build) becomes five loads and adds. The pieces start
 * at even offsets, as in sum_native(). */
#define WIRE_SUM_SHORT 64

__attribute__((always_inline)) static inline uint64_t sum_short(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    /* Two words a round: half the loop's own instructions. */
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t v[2];
        memcpy(v, p, 8);
        s += (uint64_t)v[0] + v[1];
    }
    if (len & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        s += v;
        p += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        s += v;
        p += 2;
    }
    if (len & 1) {
        uint16_t v = 0;
        memcpy(&v, p, 1);
        s += v;
    }
    return s;
}

/* Below this many bytes the vector set-up costs more than it saves. */
#define WIRE_SUM_VECTOR_MIN 128

__attribute__((always_inline)) static inline uint32_t wire_sum_result(uint64_t s, uint32_t initial)
{
    uint32_t data = native_to_be_value(fold64(s));
    uint32_t init = (initial & 0xffffu) + (initial >> 16);
    return data + init;
}

__attribute__((always_inline)) static inline uint32_t sum_any(const uint8_t *buf, size_t len,
                                                              uint32_t initial)
{
    if (len <= WIRE_SUM_SHORT)
        return wire_sum_result(sum_short(buf, len), initial);
#ifdef WIRE_SUM_AVX2
    if (wire_have_avx2 && len >= WIRE_SUM_VECTOR_MIN) {
        uint64_t s = sum_32_byte_steps_avx2(buf, len / 32);
        size_t done = len & ~(size_t)31;
        return wire_sum_result(add_carry(s, sum_short(buf + done, len - done)), initial);
    }
#endif
    return wire_sum_result(sum_native(buf, len), initial);
}

/* Partial sum: at most 0xffff plus the folded `initial`, so results can be
 * chained (as long as every chunk but the last has an even length). */
uint32_t wire_sum(const uint8_t *buf, size_t len, uint32_t initial)
{
    return sum_any(buf, len, initial);
}

uint32_t wire_sum_scalar(const uint8_t *buf, size_t len, uint32_t initial)
{
    return wire_sum_result(sum_native(buf, len), initial);
}

#ifdef WIRE_SUM_AVX2
/* 256 bytes a round, eight loads and eight stores; then 128, 64, 32; the last
 * partial 32 are the final 32 bytes again (n >= 32, no overlap). */
__attribute__((target("avx2"))) static void copy_avx2(uint8_t *dst, const uint8_t *src, size_t n)
{
#define WIRE_COPY32(off)                                                                           \
    _mm256_storeu_si256((__m256i *)(dst + (off)),                                                  \
                        _mm256_loadu_si256((const __m256i *)(src + (off))))
    const uint8_t *end = src + n;
    for (; end - src >= 256; src += 256, dst += 256) {
        __m256i v[8];
        for (int k = 0; k < 8; k++)
            v[k] = _mm256_loadu_si256((const __m256i *)(src + 32 * k));
        for (int k = 0; k < 8; k++)
            _mm256_storeu_si256((__m256i *)(dst + 32 * k), v[k]);
    }
    size_t rest = (size_t)(end - src);
    if (rest & 128) {
        WIRE_COPY32(0);
        WIRE_COPY32(32);
        WIRE_COPY32(64);
        WIRE_COPY32(96);
        src += 128;
        dst += 128;
    }
    if (rest & 64) {
        WIRE_COPY32(0);
        WIRE_COPY32(32);
        src += 64;
        dst += 64;
    }
    if (rest & 32) {
        WIRE_COPY32(0);
        src += 32;
        dst += 32;
    }
    if (rest & 31)
        WIRE_COPY32((ptrdiff_t)(rest & 31) - 32);
#undef WIRE_COPY32
}
#endif

void wire_copy(void *dst, const void *src, size_t n)
{
#ifdef WIRE_SUM_AVX2
    if (wire_have_avx2 && n >= WIRE_SUM_VECTOR_MIN) {
        copy_avx2(dst, src, n);
        return;
    }
#endif
    memcpy(dst, src, n);
}

bool wire_sum_is_vectorised(void)
{
#ifdef WIRE_SUM_AVX2
    return wire_have_avx2;
#else
    return false;
#endif
}

/* The TCP pseudo-header (RFC 9293 §3.1): source, destination, zero,
 * protocol, TCP length. Any value its 16-bit words' sum is congruent to
 * modulo 0xffff does (2^16 = 1 there, as in fold_small): the addresses are
 * added as 32-bit values and the carry out of 32 bits is added back. */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    uint64_t s = (uint64_t)src + dst + proto + (uint32_t)len;
    s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s + (uint32_t)(s >> 32);
}

/* ---- IPv4 (RFC 791 §3.1) -------------------------------------------------- */

#define IP_FLAG_DF          0x4000
#define IP_FLAG_MF          0x2000
#define IP_FRAG_OFFSET_MASK 0x1fff

int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out)
{
    if (len < WIRE_IPV4_HDR_LEN)
        return WIRE_ERR_TRUNCATED_IP;
    if (buf[0] >> 4 != 4)
        return WIRE_ERR_BAD_VERSION;
    size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
    if (ihl < WIRE_IPV4_HDR_LEN || ihl > len)
        return WIRE_ERR_BAD_IHL;
    size_t total = get16(buf + 2);
    /* Bytes after total_len are link-layer padding and are ignored. */
    if (total < ihl || total > len)
        return WIRE_ERR_BAD_TOTAL_LENGTH;
    /* The usual 20-byte header as a constant length: unrolled (sum_short). */
    uint32_t hsum =
        ihl == WIRE_IPV4_HDR_LEN ? sum_any(buf, WIRE_IPV4_HDR_LEN, 0) : sum_any(buf, ihl, 0);
    if (wire_sum_fold(hsum) != 0)
        return WIRE_ERR_BAD_IP_CHECKSUM;
    uint16_t frag = get16(buf + 6);
    /* No reassembly: the stack never sends fragments (DF) and drops them. */
    if (frag & (IP_FLAG_MF | IP_FRAG_OFFSET_MASK))
        return WIRE_ERR_FRAGMENT;

    out->ihl = (uint8_t)ihl;
    out->tos = buf[1];
    out->total_len = (uint16_t)total;
    out->id = get16(buf + 4);
    out->frag = frag;
    out->ttl = buf[8];
    out->proto = buf[9];
    out->checksum = get16(buf + 10);
    out->src = get32(buf + 12);
    out->dst = get32(buf + 16);
    out->payload = buf + ihl;
    out->payload_len = total - ihl;
    return WIRE_OK;
}

/* ---- TCP (RFC 9293 §3.1, §3.2) --------------------------------------------- */

enum tcp_opt_kind {
    OPT_EOL = 0,       /* end of option list */
    OPT_NOP = 1,       /* no-operation (padding) */
    OPT_MSS = 2,       /* maximum segment size, length 4 (RFC 9293 §3.7.1) */
    OPT_WSCALE = 3,    /* window scale, length 3 (RFC 7323 §2) */
    OPT_SACK_PERM = 4, /* SACK permitted, length 2 (RFC 2018 §2) */
    OPT_SACK = 5,      /* SACK blocks, length 2 + 8n, n >= 1 (RFC 2018 §3) */
    OPT_TS = 8,        /* timestamps, length 10 (RFC 7323 §3) */
};

/* RFC 2018 §3: a SACK option is kind 5, length 2 + 8n, each block two
 * 32-bit edges. A length that is not 2 + 8n with n >= 1 is malformed. A second
 * kind-5 option in one header is odd but fits (4 + 8n <= 40 still means at most
 * 4 blocks in all); its blocks are appended. More than 4 cannot fit in 40 bytes,
 * so the guard below is only a guard. */
static int parse_sack_blocks(const uint8_t *v, size_t olen, struct wire_tcp_opts *o)
{
    if (olen < 10 || (olen - 2) % 8 != 0)
        return WIRE_ERR_BAD_OPTION_LENGTH;
    for (size_t k = 0; k < (olen - 2) / 8; k++) {
        if (o->n_sack == WIRE_SACK_MAX_BLOCKS)
            return WIRE_ERR_BAD_OPTION_LENGTH;
        o->sack[o->n_sack].left = get32(v + 8 * k);
        o->sack[o->n_sack].right = get32(v + 8 * k + 4);
        o->n_sack++;
    }
    return WIRE_OK;
}

/* Walk the option list. Every option other than EOL and NOP has a length
 * byte that counts the kind and length bytes too, so a length below 2 would
 * never advance and one past the end would read beyond the header: both are
 * rejected. Options we know must also have their defined length; any other
 * kind is skipped by its length (RFC 9293 §3.2: "must be prepared to handle
 * an illegal option length ... and unknown options"). */
static int parse_options(const uint8_t *p, size_t len, struct wire_tcp_opts *o)
{
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == OPT_EOL)
            break;
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return WIRE_ERR_BAD_OPTION_LENGTH;
        size_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return WIRE_ERR_BAD_OPTION_LENGTH;
        const uint8_t *v = p + i + 2;
        switch (kind) {
        case OPT_MSS:
            if (olen != 4)
                return WIRE_ERR_BAD_OPTION_LENGTH;
            o->has_mss = true;
            o->mss = get16(v);
            break;
        case OPT_WSCALE:
            if (olen != 3)
                return WIRE_ERR_BAD_OPTION_LENGTH;
            o->has_wscale = true;
            o->wscale = v[0];
            break;
        case OPT_SACK_PERM:
            if (olen != 2)
                return WIRE_ERR_BAD_OPTION_LENGTH;
            o->sack_permitted = true;
            break;
        case OPT_SACK: {
            int err = parse_sack_blocks(v, olen, o);
            if (err)
                return err;
            break;
        }
        case OPT_TS:
            if (olen != 10)
                return WIRE_ERR_BAD_OPTION_LENGTH;
            o->has_ts = true;
            o->ts_val = get32(v);
            o->ts_ecr = get32(v + 4);
            break;
        default:
            if (o->n_unknown < UINT8_MAX)
                o->n_unknown++;
            break;
        }
        i += olen;
    }
    return WIRE_OK;
}

int wire_tcp_parse(const struct wire_ipv4 *ip, struct wire_tcp *out)
{
    return wire_tcp_parse_ex(ip, out, true);
}

int wire_tcp_parse_ex(const struct wire_ipv4 *ip, struct wire_tcp *out, bool verify_checksum)
{
    if (ip->proto != WIRE_PROTO_TCP)
        return WIRE_ERR_NOT_TCP;
    const uint8_t *p = ip->payload;
    size_t len = ip->payload_len;
    if (len < WIRE_TCP_HDR_LEN)
        return WIRE_ERR_TRUNCATED_TCP;
    size_t off = (size_t)(p[12] >> 4) * 4;
    if (off < WIRE_TCP_HDR_LEN || off > len)
        return WIRE_ERR_BAD_DATA_OFFSET;
    /* Checksum before options: a corrupted packet should be reported as
     * corrupted, not as whatever its damaged option bytes happen to say. */
    if (verify_checksum &&
        wire_sum_fold(sum_any(p, len, pseudo_sum(ip->src, ip->dst, WIRE_PROTO_TCP, len))) != 0)
        return WIRE_ERR_BAD_CHECKSUM;

    memset(&out->opts, 0, sizeof out->opts);
    int err = parse_options(p + WIRE_TCP_HDR_LEN, off - WIRE_TCP_HDR_LEN, &out->opts);
    if (err)
        return err;
    out->sport = get16(p);
    out->dport = get16(p + 2);
    out->seq = get32(p + 4);
    out->ack = get32(p + 8);
    out->data_off = (uint8_t)off;
    out->flags = p[13];
    out->win = get16(p + 14);
    out->checksum = get16(p + 16);
    out->urg = get16(p + 18);
    out->payload = p + off;
    out->payload_len = len - off;
    return WIRE_OK;
}

/* NOP, NOP, then kind 5 with as many of o->n_sack blocks as fit in `room`
 * bytes, as Linux aligns them. The blocks that do not fit are the last ones
 * (the oldest: RFC 2018 §4 puts the most recent first); n_sack is cut to
 * what was written. Returns the bytes written. */
static size_t build_sack_blocks(uint8_t *p, size_t room, struct wire_tcp_opts *o)
{
    size_t fit = room >= 4 ? (room - 4) / 8 : 0;
    if (o->n_sack > fit)
        o->n_sack = (uint8_t)fit;
    if (o->n_sack > WIRE_SACK_MAX_BLOCKS)
        o->n_sack = WIRE_SACK_MAX_BLOCKS;
    if (o->n_sack == 0)
        return 0;
    size_t n = 0;
    p[n++] = OPT_NOP;
    p[n++] = OPT_NOP;
    p[n++] = OPT_SACK;
    p[n++] = (uint8_t)(2 + 8 * o->n_sack);
    for (size_t k = 0; k < o->n_sack; k++) {
        put32(p + n, o->sack[k].left);
        put32(p + n + 4, o->sack[k].right);
        n += 8;
    }
    return n;
}

/* Options in the order Linux sends them on a SYN (MSS, SACK-permitted,
 * timestamps, window scale), each aligned the way RFC 7323 Appendix A
 * suggests, so captures look familiar. Returns the length, a multiple of 4. */
/* After the handshake, without SACK blocks: nothing, or NOP, NOP and the
 * timestamps — what build_options writes for these, at once. */
static inline bool options_plain(const struct wire_tcp_opts *o)
{
    return !o->has_mss && !o->sack_permitted && !o->has_wscale && o->n_sack == 0;
}

static size_t build_options(uint8_t *p, struct wire_tcp_opts *o)
{
    if (options_plain(o)) {
        if (!o->has_ts)
            return 0;
        p[0] = OPT_NOP;
        p[1] = OPT_NOP;
        p[2] = OPT_TS;
        p[3] = 10;
        put32(p + 4, o->ts_val);
        put32(p + 8, o->ts_ecr);
        return 12;
    }
    size_t n = 0;
    if (o->has_mss) {
        p[n++] = OPT_MSS;
        p[n++] = 4;
        put16(p + n, o->mss);
        n += 2;
    }
    if (o->sack_permitted && o->has_ts) {
        p[n++] = OPT_SACK_PERM;
        p[n++] = 2;
    } else if (o->sack_permitted) {
        p[n++] = OPT_NOP;
        p[n++] = OPT_NOP;
        p[n++] = OPT_SACK_PERM;
        p[n++] = 2;
    } else if (o->has_ts) {
        p[n++] = OPT_NOP;
        p[n++] = OPT_NOP;
    }
    if (o->has_ts) {
        p[n++] = OPT_TS;
        p[n++] = 10;
        put32(p + n, o->ts_val);
        put32(p + n + 4, o->ts_ecr);
        n += 8;
    }
    if (o->has_wscale) {
        p[n++] = OPT_NOP;
        p[n++] = OPT_WSCALE;
        p[n++] = 3;
        p[n++] = o->wscale;
    }
    n += build_sack_blocks(p + n, WIRE_TCP_MAX_OPT_LEN - n, o);
    while (n % 4)
        p[n++] = OPT_NOP;
    return n;
}

void wire_ipv4_set_tos_ttl(uint8_t *pkt, uint8_t tos, uint8_t ttl)
{
    pkt[1] = tos;
    pkt[8] = ttl;
    put16(pkt + 10, 0);
    put16(pkt + 10, wire_sum_fold(wire_sum(pkt, (size_t)(pkt[0] & 0x0f) * 4, 0)));
}

/* Building a header we know its fields, so its sum needs no second look at
 * the bytes: a 32-bit field is two 16-bit words, hi + lo, and hi + lo is the
 * value itself modulo 0xffff (2^16 = 1 there), so the fields' values, added
 * as 32-bit words and folded, sum to what the bytes would (RFC 1071 (C)).
 * A handful of 32-bit values stays below 2^40: three folds are enough. */
static inline uint16_t fold_small(uint64_t s)
{
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

static void build_ipv4_header(uint8_t *b, size_t total, uint16_t ip_id, uint8_t proto, uint32_t src,
                              uint32_t dst)
{
    uint32_t w0 = 0x45000000u | (uint32_t)total; /* version 4, IHL 5 (never options), TOS 0 */
    uint32_t w1 = (uint32_t)ip_id << 16 | IP_FLAG_DF;
    uint32_t w2 = (uint32_t)(WIRE_DEFAULT_TTL << 8 | proto) << 16; /* checksum 0 for now */
    put32(b, w0);
    put32(b + 4, w1);
    put32(b + 8, w2);
    put32(b + 12, src);
    put32(b + 16, dst);
    put16(b + 10, (uint16_t)~fold_small((uint64_t)w0 + w1 + w2 + src + dst));
}

/* partial: segmentation offload; the checksum field gets only the
 * pseudo-header's sum (folded, not complemented), which is what a device
 * that finishes the checksum of each segment it cuts expects to find. */
static size_t tcp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t ip_id,
                        struct wire_tcp *tcp, const uint8_t *payload, size_t payload_len,
                        bool partial)
{
    uint8_t *t = buf + WIRE_IPV4_HDR_LEN;
    /* Without a payload the options are written in place; with one they
     * wait in opts[] until the payload has moved (it may already be in buf,
     * where the options go). */
    uint8_t opts[WIRE_TCP_MAX_OPT_LEN];
    bool in_place =
        payload_len == 0 && cap >= WIRE_IPV4_HDR_LEN + WIRE_TCP_HDR_LEN + WIRE_TCP_MAX_OPT_LEN;
    size_t optlen = build_options(in_place ? t + WIRE_TCP_HDR_LEN : opts, &tcp->opts);
    size_t off = WIRE_TCP_HDR_LEN + optlen;
    size_t seglen = off + payload_len;
    size_t total = WIRE_IPV4_HDR_LEN + seglen;
    if (total > cap || total > UINT16_MAX)
        return 0;

    /* memmove: the caller may have placed the payload in buf already. */
    if (payload_len)
        memmove(t + off, payload, payload_len);
    uint32_t ports = (uint32_t)tcp->sport << 16 | tcp->dport;
    uint32_t w3 = (uint32_t)((off / 4) << 4) << 24 | (uint32_t)tcp->flags << 16 | tcp->win;
    put32(t, ports);
    put32(t + 4, tcp->seq);
    put32(t + 8, tcp->ack);
    put32(t + 12, w3);
    put32(t + 16, tcp->urg); /* checksum 0 for now, urgent pointer */
    if (!in_place)
        memcpy(t + WIRE_TCP_HDR_LEN, opts, optlen);
    if (partial) {
        tcp->checksum = (uint16_t)~wire_sum_fold(pseudo_sum(src, dst, WIRE_PROTO_TCP, seglen));
    } else {
        /* The pseudo-header and the fixed header by their values (as in
         * build_ipv4_header), and the timestamps too when they are the only
         * option; the other options and the text by their bytes. */
        uint64_t h = (uint64_t)src + dst + (WIRE_PROTO_TCP + seglen) + ports + tcp->seq + tcp->ack +
                     w3 + tcp->urg;
        if (payload_len == 0 && options_plain(&tcp->opts)) {
            if (tcp->opts.has_ts)
                h += (uint64_t)(OPT_NOP << 24 | OPT_NOP << 16 | OPT_TS << 8 | 10) +
                     tcp->opts.ts_val + tcp->opts.ts_ecr;
            tcp->checksum = (uint16_t)~fold_small(h);
        } else {
            tcp->checksum = wire_sum_fold(
                sum_any(t + WIRE_TCP_HDR_LEN, seglen - WIRE_TCP_HDR_LEN, fold_small(h)));
        }
    }
    put16(t + 16, tcp->checksum);
    tcp->data_off = (uint8_t)off;
    tcp->payload = t + off;
    tcp->payload_len = payload_len;

    build_ipv4_header(buf, total, ip_id, WIRE_PROTO_TCP, src, dst);
    return total;
}

size_t wire_tcp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t ip_id,
                      struct wire_tcp *tcp, const uint8_t *payload, size_t payload_len)
{
    return tcp_build(buf, cap, src, dst, ip_id, tcp, payload, payload_len, false);
}

size_t wire_tcp_build_partial(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t ip_id,
                              struct wire_tcp *tcp, const uint8_t *payload, size_t payload_len)
{
    return tcp_build(buf, cap, src, dst, ip_id, tcp, payload, payload_len, true);
}

/* ---- a pure ACK from a template -------------------------------------------- */

/* The words are those of build_ipv4_header() and tcp_build(), summed by
 * value the same way; only the changing ones are left for the fill. */
void wire_ack_template_init(struct wire_ack_template *t, uint32_t src, uint32_t dst, uint16_t sport,
                            uint16_t dport, bool ts, uint8_t tos, uint8_t ttl)
{
    memset(t, 0, sizeof *t);
    size_t optlen = ts ? 12 : 0;
    size_t seglen = WIRE_TCP_HDR_LEN + optlen;
    size_t total = WIRE_IPV4_HDR_LEN + seglen;
    t->len = (uint8_t)total;
    t->ts = ts;
    uint8_t *b = t->pkt;
    uint32_t w0 = 0x45000000u | (uint32_t)tos << 16 | (uint32_t)total;
    uint32_t w1 = IP_FLAG_DF; /* the id goes in the upper half */
    uint32_t w2 = (uint32_t)(ttl << 8 | WIRE_PROTO_TCP) << 16;
    put32(b, w0);
    put32(b + 4, w1);
    put32(b + 8, w2);
    put32(b + 12, src);
    put32(b + 16, dst);
    t->ip_sum = (uint64_t)w0 + w1 + w2 + src + dst;

    uint8_t *p = b + WIRE_IPV4_HDR_LEN;
    uint32_t ports = (uint32_t)sport << 16 | dport;
    uint32_t w3 = (uint32_t)((seglen / 4) << 4) << 24 | (uint32_t)TCP_ACK << 16; /* window 0 */
    put32(p, ports);
    put32(p + 12, w3);
    t->tcp_sum = (uint64_t)src + dst + (WIRE_PROTO_TCP + seglen) + ports + w3;
    if (ts) {
        uint32_t kinds = (uint32_t)(OPT_NOP << 24 | OPT_NOP << 16 | OPT_TS << 8 | 10);
        put32(p + WIRE_TCP_HDR_LEN, kinds);
        t->tcp_sum += kinds;
    }
}

size_t wire_ack_template_fill(uint8_t *buf, const struct wire_ack_template *t, uint16_t ip_id,
                              uint32_t seq, uint32_t ack, uint16_t win, uint32_t ts_val,
                              uint32_t ts_ecr)
{
    memcpy(buf, t->pkt, WIRE_ACK_MAX_LEN); /* a fixed size: a few moves */
    put16(buf + 4, ip_id);
    put16(buf + 10, (uint16_t)~fold_small(t->ip_sum + ((uint32_t)ip_id << 16)));
    uint8_t *p = buf + WIRE_IPV4_HDR_LEN;
    put32(p + 4, seq);
    put32(p + 8, ack);
    put16(p + 14, win);
    uint64_t h = t->tcp_sum + seq + ack + win;
    if (t->ts) {
        put32(p + WIRE_TCP_HDR_LEN + 4, ts_val);
        put32(p + WIRE_TCP_HDR_LEN + 8, ts_ecr);
        h += (uint64_t)ts_val + ts_ecr;
    }
    put16(p + 16, (uint16_t)~fold_small(h));
    return t->len;
}

/* ---- UDP (RFC 768) --------------------------------------------------------- */

int wire_udp_parse(const struct wire_ipv4 *ip, struct wire_udp *out)
{
    if (ip->proto != WIRE_PROTO_UDP)
        return WIRE_ERR_NOT_TCP;
    const uint8_t *p = ip->payload;
    if (ip->payload_len < WIRE_UDP_HDR_LEN)
        return WIRE_ERR_TRUNCATED_UDP;
    uint16_t len = get16(p + 4);
    if (len < WIRE_UDP_HDR_LEN || len > ip->payload_len)
        return WIRE_ERR_TRUNCATED_UDP;
    uint16_t sum = get16(p + 6);
    /* "An all zero transmitted checksum value means that the transmitter
     * generated no checksum" (RFC 768). */
    if (sum != 0 &&
        wire_sum_fold(wire_sum(p, len, pseudo_sum(ip->src, ip->dst, WIRE_PROTO_UDP, len))) != 0)
        return WIRE_ERR_BAD_UDP_CHECKSUM;
    out->sport = get16(p);
    out->dport = get16(p + 2);
    out->len = len;
    out->checksum = sum;
    out->payload = p + WIRE_UDP_HDR_LEN;
    out->payload_len = len - WIRE_UDP_HDR_LEN;
    return WIRE_OK;
}

size_t wire_udp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t ip_id,
                      uint16_t sport, uint16_t dport, const uint8_t *payload, size_t payload_len)
{
    size_t ulen = WIRE_UDP_HDR_LEN + payload_len;
    size_t total = WIRE_IPV4_HDR_LEN + ulen;
    if (total > cap || total > UINT16_MAX)
        return 0;
    uint8_t *u = buf + WIRE_IPV4_HDR_LEN;
    if (payload_len)
        memmove(u + WIRE_UDP_HDR_LEN, payload, payload_len);
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)ulen);
    put16(u + 6, 0);
    uint16_t sum = wire_sum_fold(wire_sum(u, ulen, pseudo_sum(src, dst, WIRE_PROTO_UDP, ulen)));
    put16(u + 6, sum ? sum : 0xFFFF); /* RFC 768: a computed 0 is sent as all ones */
    build_ipv4_header(buf, total, ip_id, WIRE_PROTO_UDP, src, dst);
    return total;
}

/* ---- ICMP echo (RFC 792) -------------------------------------------------- */

#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8
#define ICMP_HDR_LEN      8

int wire_icmp_echo_parse(const struct wire_ipv4 *ip, struct wire_icmp_echo *out)
{
    if (ip->proto != WIRE_PROTO_ICMP)
        return WIRE_ERR_NOT_TCP;
    const uint8_t *p = ip->payload;
    if (ip->payload_len < ICMP_HDR_LEN)
        return WIRE_ERR_TRUNCATED_ICMP;
    if (wire_sum_fold(wire_sum(p, ip->payload_len, 0)) != 0)
        return WIRE_ERR_BAD_ICMP_CHECKSUM;
    if (p[0] != ICMP_ECHO_REQUEST || p[1] != 0)
        return WIRE_ERR_NOT_ECHO;
    out->type = p[0];
    out->id = get16(p + 4);
    out->seqno = get16(p + 6);
    out->data = p + ICMP_HDR_LEN;
    out->data_len = ip->payload_len - ICMP_HDR_LEN;
    return WIRE_OK;
}

size_t wire_icmp_echo_reply_build(uint8_t *buf, size_t cap, const struct wire_ipv4 *req_ip,
                                  const struct wire_icmp_echo *req, uint16_t ip_id)
{
    size_t total = WIRE_IPV4_HDR_LEN + ICMP_HDR_LEN + req->data_len;
    if (total > cap || total > UINT16_MAX)
        return 0;
    uint8_t *p = buf + WIRE_IPV4_HDR_LEN;
    if (req->data_len)
        memmove(p + ICMP_HDR_LEN, req->data, req->data_len);
    p[0] = ICMP_ECHO_REPLY;
    p[1] = 0;
    put16(p + 2, 0);
    put16(p + 4, req->id);
    put16(p + 6, req->seqno);
    put16(p + 2, wire_sum_fold(wire_sum(p, ICMP_HDR_LEN + req->data_len, 0)));
    build_ipv4_header(buf, total, ip_id, WIRE_PROTO_ICMP, req_ip->dst, req_ip->src);
    return total;
}

/* ---- flags and addresses as people write them ---------------------------- */

/* tcpdump's letters, in tcpdump's order; ACK is written last, as ".". */
static const struct {
    uint8_t bit;
    char letter;
} flag_letters[] = {
    {TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'},
    {TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'}, {TCP_ACK, '.'},
};

char *wire_flags_str(uint8_t flags, char out[10])
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof flag_letters / sizeof flag_letters[0]; i++)
        if (flags & flag_letters[i].bit)
            out[n++] = flag_letters[i].letter;
    if (n == 0)
        memcpy(out, "none", 5);
    else
        out[n] = '\0';
    return out;
}

int wire_flags_parse(const char *s)
{
    if (strcmp(s, "none") == 0)
        return 0;
    if (*s == '\0')
        return -1;
    int flags = 0;
    for (; *s; s++) {
        size_t i = 0;
        while (i < sizeof flag_letters / sizeof flag_letters[0] && flag_letters[i].letter != *s)
            i++;
        if (i == sizeof flag_letters / sizeof flag_letters[0])
            return -1;
        flags |= flag_letters[i].bit;
    }
    return flags;
}

char *wire_addr_str(uint32_t addr, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
             addr & 0xff);
    return out;
}

/* Strict dotted quad: four decimal numbers 0..255, no signs, no spaces, no
 * leading zeros (which some parsers read as octal). */
int wire_addr_parse(const char *s, uint32_t *out)
{
    uint32_t addr = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0 && *s++ != '.')
            return -1;
        if (*s < '0' || *s > '9')
            return -1;
        unsigned v = 0;
        int digits = 0;
        const char *start = s;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3)
                return -1;
        }
        if (v > 255 || (digits > 1 && *start == '0'))
            return -1;
        addr = addr << 8 | v;
    }
    if (*s != '\0')
        return -1;
    *out = addr;
    return 0;
}
