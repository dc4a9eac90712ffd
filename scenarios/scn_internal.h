/*
 * scn_internal.h — the parsed form of a .tcps scenario, shared by the parser
 * (scn_parse*.c) and the runner (scn_run*.c, the hosts and networks). Not a
 * public header: the rest of tcplab sees only scenario.h.
 *
 * The language itself is documented in docs/scenarios.md; the names here
 * follow it (a "step" is one executed statement, a "say" is narration).
 */
#ifndef TCPLAB_SCN_INTERNAL_H
#define TCPLAB_SCN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "tcp.h"

#define SCN_MAX_HOSTS          8
#define SCN_MAX_NAME           32
#define SCN_MAX_SOCKNAMES      64
#define SCN_MAX_FILE           (1u << 20) /* a scenario larger than 1 MiB is refused */
#define SCN_MAX_STMTS          4096
#define SCN_DEFAULT_TIMEOUT_US (30ull * 1000000)
#define SCN_NO_VALUE           INT64_MIN

enum scn_role { SCN_ROLE_STACK, SCN_ROLE_PEER };

struct scn_hostdef {
    char name[SCN_MAX_NAME];
    enum scn_role role;
    uint32_t addr;           /* on the virtual link */
    bool addr_given;         /* written with @ */
    struct stack_config cfg; /* profile + set applied (name/addr/output filled at run) */
};

/* A socket named with `as NAME`; it belongs to the host whose call made it. */
struct scn_sockname {
    char name[SCN_MAX_NAME];
    int host;
};

/* A call target: a host's current socket (sock -1) or a named socket. */
struct scn_target {
    int host;
    int sock;
};

enum scn_kind {
    SCN_CALL,
    SCN_DROP,
    SCN_LOSS,
    SCN_DELAY,
    SCN_DUP,
    SCN_REORDER,
    SCN_CUT,
    SCN_RESTORE,
    SCN_INJECT,
    SCN_REBOOT,
    SCN_WAIT,
    SCN_WAIT_UNTIL,
    /* expectations come last: the runner tells them apart by kind >= SCN_EXPECT_SEG */
    SCN_EXPECT_SEG,
    SCN_EXPECT_NOTHING,
    SCN_EXPECT_STATE,
    SCN_EXPECT_QUEUE,
    SCN_EXPECT_CALL,
    SCN_EXPECT_DROP
};

/* A numeric comparison written as a field: seq=1, win>0, len!=0. */
enum scn_op { SCN_OP_NONE, SCN_OP_EQ, SCN_OP_NE, SCN_OP_LT, SCN_OP_LE, SCN_OP_GT, SCN_OP_GE };
struct scn_cmp {
    enum scn_op op; /* NONE: not checked */
    int64_t v;
};

/* Which packets a network rule applies to; from/to are host indexes or -1 (both). */
struct scn_netmatch {
    int from, to;
    bool any_flags; /* no FLAGS written */
    uint8_t flags;
    bool data; /* `data`: only segments with payload */
};

/* A tri-state option check: -1 unchecked, 0 no, 1 yes. */
struct scn_segspec {
    int from, to;
    bool any_flags; /* `*` */
    uint8_t flags;
    struct scn_cmp seq, ack, len, win;
    int mss;              /* -1 unchecked, -2 none, else the value */
    int wscale;           /* same */
    int sackok, ts, rtx;  /* -1 unchecked, 0 no, 1 yes */
    int64_t gap_us, t_us; /* -1 unchecked */
    uint8_t *payload;     /* checked if payload_set */
    size_t payload_len;
    bool payload_set;
    bool udp; /* `udp`: a UDP datagram, not a TCP segment */
};

/* `inject` fields: seq/ack relative to the ISN (rel) or to `next` (+delta). */
struct scn_injnum {
    bool from_next; /* next[+/-delta] */
    int64_t v;      /* relative number, or the delta */
};

enum scn_valkind { SCN_VAL_OK, SCN_VAL_INT, SCN_VAL_BYTES, SCN_VAL_ERRNO, SCN_VAL_BLOCKED };

