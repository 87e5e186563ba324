/*
 * http.c -- the HTTP server of the master (see http.h).
 *
 * One handler answers every request: it picks the page by path, renders it
 * into a fresh text buffer and hands the buffer to libmicrohttpd, which
 * frees it (through dvm_free) once sent.  Nothing is cached: a rendering
 * is cheap (hundreds of series, at most OBS_EVENTS_MAX events) and always
 * current.  Requests with a body, methods other than GET and HEAD, and
 * unknown paths get 405 or 404 with a one-line text body.  libmicrohttpd
 * (with the TLS libraries it brings) is loaded at the first http_start
 * (util/dynlib.h): a run without --http never loads it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "obs/dashboard.h"
#include "obs/http.h"
#include "util/alloc.h"
#include "util/dynlib.h"

/* libmicrohttpd's functions, one line each, with microhttpd.h's types. */
#define MHD_FNS(X)                                                       \
    X(MHD_add_response_header)                                           \
    X(MHD_create_response_from_buffer)                                   \
    X(MHD_create_response_from_buffer_with_free_callback)                \
    X(MHD_destroy_response)                                              \
    X(MHD_lookup_connection_value)                                       \
    X(MHD_queue_response)                                                \
    X(MHD_start_daemon)                                                  \
    X(MHD_stop_daemon)

DYNLIB_TABLE(mhd, mhd_load, "libmicrohttpd.so.12", MHD_FNS, "http")

struct obs_http {
    obs *o;
    struct MHD_Daemon *d;
    int fd;
    int port;
    char url[300];
};

/* Splits addr into host and port (see http_start); 0 or -1. */
static int split_addr(const char *addr, char *host, size_t hcap, char *port,
                      size_t pcap)
{
    const char *p;
    size_t hl;
    if (addr[0] == '[') {
        const char *e = strchr(addr, ']');
        if (!e || e[1] != ':')
            return -1;
        hl = (size_t)(e - addr - 1);
        memcpy(host, addr + 1, hl < hcap ? hl : 0);
        p = e + 2;
    } else if ((p = strrchr(addr, ':'))) {
        hl = (size_t)(p - addr);
        memcpy(host, addr, hl < hcap ? hl : 0);
        p++;
    } else {
        hl = 0;
        p = addr;
    }
    if (hl >= hcap || strlen(p) >= pcap || !*p ||
        strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
        return -1;
    host[hl] = '\0';
    if (!hl)
        snprintf(host, hcap, "127.0.0.1");
    snprintf(port, pcap, "%s", p);
    return 0;
}

/* A listening socket bound to host:port; on success *fd, *bound_port. */
static dvm_status listen_on(const char *host, const char *port, int *fd,
                            int *bound_port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc)
        return status_set(DVM_EINVAL, "http address %s:%s: %s", host, port,
                          gai_strerror(rc));
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s < 0 ||
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(s, ai->ai_addr, ai->ai_addrlen) || listen(s, 64)) {
        int e = errno;
        if (s >= 0)
            close(s);
        freeaddrinfo(ai);
        errno = e;
        return status_set_errno(DVM_ESYS, "http: cannot listen on %s:%s",
                                host, port);
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &len);
    *bound_port = ntohs(sa.ss_family == AF_INET6
                        ? ((struct sockaddr_in6 *)&sa)->sin6_port
                        : ((struct sockaddr_in *)&sa)->sin_port);
    *fd = s;
    return DVM_OK;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code,
                                 const char *type, text *t)
{
    struct MHD_Response *r;
    r = mhd.MHD_create_response_from_buffer_with_free_callback(
        t->n, t->p ? t->p : dvm_strdup(""), dvm_free);
    if (!r) {
        text_free(t);
        return MHD_NO;
    }
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = mhd.MHD_queue_response(c, code, r);
    mhd.MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_static(struct MHD_Connection *c, unsigned code,
                                   const char *type, const void *p, size_t n)
{
    struct MHD_Response *r = mhd.MHD_create_response_from_buffer(
        n, (void *)p, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = mhd.MHD_queue_response(c, code, r);
    mhd.MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned code,
                                  const char *msg)
{
    return send_static(c, code, "text/plain; charset=utf-8", msg,
                       strlen(msg));
}

/* Renders a page into a new buffer and sends it (500 when it failed). */
static enum MHD_Result send_rendered(struct MHD_Connection *c, obs *o,
                                     const char *url)
{
    text t;
    text_init(&t);
    int metrics = !strcmp(url, "/metrics");
    dvm_status st;
    if (metrics) {
        st = obs_render_metrics(o, &t);
    } else {
        const char *since = mhd.MHD_lookup_connection_value(
            c, MHD_GET_ARGUMENT_KIND, "since");
        st = obs_render_state(o, since ? strtoull(since, NULL, 10) : 0, &t);
    }
    if (st) {
        text_free(&t);
        return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory\n");
    }
    return send_text(c, MHD_HTTP_OK, metrics
                     ? "text/plain; version=0.0.4; charset=utf-8"
                     : "application/json", &t);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req)
{
    (void)version;
    (void)upload;
    obs_http *h = cls;
    if (*req == NULL) {         /* first call: headers only */
        *req = h;
        return MHD_YES;
    }
    if (*upload_size || (strcmp(method, "GET") && strcmp(method, "HEAD")))
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "only GET and HEAD\n");
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        return send_static(c, MHD_HTTP_OK, "text/html; charset=utf-8",
                           obs_dashboard_html, obs_dashboard_html_len);
    if (!strcmp(url, "/metrics") || !strcmp(url, "/api/state"))
        return send_rendered(c, h->o, url);
    return send_error(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

dvm_status http_start(obs *o, const char *addr, obs_http **out)
{
    char host[256], port[16];
    if (!addr || split_addr(addr, host, sizeof host, port, sizeof port))
        return status_set(DVM_EINVAL, "bad http address '%s' (HOST:PORT, "
                          "[IPV6]:PORT or PORT)", addr ? addr : "");
    dvm_status st = mhd_load();
    if (st)
        return st;
    obs_http *h = dvm_calloc(1, sizeof *h);
    if (!h)
        return status_set(DVM_ENOMEM, "out of memory");
    h->o = o;
    st = listen_on(host, port, &h->fd, &h->port);
    if (st)
        goto err_listen;
    h->d = mhd.MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
                            0, NULL, NULL, on_request, h,
                            MHD_OPTION_LISTEN_SOCKET, h->fd,
                            MHD_OPTION_CONNECTION_LIMIT, 64,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30,
                            MHD_OPTION_END);
    if (!h->d) {
        st = status_set(DVM_ESYS, "http: the server did not start");
        goto err_daemon;
    }
    snprintf(h->url, sizeof h->url, strchr(host, ':') ? "http://[%s]:%d/"
             : "http://%s:%d/", host, h->port);
    *out = h;
    return DVM_OK;
err_daemon:
    close(h->fd);
err_listen:
    dvm_free(h);
    return st;
}

int http_port(const obs_http *h)
{
    return h->port;
}

const char *http_url(const obs_http *h)
{
    return h->url;
}

void http_stop(obs_http *h)
{
    if (!h)
        return;
    mhd.MHD_stop_daemon(h->d);      /* closes the listening socket too */
    dvm_free(h);
}
