/*
 * http.h -- the master's HTTP server: GET /metrics (Prometheus text
 * exposition), GET /api/state (JSON for the dashboard) and GET / (the
 * dashboard itself, compiled into the binary).
 *
 * The server is GNU libmicrohttpd with its own polling thread: requests
 * never run on the master's thread and never stop it; they read the obs
 * hub, which is built for that (obs.h).  The listening socket is bound here
 * (so that port 0 picks a free port, which http_port reports) and handed to
 * libmicrohttpd.  Everything is read-only: only GET and HEAD are served.
 */
#ifndef DVM_OBS_HTTP_H
#define DVM_OBS_HTTP_H

#include "obs/obs.h"
#include "util/status.h"

typedef struct obs_http obs_http;

/* Serves o on addr: "HOST:PORT", "[IPV6]:PORT", ":PORT" or "PORT"; without
 * a host, 127.0.0.1 (loopback).  PORT 0 picks a free port.  o must outlive
 * the server.  DVM_EINVAL for a malformed address, DVM_ESYS when it cannot
 * be bound. */
dvm_status http_start(obs *o, const char *addr, obs_http **out);
/* The port the server listens on. */
int http_port(const obs_http *h);
/* The URL of the dashboard, e.g. "http://127.0.0.1:9464/". */
const char *http_url(const obs_http *h);
/* Stops the server (waits for its thread) and frees it. */
void http_stop(obs_http *h);

#endif
