/*
 * tcp_state.h — the eleven connection states of RFC 9293 §3.3.2 and the
 * table of legal transitions (RFC 9293 Figure 5).
 *
 * The table is the single source of truth: the engine refuses (asserts in
 * debug) any transition not in it, the tests check every row is exercised,
 * and the UI draws its state diagram from it.
 */
#ifndef TCPLAB_TCP_STATE_H
#define TCPLAB_TCP_STATE_H

#include <stdbool.h>
#include <stddef.h>

enum tcp_state {
    TCP_CLOSED = 0,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RECEIVED,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
    TCP_NSTATES
};

/* "CLOSED", "SYN_SENT", ... as written everywhere (traces, UI, scenarios). */
const char *tcp_state_name(enum tcp_state s);

/* Inverse of tcp_state_name; -1 if the name is not a state. */
int tcp_state_from_name(const char *name);

/* One edge of RFC 9293 Figure 5. */
struct tcp_transition {
    enum tcp_state from, to;
    const char *event;   /* what triggers it, Figure 5 style: "rcv SYN" */
    const char *action;  /* what is sent, or "" : "snd SYN,ACK" */
};

extern const struct tcp_transition tcp_transitions[];
extern const size_t tcp_ntransitions;

/* True if from -> to is an edge of the table (or from == to). Besides the
 * edges drawn in Figure 5 the table holds the ones the text adds: any
 * synchronized state -> CLOSED on RST or ABORT, and SYN_RECEIVED -> LISTEN
 * on RST for a passively opened connection. */
bool tcp_transition_legal(enum tcp_state from, enum tcp_state to);

/* When only `from` and later `to` were seen (the kernel's states are
 * sampled) and from -> to is no edge: the states in between on the shortest
 * way through the table, in order, into via[0 .. max). Returns how many there
 * are (0: a direct edge, the same state, or no way at all). */
size_t tcp_state_path(enum tcp_state from, enum tcp_state to, enum tcp_state *via, size_t max);

#endif
