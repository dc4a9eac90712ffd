/*
 * services.h — the little servers `tcplab listen` runs on the stack.
 *
 * The classic test services of the early Internet, chosen because each one
 * shows a different side of TCP:
 *   echo    (RFC 862)  every byte comes back; the client closes first
 *   discard (RFC 863)  bytes go in, nothing comes out; the client closes first
 *   chargen (RFC 864)  a stream of text until the client closes
 *   daytime (RFC 867)  one line, then the stack closes first
 *   http    (RFC 1945) an HTTP/1.0 page about the connection itself (addresses,
 *                      ports, the states it went through); the stack closes first
 *
 * They use only the stack's socket calls (tcp.h), non-blocking: the event
 * loop calls svc_run() after each wake-up, and the stack calls svc_ready()
 * (as its stack_config.on_ready) so the servers know which connections have
 * something to do — without the event stream, which is built only when
 * someone watches it.
 */
#ifndef TCPLAB_SERVICES_H
#define TCPLAB_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "../stack/event.h"
#include "../stack/tcp.h"

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_DAYTIME, SVC_HTTP, SVC_NKINDS };

struct svc_spec {
    uint16_t port;
    enum svc_kind kind;
};

const char *svc_kind_name(enum svc_kind k); /* "echo", ... */

/* "PORT" or "PORT:SERVICE". PORT alone means the service usually found on it
 * (7 echo, 9 discard, 13 daytime, 19 chargen, 80 http), otherwise echo.
 * Returns 0, or -1 with a message in msg. */
int svc_spec_parse(const char *arg, struct svc_spec *out, char *msg, size_t msglen);

/* The defaults: 7:echo 9:discard 13:daytime 19:chargen 80:http. */
size_t svc_default_specs(struct svc_spec *out, size_t cap);

#define SVC_BACKLOG 128

struct svc_server;

/* Listen on every spec'd port (backlog SVC_BACKLOG). NULL with *err (a
 * negative errno from the stack, e.g. -EADDRINUSE for a port twice). */
struct svc_server *svc_new(struct stack *s, uint64_t now, const struct svc_spec *specs, size_t n,
                           int *err);
void svc_free(struct svc_server *sv);

/* Forward the stack's readiness callback (stack_config.on_ready) here:
 * marks descriptor sd as having work to do, and records each state change
 * (state: its TEV_STATE event) for the http page. */
void svc_ready(struct svc_server *sv, int sd, const struct tev *state);

/* Accept what is ready and serve every connection with work to do. Returns
 * the time at which it wants to run again, or TCP_TIME_NEVER. */
uint64_t svc_run(struct svc_server *sv, uint64_t now);

struct svc_stats {
    uint64_t accepted; /* connections accepted */
    uint64_t finished; /* connections closed by the service */
    uint64_t open;     /* descriptors the services hold now */
    uint64_t bytes_in, bytes_out;
};
void svc_get_stats(const struct svc_server *sv, struct svc_stats *out);

#endif
