/*
 * pkt_internal.h — the parsed form of a .pkt script, shared by the parser
 * (pkt_parse.c) and the runner (pkt_run.c, pkt_sys.c). Not a public header.
 */
#ifndef TCPLAB_PKT_INTERNAL_H
#define TCPLAB_PKT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* When an event happens (packetdrill's event_time). */
enum pkt_time_kind {
    PKT_T_ABS,   /* 0.100        */
    PKT_T_REL,   /* +0.100       : after the previous event */
    PKT_T_ANY,   /* *            : whenever it happens */
    PKT_T_RANGE, /* 0.1~0.2, +0.1~+0.2 : any time in the range */
};

struct pkt_time {
    enum pkt_time_kind kind;
    bool rel2;           /* RANGE: the upper bound is relative (+t~+t) */
    bool rel1;           /* RANGE: the lower bound is relative */
    int64_t us, us2;     /* the time (lower bound), and the upper bound */
};

/* An argument or result of a system call. */
enum pkt_expr_kind {
    PKT_E_ELLIPSIS, /* ... : anything */
    PKT_E_INT,      /* 3, -1, 0x02 */
    PKT_E_WORD,     /* SOCK_STREAM, O_NONBLOCK */
    PKT_E_STRING,   /* "..." */
    PKT_E_OR,       /* a | b */
    PKT_E_ARRAY,    /* [1], [...] */
    PKT_E_STRUCT,   /* {onoff=1, linger=0}, {..., 1000} */
    PKT_E_FIELD,    /* name=value inside a struct; name(args)=value (msg_iov(1)=[...]) */
    PKT_E_CALL,     /* htons(8080), inet_addr("192.0.2.1") */
};

struct pkt_expr {
    enum pkt_expr_kind kind;
    int line, col;
    long long i;            /* INT */
    char *s;                /* WORD, STRING, FIELD / CALL name */
    struct pkt_expr **items; /* OR (2), ARRAY, STRUCT, FIELD ([0] value, [1..] call args), CALL args */
    size_t n;
};

enum pkt_opt_kind {
    PKT_O_NOP, PKT_O_EOL, PKT_O_MSS, PKT_O_WSCALE, PKT_O_SACKOK, PKT_O_SACK, PKT_O_TS,
};

#define PKT_MAX_SACK 4
#define PKT_MAX_OPTS 20

struct pkt_opt {
    enum pkt_opt_kind kind;
    uint32_t a, b;                    /* MSS/WSCALE value; TS val, ecr */
    uint32_t sack[PKT_MAX_SACK][2];   /* SACK blocks, left:right */
    unsigned nsack;
};

enum pkt_opts_mode { PKT_OPTS_NONE, PKT_OPTS_ANY, PKT_OPTS_LIST };

struct pkt_packet {
    bool outbound;       /* '>' the engine sends it; '<' the script injects it */
    uint8_t flags;       /* TCP_SYN | ... */
    uint32_t seq, end;   /* start:end(len) */
    uint32_t len;
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint32_t win;
    enum pkt_opts_mode opts_mode;
    struct pkt_opt opts[PKT_MAX_OPTS];
    unsigned nopts;
    int ecn;             /* -1 not given, else the 2-bit ECN codepoint */
    int rport;           /* tcplab extension `<@PORT`: the script's port; -1 default */
};

struct pkt_syscall {
    char *name;
    struct pkt_expr **args;
    size_t nargs;
    bool has_end;        /* t1...t2 : blocks until t2 */
    int64_t end_us;      /* t2, relative to the call's start */
    struct pkt_expr *ret;
    char *err_name;      /* "ECONNREFUSED" or NULL */
};

enum pkt_event_kind { PKT_EV_PACKET, PKT_EV_SYSCALL };

struct pkt_event {
    enum pkt_event_kind kind;
    int line, col;
    struct pkt_time time;
    struct pkt_packet pkt;
    struct pkt_syscall sc;
};

/* A script option (--name=value) before the first event. */
struct pkt_option {
    char *name, *value; /* value may be NULL */
    int line, col;
};

struct pkt_script {
    char *name;          /* file name for messages */
    char **lines;        /* the source, one string per line (for diagnostics) */
    size_t nlines;
    struct pkt_option *options;
    size_t noptions;
    struct pkt_event *events;
    size_t nevents;
    /* The first construct the runner cannot run: the script is a SKIP. */
    int skip_line;       /* 0 = none */
    char skip_reason[200];
};

/* Apply the script's own --options to a configuration. Returns 0, or 1 and
 * fills *line / reason when an option makes the script a SKIP. */
int pkt_apply_script_options(const struct pkt_script *s, struct pkt_config *cfg, int *line,
                             char *reason, size_t reasonsz);

/* The source line `line` (1-based) without leading blanks, or "". */
const char *pkt_script_line(const struct pkt_script *s, int line);

/* Errno names as scripts write them: "ECONNREFUSED" <-> ECONNREFUSED. */
int pkt_errno_from_name(const char *name); /* 0 if unknown */
const char *pkt_errno_name(int err);       /* "EAGAIN", or NULL */

/* TCP-level option names as Linux numbers them (<netinet/tcp.h> cannot be
 * included beside the engine's state names). The numbers only need to agree
 * between the symbol table and pkt_sys.c. */
#define PKT_TCP_NODELAY       1
#define PKT_TCP_MAXSEG        2
#define PKT_TCP_CORK          3
#define PKT_TCP_KEEPIDLE      4
#define PKT_TCP_KEEPINTVL     5
#define PKT_TCP_KEEPCNT       6
#define PKT_TCP_SYNCNT        7
#define PKT_TCP_LINGER2       8
#define PKT_TCP_DEFER_ACCEPT  9
#define PKT_TCP_WINDOW_CLAMP  10
#define PKT_TCP_INFO          11
#define PKT_TCP_QUICKACK      12
#define PKT_TCP_CONGESTION    13
#define PKT_TCP_USER_TIMEOUT  18
#define PKT_TCP_FASTOPEN      23
#define PKT_SIOCINQ           0x541B
#define PKT_SIOCOUTQ          0x5411

/* Symbolic constants scripts use (SOCK_STREAM, O_NONBLOCK, POLLIN, ...):
 * true and *value if known. */
bool pkt_symbol_value(const char *name, long long *value);

#endif
