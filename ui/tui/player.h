/*
 * player.h — playback of a recorded scenario timeline (scenario.h) and the
 * picture of the world the views draw from.
 *
 * `struct ui_model` is what the screen shows after the first N events of a
 * timeline: each endpoint's state and why it changed, its timers, its listen
 * queues, and the rows of the ladder diagram (segments and the socket calls,
 * state changes and drops beside them). It is built only by applying events
 * in order, so any earlier moment is rebuilt exactly by applying the
 * timeline's events again from the start: stepping back replays the record,
 * it never re-runs the network.
 *
 * `struct ui_player` moves through the timeline step by step (a step is one
 * statement of the scenario, with its narration) and animates each step:
 * arrows travel across, the clock runs, and a lost segment dies mid-way. It
 * reads no clock; the caller passes the real time elapsed to ui_player_tick.
 */
#ifndef TCPLAB_PLAYER_H
#define TCPLAB_PLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "event.h"
#include "relseq.h"

#define UI_MAX_HOSTS 8

struct ui_timer {
    bool armed;
    uint64_t armed_us;    /* when it was (re)armed: the bar's full length */
    uint64_t deadline_us; /* when it fires */
    unsigned backoff;     /* RTX: retransmissions so far */
};

/* A sender's congestion control as its last TEV_CC event reported it
 * (RFC 5681): the engine reports only changes of cwnd, ssthresh or phase,
 * so `flight` is what was in flight at that change. */
struct ui_cc {
    bool known;                      /* a TEV_CC event was seen */
    struct tcp_tuple tuple;          /* the connection it belongs to */
    uint32_t cwnd, ssthresh, flight; /* bytes */
    enum tcp_cc_phase phase;
    const char *cause; /* "ack", "dupack", "rto", "sack", "idle", "undo" */
    const char *algo;  /* "newreno", "cubic" (static; NULL if not said) */
    size_t ev;         /* index of that event in the timeline */
};

/* One endpoint as the UI shows it. */
struct ui_host {
    char name[32];  /* "client" */
    char label[64]; /* "10.7.0.2:40312" */
    bool kernel;    /* kernel sockets (--tun), not the tcplab stack */
    char kind[16];  /* "" (kernel says it), or what the end is: "captured" */
    uint32_t addr;
    bool have_state;      /* a state event was seen */
    enum tcp_state state; /* state of its most recently changed connection */
    enum tcp_state prev;  /* the state before, for the lit diagram edge */
    const char *cause;    /* why it changed: "rcvd SYN,ACK", "close()" */
    size_t changed_at;    /* index of that event (+1; 0 = never) */
    bool have_kernel;     /* TEV_KERNEL seen for this host */
    int last_fired;       /* the timer that fired last (-1 none): what sent a probe */
    enum tcp_state kernel_state;
    enum tcp_state kernel_prev;      /* the kernel's state sampled before it */
    bool kernel_changed;             /* kernel_prev is meaningful */
    enum tcp_state kernel_sock_prev; /* the same socket's state at the look before
                                        (TCP_NSTATES: first seen) */
    struct ui_timer timers[TCP_NTIMERS];
    bool listening; /* has a listening socket */
    uint16_t listen_port;
    long backlog;          /* listen(backlog), -1 if unknown */
    unsigned syn_queue;    /* half-open connections (SYN_RECEIVED) */
    unsigned accept_queue; /* complete, not yet accepted */
    struct ui_cc cc;       /* congestion control of its connection that reported last */
};

/* A connection the model follows, for the listen queues. */
struct ui_conn {
    int host;
    struct tcp_tuple tuple;
    enum tcp_state state;
    bool passive;  /* born from a listener */
    bool accepted; /* handed to the application by accept() */
};

enum ui_item_kind {
    UI_ITEM_NONE = 0,
    UI_ITEM_CALL,
    UI_ITEM_STATE,
    UI_ITEM_DROP,
    UI_ITEM_TIMER,
    UI_ITEM_KERNEL, /* the kernel's own state of its socket (TUN) */
    UI_ITEM_READY   /* a poll() returned: what was ready (TEV_READY) */
};

/* Something written in an endpoint's lane beside the ladder. */
struct ui_item {
    enum ui_item_kind kind;
    size_t ev;     /* index into the timeline's events */
    bool returned; /* a call reported when it returned, not when it began (connect) */
};

/* A segment drawn as an arrow between two columns. */
struct ui_arrow {
    size_t ev;           /* the segment event (sent, or received if never seen sent) */
    int from, to;        /* host indices */
    bool lost;           /* the link lost it: drawn dying on the way with ✗ */
    bool arrived;        /* the receiver's input event was seen */
    bool duplicate;      /* a second copy made by the link */
    bool retransmission; /* sender says it is a retransmission */
    bool show_win;       /* the window is worth showing (SYN, zero, changed) */
    uint8_t probe;       /* 0, or the timer that sent it: TCP_TIMER_KEEPALIVE / _PERSIST + 1 */
    bool rel_known;      /* relative numbers below are valid */
    uint32_t rel_seq, rel_ack;
    bool udp; /* a UDP datagram (ev is a TEV_DATAGRAM): no TCP fields */
};

struct ui_model;
/* The raw IPv4 packet an arrow stands for (a segment's or a datagram's). */
const uint8_t *ui_arrow_raw(const struct ui_model *m, const struct ui_arrow *a, size_t *len);

/* One line of the ladder: at most one arrow, and one item per lane. */
struct ui_row {
    bool has_arrow;
    struct ui_arrow arrow;
    struct ui_item lane[UI_MAX_HOSTS];
};

