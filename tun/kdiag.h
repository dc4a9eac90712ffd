/*
 * kdiag.h — the kernel's side of the story: its own TCP sockets, read back.
 *
 * When the stack talks to kernel sockets over the TUN device, the kernel keeps
 * its own state for each connection. This module asks for it through
 * sock_diag (NETLINK_INET_DIAG, inet_diag_req_v2, every state), which also
 * lists TIME_WAIT and SYN_RECV entries that have no file descriptor, and
 * compares each answer with the previous one. Every socket that appears,
 * changes state or disappears becomes a TEV_KERNEL event (host "kernel",
 * tuple from the kernel's point of view), in the same stream as the stack's
 * own events — so a trace can show the kernel's socket entering TIME_WAIT
 * while the stack's connection is already CLOSED.
 */
#ifndef TCPLAB_KDIAG_H
#define TCPLAB_KDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../stack/event.h"
#include "../stack/tcp_state.h"

/* Linux's TCP states (include/net/tcp_states.h) mapped onto RFC 9293's.
 * NEW_SYN_RECV (a request socket) is SYN_RECEIVED; CLOSE is CLOSED.
 * Unknown values give TCP_NSTATES. */
enum tcp_state kdiag_state_from_linux(int linux_state);

struct kdiag;

/* Watch the kernel's TCP sockets whose local or remote address is `addr`
 * (the stack's address, host order). Returns NULL and *err on failure. */
struct kdiag *kdiag_new(uint32_t addr, const char *host, tev_fn on_event, void *ctx, int *err);
void kdiag_free(struct kdiag *kd);

/* Dump the sockets now and report differences, stamped `now`. Returns the
 * number of sockets seen, or a negative errno. */
int kdiag_poll(struct kdiag *kd, uint64_t now);

/* Ask about one socket only (tuple from the kernel's point of view): the
 * cost does not grow with the number of sockets, so it can run on every SYN
 * or FIN. Reports, as kdiag_poll() would, if it appeared, changed state or
 * is gone, and updates the list. Returns its state (enum tcp_state), -1 if
 * the kernel has no such socket, or another negative errno. */
int kdiag_probe(struct kdiag *kd, uint64_t now, const struct tcp_tuple *t);

/* Sockets known after the last poll. */
size_t kdiag_count(const struct kdiag *kd);

/* The state of one kernel socket after the last poll (tuple from the
 * kernel's point of view), or -1 if not seen. */
int kdiag_lookup(const struct kdiag *kd, const struct tcp_tuple *t);

#endif
