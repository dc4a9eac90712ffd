/*
 * tcp_state.c — state names and the table of legal transitions
 * (RFC 9293 §3.3.2, Figure 5, plus the transitions the text of §3.10 adds).
 */
#include <string.h>

#include "tcp_state.h"

static const char *const state_names[TCP_NSTATES] = {
    [TCP_CLOSED] = "CLOSED",           [TCP_LISTEN] = "LISTEN",
    [TCP_SYN_SENT] = "SYN_SENT",       [TCP_SYN_RECEIVED] = "SYN_RECEIVED",
    [TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN_WAIT_1",
    [TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCP_CLOSING] = "CLOSING",         [TCP_LAST_ACK] = "LAST_ACK",
    [TCP_TIME_WAIT] = "TIME_WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < TCP_NSTATES ? state_names[s] : "?";
}

int tcp_state_from_name(const char *name)
{
    for (int s = 0; s < TCP_NSTATES; s++)
        if (!strcmp(name, state_names[s]))
            return s;
    return -1;
}

/* Figure 5 of RFC 9293, edge by edge, then the edges its text adds. */
const struct tcp_transition tcp_transitions[] = {
    /* Figure 5 */
    {TCP_CLOSED, TCP_LISTEN, "passive OPEN", ""},
    {TCP_CLOSED, TCP_SYN_SENT, "active OPEN", "snd SYN"},
    {TCP_LISTEN, TCP_SYN_RECEIVED, "rcv SYN", "snd SYN,ACK"},
    {TCP_LISTEN, TCP_SYN_SENT, "SEND", "snd SYN"},
    {TCP_LISTEN, TCP_CLOSED, "CLOSE", ""},
    {TCP_SYN_SENT, TCP_SYN_RECEIVED, "rcv SYN", "snd SYN,ACK"},
    {TCP_SYN_SENT, TCP_ESTABLISHED, "rcv SYN,ACK", "snd ACK"},
    {TCP_SYN_SENT, TCP_CLOSED, "CLOSE", ""},
    {TCP_SYN_RECEIVED, TCP_ESTABLISHED, "rcv ACK of SYN", ""},
    {TCP_SYN_RECEIVED, TCP_FIN_WAIT_1, "CLOSE", "snd FIN"},
    {TCP_SYN_RECEIVED, TCP_LISTEN, "rcv RST", ""},
    {TCP_ESTABLISHED, TCP_FIN_WAIT_1, "CLOSE", "snd FIN"},
    {TCP_ESTABLISHED, TCP_CLOSE_WAIT, "rcv FIN", "snd ACK"},
    {TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, "rcv ACK of FIN", ""},
    {TCP_FIN_WAIT_1, TCP_CLOSING, "rcv FIN", "snd ACK"},
    {TCP_FIN_WAIT_2, TCP_TIME_WAIT, "rcv FIN", "snd ACK"},
    {TCP_CLOSING, TCP_TIME_WAIT, "rcv ACK of FIN", ""},
    {TCP_CLOSE_WAIT, TCP_LAST_ACK, "CLOSE", "snd FIN"},
    {TCP_LAST_ACK, TCP_CLOSED, "rcv ACK of FIN", ""},
    {TCP_TIME_WAIT, TCP_CLOSED, "timeout=2MSL", ""},
    /* No FIN_WAIT_1 -> TIME_WAIT edge: §3.10.7.4's fifth step moves
     * FIN-WAIT-1 to FIN-WAIT-2 as soon as our FIN is acknowledged, so a
     * FIN,ACK acknowledging our FIN goes FIN_WAIT_1 -> FIN_WAIT_2 ->
     * TIME_WAIT, as Linux and BSD do (the eighth step's "perhaps in this
     * segment" can never apply). */
    /* RST, ABORT, and retransmission or user timeouts */
    {TCP_SYN_SENT, TCP_CLOSED, "rcv RST / timeout", ""},
    {TCP_SYN_RECEIVED, TCP_CLOSED, "rcv RST / ABORT / timeout", ""},
    {TCP_ESTABLISHED, TCP_CLOSED, "rcv RST / ABORT / timeout", ""},
    {TCP_FIN_WAIT_1, TCP_CLOSED, "rcv RST / ABORT / timeout", ""},
    {TCP_FIN_WAIT_2, TCP_CLOSED, "rcv RST / ABORT / timeout", ""},
    {TCP_CLOSE_WAIT, TCP_CLOSED, "rcv RST / ABORT / timeout", ""},
    {TCP_CLOSING, TCP_CLOSED, "rcv RST / ABORT / timeout", ""},
    {TCP_LAST_ACK, TCP_CLOSED, "rcv RST / timeout", ""},
};
const size_t tcp_ntransitions = sizeof tcp_transitions / sizeof tcp_transitions[0];

bool tcp_transition_legal(enum tcp_state from, enum tcp_state to)
{
    if (from == to)
        return true;
    for (size_t i = 0; i < tcp_ntransitions; i++)
        if (tcp_transitions[i].from == from && tcp_transitions[i].to == to)
            return true;
    return false;
}

/* Edges a connection takes only in the less common stories (simultaneous
 * open or close, a reset, an abort): a path of missed states goes through
 * them only when no other way exists. */
static bool edge_is_rare(const struct tcp_transition *t)
{
    if (t->to == TCP_CLOSED)
        return t->from != TCP_TIME_WAIT && t->from != TCP_LAST_ACK;
    return (t->from == TCP_SYN_SENT && t->to == TCP_SYN_RECEIVED) ||
           (t->from == TCP_SYN_RECEIVED && t->to == TCP_LISTEN) || t->to == TCP_CLOSING;
}

/* Breadth first from `from`; before[s] is the state before s, -1 unreached. */
static void path_search(enum tcp_state from, bool rare_too, int before[TCP_NSTATES])
{
    for (int i = 0; i < TCP_NSTATES; i++)
        before[i] = -1;
    enum tcp_state queue[TCP_NSTATES];
    size_t head = 0, tail = 0;
    queue[tail++] = from;
    before[from] = (int)from;
    while (head < tail) {
        enum tcp_state s = queue[head++];
        for (size_t i = 0; i < tcp_ntransitions; i++) {
            const struct tcp_transition *t = &tcp_transitions[i];
            if (t->from == s && before[t->to] < 0 && (rare_too || !edge_is_rare(t))) {
                before[t->to] = (int)s;
                queue[tail++] = t->to;
            }
        }
    }
}

size_t tcp_state_path(enum tcp_state from, enum tcp_state to, enum tcp_state *via, size_t max)
{
    if (from >= TCP_NSTATES || to >= TCP_NSTATES || tcp_transition_legal(from, to))
        return 0;
    /* The fewest states, along the common story if there is one. */
    int before[TCP_NSTATES];
    path_search(from, false, before);
    if (before[to] < 0)
        path_search(from, true, before);
    if (before[to] < 0)
        return 0;
    size_t n = 0;
    for (enum tcp_state s = (enum tcp_state)before[to]; s != from; s = (enum tcp_state)before[s])
        n++;
    size_t k = n;
    for (enum tcp_state s = (enum tcp_state)before[to]; s != from; s = (enum tcp_state)before[s])
        if (--k < max)
            via[k] = s;
    return n;
}
