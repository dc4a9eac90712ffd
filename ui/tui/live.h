/*
 * live.h — the live view of `tcplab listen --ui`: a connection table like
 * ss(8), the selected connection's ladder and the event log, updated as
 * connections come and go. The TUN event loop (ui/cli/cmd_listen.c) owns the
 * stack and the poll loop; this module only draws and reads keys.
 */
#ifndef TCPLAB_LIVE_H
#define TCPLAB_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "tcp.h"

struct ui_live;

/* Take over the terminal. `title` e.g. "tcplab listen · tl0 10.7.0.2".
 * Returns NULL (with a message on stderr) if stdin/stdout is not a terminal. */
struct ui_live *ui_live_open(const struct stack *s, const char *title);
/* Feed every event (stack and kernel). Cheap; drawing happens in refresh. */
void ui_live_event(struct ui_live *ui, const struct tev *ev);
/* The file descriptor to poll for key presses (POLLIN). */
int ui_live_fd(const struct ui_live *ui);
/* Handle pending keys; false when the user asked to quit. */
bool ui_live_input(struct ui_live *ui, uint64_t now_us);
/* Redraw if anything changed (rate-limited to about 30 frames/s); returns
 * the time at which it wants to be called again, or TCP_TIME_NEVER. */
uint64_t ui_live_refresh(struct ui_live *ui, uint64_t now_us);
void ui_live_close(struct ui_live *ui);

#endif
