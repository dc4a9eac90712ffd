/*
 * udp.h — a minimal UDP (RFC 768) beside the TCP engine, so a lesson can
 * put the same request and reply over both: no handshake, no
 * retransmission, one datagram per send and per receive.
 *
 * Sans-I/O like the rest of the engine (tcp.h): the caller passes `now`,
 * datagrams leave through cfg.output, arrive through stack_input(), and
 * everything is reported on the event stream — each datagram as a
 * TEV_DATAGRAM (in/out), each call as a TEV_CALL (socket, bind, sendto,
 * recvfrom, close). Descriptors come from the same numbers as TCP's (the
 * lowest free one from 3), as a process's would.
 *
 * What UDP does not do, this does not do either: a datagram for a port
 * nobody has bound is dropped (`udp_no_port`; Linux would answer ICMP port
 * unreachable), a datagram that does not fit the receive queue is dropped
 * (`udp_queue_full`), and nothing is ever sent again.
 */
#ifndef TCPLAB_UDP_H
#define TCPLAB_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcp.h"

#define UDP_MAX_SOCKETS 64 /* per stack */
#define UDP_QUEUE_MAX   16 /* datagrams waiting in one socket's receive queue */

/* socket(AF_INET, SOCK_DGRAM): a descriptor, or -EMFILE / -ENOMEM. */
int udp_socket(struct stack *s, uint64_t now);
/* bind() to this stack's address and `port`: -EADDRINUSE if another UDP
 * socket has it, -EINVAL if already bound. */
int udp_bind(struct stack *s, uint64_t now, int sd, uint16_t port);
/* One datagram to addr:port (an unbound socket gets an ephemeral port
 * first). Returns len, or -EMSGSIZE (over 65507 bytes), -EBADF. */
ssize_t udp_sendto(struct stack *s, uint64_t now, int sd, uint32_t addr, uint16_t port,
                   const void *buf, size_t len);
/* The oldest waiting datagram, whole or cut to len (the rest is lost, as
 * recvfrom(2) without MSG_TRUNC): bytes copied, or -EAGAIN. `addr` and
 * `port` (may be NULL) receive the sender. */
ssize_t udp_recvfrom(struct stack *s, uint64_t now, int sd, void *buf, size_t len, uint32_t *addr,
                     uint16_t *port);
int udp_close(struct stack *s, uint64_t now, int sd);
/* TCP_POLLIN when a datagram waits; TCP_POLLOUT always (nothing to wait
 * for). 0 for an unknown descriptor. */
unsigned udp_poll(const struct stack *s, int sd);
/* Is sd a UDP descriptor of this stack? */
bool udp_is_socket(const struct stack *s, int sd);

#endif