/* A lost segment dies this far across (the ladder and the animation agree). */
#define UI_LOST_AT (2.0 / 3.0)

#define UI_MAX_ISN   32
#define UI_MAX_CONNS 64

struct ui_model {
    const struct scn_timeline *tl;
    size_t nhosts;
    struct ui_host hosts[UI_MAX_HOSTS];
    struct ui_row *rows;
    size_t nrows, cap_rows;
    size_t applied;  /* events applied: tl->events[0 .. applied) */
    uint64_t now_us; /* time of the last event applied */
    size_t last_row_changed;
    struct relseq_map seqs; /* each connection's ISNs (relseq.h) */
    struct {
        uint32_t src, dst;
        uint16_t sport, dport;
        uint16_t last_win;
        bool have_win;
    } dirs[UI_MAX_ISN]; /* per direction of a connection: its last window */
    size_t ndirs;
    /* Calls shown ahead of their place in the stream: the engine reports a
     * call after what it caused, the ladder shows it before. */
    bool *early;
    size_t early_cap;
    struct ui_conn conns[UI_MAX_CONNS];
    size_t nconns;
};

void ui_model_init(struct ui_model *m, const struct scn_timeline *tl);
void ui_model_free(struct ui_model *m);
/* Forget everything applied (keeps the timeline). */
void ui_model_reset(struct ui_model *m);
/* Apply the next event (tl->events[m->applied]). Returns the row index an
 * arrow was added to, or -1. */
int ui_model_apply_next(struct ui_model *m);
/* Apply events until `applied` == n (n <= nevents). */
void ui_model_apply_until(struct ui_model *m, size_t n);
/* Host index for an event (by host name, then by address), or -1. */
int ui_model_host_of(const struct ui_model *m, const struct tev *ev);
/* Relative sequence numbers of a segment given the ISNs learned so far:
 * seq relative to its sender's ISN, ack to the receiver's, each only when
 * that ISN is known (else left absolute). False if neither is known. */
/* The state a diagram shows for a host: the stack's own, or for a kernel
 * host (which has no state events, only sampled TEV_KERNEL) the kernel's.
 * *prev (may be NULL) gets the state before it; returns whether that last
 * change is known (false: nothing happened yet, show no edge). */
bool ui_host_state(const struct ui_host *h, enum tcp_state *cur, enum tcp_state *prev);
bool ui_model_relative(const struct ui_model *m, const struct tev *ev, uint32_t *seq,
                       uint32_t *ack);

/* ---- congestion window history (the cwnd graph) -----------------------------
 * The cc events of one host's connection, in order, taken from the whole
 * timeline (so the graph's scale does not change while stepping); the view
 * draws those with ev < applied. */
struct ui_cc_sample {
    size_t ev; /* index in the timeline */
    uint64_t t_us;
    uint32_t cwnd, ssthresh, flight;
    enum tcp_cc_phase phase;
};
/* The host whose congestion window is worth a graph: the one with the most
 * cc events that ever had data in flight (the sender), else the one with the
 * most cc events; -1 when no host has any. */
int ui_cc_graph_host(const struct ui_model *m);
/* The cc samples of `host`'s connection: the connection of its latest cc
 * event applied so far, or before any, of its first in the timeline. Fills
 * up to max samples; returns how many there are in all. */
size_t ui_cc_history(const struct ui_model *m, int host, struct ui_cc_sample *out, size_t max);

/* ---- the player -------------------------------------------------------------- */

#define UI_SPEED_MIN 0.25
#define UI_SPEED_MAX 16.0

struct ui_player {
    const struct scn_timeline *tl;
    struct ui_model model;
    size_t step;       /* steps begun: 0 .. nsteps; step k shows tl->steps[k-1] */
    size_t target;     /* the model is heading for this many applied events */
    bool playing;      /* space: advance through the steps on its own */
    double speed;      /* 1.0 = normal */
    int flying_row;    /* row of the arrow in flight, -1 if none */
    double progress;   /* 0..1 of the flying arrow's journey */
    uint64_t clock_us; /* the time shown; runs between events while animating */
    double pause_s;    /* while playing: time spent resting after a step */
    double flash_s;    /* time left for the state-change flash (0 = none) */
};

void ui_player_init(struct ui_player *p, const struct scn_timeline *tl);
void ui_player_free(struct ui_player *p);
/* Jump to "step k done", settled, no animation (k is clamped to nsteps).
 * Step 0 shows what happened before the first step. */
void ui_player_seek(struct ui_player *p, size_t k);
/* Begin the next step, animated (finishing the current one at once). */
void ui_player_next(struct ui_player *p);
/* Back one step: the model is rebuilt from the start of the timeline. */
void ui_player_prev(struct ui_player *p);
void ui_player_first(struct ui_player *p);
void ui_player_last(struct ui_player *p);
void ui_player_set_speed(struct ui_player *p, double speed);
/* Faster / slower in the steps 1/4 1/2 1 2 4 8 16. */
void ui_player_faster(struct ui_player *p);
void ui_player_slower(struct ui_player *p);
void ui_player_toggle_play(struct ui_player *p);
/* True while something moves (an arrow, the clock, or playing). */
bool ui_player_busy(const struct ui_player *p);
/* Advance the animation by dt seconds of real time. True if the picture changed. */
bool ui_player_tick(struct ui_player *p, double dt);
/* The step whose narration is shown, or NULL before the first step. */
const struct scn_step *ui_player_current_step(const struct ui_player *p);

#endif