struct scn_stmt {
    enum scn_kind kind;
    int line;
    char *text;            /* the statement as written, trimmed */
    char *say_en, *say_zh; /* narration attached to this step */
    struct scn_ask *asks;  /* quiz questions written for this step (`ask`) */
    size_t nasks;
    char *hint_en, *hint_zh; /* `hint`: shown when a question of this step is missed */
    uint64_t timeout_us;     /* for waiting statements */
    union {
        struct {
            enum tcp_call call;
            struct scn_target tgt;
            int as_sock;   /* -1 or index in sockets[] */
            uint16_t port; /* bind, listen (0 = none written), connect */
            int backlog;   /* listen */
            int dst_host;  /* connect: host index, or -1 when an address is written */
            uint32_t dst_addr;
            uint8_t *data;        /* send */
            size_t len;           /* send length / recv max */
            int how;              /* shutdown */
            enum tcp_sockopt opt; /* setsockopt */
            long value;           /* setsockopt; poll: the events asked for */
            bool udp;             /* socket udp */
        } call;
        struct {
            struct scn_netmatch m;
            unsigned count;
            double p;        /* loss */
            uint64_t dur_us; /* delay, reorder hold */
        } net;
        struct {
            int from, to;
            uint8_t flags;
            struct scn_injnum seq, ack;
            bool seq_set, ack_set;
            struct scn_injnum tsval; /* RFC 7323 TSopt: next = A's last TSval */
            bool tsval_set;
            int64_t win; /* -1 = default */
            uint8_t *data;
            size_t len;
            bool badsum;
        } inject;
        int reboot_host;
        struct {
            uint64_t dur_us;       /* wait, expect nothing */
            struct scn_target tgt; /* wait until / expect state */
            enum tcp_state state;
            int from, to; /* expect nothing: -1 = anyone */
        } time;
        struct scn_segspec seg;
        struct {
            struct scn_target tgt;
            int64_t syn, accept; /* SCN_NO_VALUE = unchecked */
        } queue;
        struct {
            struct scn_target tgt;
            enum tcp_call call;
            enum scn_valkind vk;
            int64_t v;      /* INT, ERRNO (negative errno) */
            uint8_t *bytes; /* BYTES */
            size_t nbytes;
        } ecall;
        struct {
            int host;
            int reason;
        } edrop;
    } u;
};

struct scn {
    char file[256]; /* as given, for messages */
    char name[128]; /* file name without directory and .tcps */
    char *title_en, *title_zh;
    size_t nhosts;
    struct scn_hostdef hosts[SCN_MAX_HOSTS];
    size_t nsocks;
    struct scn_sockname socks[SCN_MAX_SOCKNAMES];
    uint64_t seed;
    uint64_t timeout_us;
    uint64_t latency_us;
    bool tun;     /* `tun yes` */
    int tun_line; /* where it is written */
    size_t nstmts;
    struct scn_stmt *stmts;
    char *intro_en, *intro_zh; /* narration before the first step (goes to step 1) */
};

/* Render a segment spec back as text, for failure reports. */
void scn_segspec_str(const struct scn *s, const struct scn_segspec *spec, char *buf, size_t cap);

/* Name of an errno value (ECONNREFUSED ...) and back; NULL / 0 if unknown. */
const char *scn_errno_name(int err);
int scn_errno_from_name(const char *name);

/* Does the virtual link support this scenario with --tun? (reason on false) */
bool scn_tun_check(const struct scn *s, char *why, size_t cap);

/* The quiz statements' data (scn_parse_ask.c): free a statement's, copy it
 * onto the timeline's step (0, or -1 when memory ran out: partly copied,
 * still safe to free), free a step's. */
void scn_stmt_free_asks(struct scn_stmt *st);
int scn_ask_copy_to_step(const struct scn_stmt *st, struct scn_step *step);
void scn_ask_free_step(struct scn_step *step);

#endif
