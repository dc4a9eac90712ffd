/*
 * trace_util.h — small pieces shared by the text and JSON renderers
 * (ui/render/trace_text.c, ui/render/trace_json.c). Not part of the public trace.h.
 */
#ifndef TCPLAB_TRACE_UTIL_H
#define TCPLAB_TRACE_UTIL_H

/* "ECONNREFUSED" for ECONNREFUSED (a positive errno), NULL if unnamed. */
const char *trace_errno_name(long err);

/* "SO_KEEPALIVE" for TCP_OPT_KEEPALIVE (enum tcp_sockopt), "?" if unknown. */
const char *trace_sockopt_name(long opt);

#endif
