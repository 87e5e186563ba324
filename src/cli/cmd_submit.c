/*
 * cmd_submit.c -- `dvm submit`, `dvm status` and `dvm node --drain`: the
 * clients of a cluster master.
 *
 * submit checks everything `dvm run` checks before anything runs (the
 * same options and code, cli/cmd_run.h), then sends the master the image,
 * the input channels' bytes and the dump ranges, writes the committed
 * output it streams back (standard output, --out files), and ends with the
 * master's verdict: the error if any, the dumps, --stats, and the exit
 * code `dvm run` would have given.  Ctrl-C closes the connection, which
 * cancels the program on the cluster.
 *
 * A master that goes away mid-program is tried again (backoff, for
 * --reconnect seconds): a master restarted with its saved state (dvm
 * master --state) is sent RESUME with the bytes received per channel, and
 * sends only the output this client has not had.  A master that has no
 * program to resume (CMSG_DONE_NO_PROGRAM: it died before the program's
 * first save) is sent the SUBMIT again when no byte of output came yet;
 * the program then runs from its start, and the client still writes each
 * byte once.  With output received, the rest is lost, and it says so.
 *
 * drain names a node; the master tells it to leave in order and answers
 * once it left.  The wait is bounded: the node's drain wait and
 * DRAIN_MARGIN_MS for the rest of its way out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asm/asm.h"
#include "cli/cli.h"
#include "cli/cmd_run.h"
#include "cluster/transport.h"
#include "cluster/wire.h"
#include "dist/cmsg.h"
#include "image/image.h"
#include "isa/isa.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/sigstop.h"

typedef struct client {
    transport *t;
    uint64_t master;
    int up, down, done;
    uint16_t want;              /* WIRE_DONE or WIRE_STATUS */
    int code;
    msg_buf req;                /* sent once the master is up */
    uint16_t req_type;
    /* submit */
    int *fds;                   /* per channel index: fd, -1 unbound */
    const char **names;         /* per channel index: its name */
    uint64_t *unbound;          /* bytes per channel index discarded */
    int out_failed;             /* a write or close of output failed:
                                   reported once, exit status 2 */
    size_t nchan;
    const run_opts *o;
    const uint64_t *dump_count;
    char reason[256];
    /* resuming (submit) */
    int joined;                 /* the master was up at least once */
    int reconnect_s;            /* 0: a lost master ends the program */
    uint64_t submit_id;         /* cmsg_submit_id of the SUBMIT sent */
    uint64_t *got;              /* bytes received per channel index */
    uint64_t got_diag;
    uint64_t deadline_ns;       /* 0: none; past it the wait ends */
    msg_buf resume;             /* RESUME, sent instead of req (the
                                   SUBMIT, kept to send again) */
    unsigned resubmits;         /* times req was sent again */
} client;

#define CLIENT_BACKOFF_MIN_MS 100
#define CLIENT_BACKOFF_MAX_MS 2000
/* Bounds the SUBMITs sent again after CMSG_DONE_NO_PROGRAM: a master
 * that keeps losing the program is not fed it forever. */
#define CLIENT_MAX_RESUBMITS 10

static volatile sig_atomic_t client_interrupted;

static void client_on_signal(int sig)
{
    (void)sig;
    client_interrupted = 1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Output of channel index k could not be written (how: "writing",
 * "closing the file of"): said once, with errno's reason; later output is
 * dropped and the exit status is 2, as `dvm run` would end. */
static void output_failed(client *c, const char *how, size_t k)
{
    if (!c->out_failed)
        fprintf(stderr, "dvm: error: %s channel %s: %s\n", how, c->names[k],
                strerror(errno));
    c->out_failed = 1;
}

static void on_output(client *c, const uint8_t *p, size_t len)
{
    uint64_t chan;
    cmsg_str s;
    if (!cmsg_decode_output(p, len, &chan, &s) && chan == CMSG_CHAN_DIAG) {
        fwrite(s.p, 1, (size_t)s.len, stderr);
        c->got_diag += s.len;
        return;
    }
    if (cmsg_decode_output(p, len, &chan, &s) || chan >= c->nchan) {
        snprintf(c->reason, sizeof c->reason, "malformed output message");
        c->done = 1;
        c->code = 2;
        return;
    }
    c->got[chan] += s.len;
    if (c->fds[chan] < 0)
        c->unbound[chan] += s.len;
    else if (!c->out_failed && write_all(c->fds[chan], s.p, (size_t)s.len))
        output_failed(c, "writing", chan);
}

/* The dumps, as dvm run prints them. */
static void print_dumps(const client *c, cmsg_str d)
{
    size_t off = 0;
    fflush(stdout);
    for (size_t i = 0; i < c->o->ndumps; i++) {
        int type = c->o->dumps[i].type;
        unsigned w = isa_type_bytes[type];
        for (uint64_t k = 0; k < c->dump_count[i] && off + w <= d.len; k++) {
            run_print_value(type, d.p + off);
            off += w;
        }
    }
    fflush(stdout);
}

/* 1 when no byte of the program's output (any channel, diagnostics
 * included) has arrived. */
static int client_got_nothing(const client *c)
{
    uint64_t n = c->got_diag;
    for (size_t i = 0; i < c->nchan; i++)
        n += c->got[i];
    return n == 0;
}

/* The master answered RESUME with CMSG_DONE_NO_PROGRAM: sends it the
 * SUBMIT again when nothing of the program arrived yet (see the top);
 * otherwise the program ends with exit status 2 and why. */
static void on_no_program(client *c)
{
    if (!client_got_nothing(c) || c->resubmits >= CLIENT_MAX_RESUBMITS) {
        snprintf(c->reason, sizeof c->reason, "the master has no record of "
                 "the program (it ended, or the master lost it) and %s",
                 client_got_nothing(c) ? "lost it too often" :
                 "part of its output arrived: the rest is lost");
        c->done = 1;
        c->code = 2;
        return;
    }
    c->resubmits++;
    c->req_type = WIRE_SUBMIT;
    if (transport_send(c->t, c->master, WIRE_SUBMIT, c->req.p, c->req.len)) {
        snprintf(c->reason, sizeof c->reason, "cannot send the request");
        c->done = 1;
        c->code = 2;
        return;
    }
    fprintf(stderr, "dvm: the master has no record of the program and none "
            "of its output came: submitted it again\n");
}

static void on_done(client *c, const uint8_t *p, size_t len)
{
    cmsg_done d;
    c->done = 1;
    if (cmsg_decode_done(p, len, &d)) {
        snprintf(c->reason, sizeof c->reason, "%s", status_message());
        c->code = 2;
        return;
    }
    if (c->req_type == WIRE_RESUME && d.code == CMSG_DONE_NO_PROGRAM) {
        c->done = 0;
        on_no_program(c);
        return;
    }
    c->code = (int)d.code;
    if (!c->o) {                /* drain: the master's line, or its error */
        if (d.error.len)
            fprintf(stderr, "dvm: error: %.*s\n", (int)d.error.len,
                    (const char *)d.error.p);
        fwrite(d.stats.p, 1, (size_t)d.stats.len, stdout);
        return;
    }
    if (d.error.len)
        fprintf(stderr, "dvm: error: %.*s\n", (int)d.error.len,
                (const char *)d.error.p);
    else
        print_dumps(c, d.dump);
    if (d.stats.len)
        fwrite(d.stats.p, 1, (size_t)d.stats.len, stderr);
    if (c->o->trace) {
        FILE *f = fopen(c->o->trace, "w");
        int bad = !f;
        if (f) {
            bad = fwrite(d.trace.p, 1, (size_t)d.trace.len, f) != d.trace.len;
            bad |= fclose(f) != 0;
        }
        if (bad) {
            fprintf(stderr, "dvm: cannot write the trace '%s'\n", c->o->trace);
            c->code = 2;
        }
    }
}

static void on_status_reply(client *c, const uint8_t *p, size_t len)
{
    cmsg_str s;
    c->done = 1;
    if (cmsg_decode_str(p, len, &s)) {
        c->code = 2;
        return;
    }
    fwrite(s.p, 1, (size_t)s.len, stdout);
    c->code = 0;
}

static void client_on_event(void *arg, transport_event *ev)
{
    client *c = arg;
    if (ev->peer != c->master)
        return;
    if (ev->kind == TRANSPORT_UP) {
        c->up = c->joined = 1;
        const msg_buf *b = c->req_type == WIRE_RESUME ? &c->resume : &c->req;
        if (b->oom ||
            transport_send(c->t, c->master, c->req_type, b->p, b->len)) {
            snprintf(c->reason, sizeof c->reason, "cannot send the request");
            c->done = 1;
            c->code = 2;
        }
    } else if (ev->kind == TRANSPORT_DOWN) {
        c->down = 1;
        if (!c->done)
            snprintf(c->reason, sizeof c->reason, "%s: %s", c->up ?
                     "the master went away" : "cannot reach the master",
                     ev->reason ? ev->reason : "closed");
    } else if (ev->type == WIRE_OUTPUT && c->want == WIRE_DONE) {
        on_output(c, ev->data, ev->len);
    } else if (ev->type == c->want) {
        if (c->want == WIRE_DONE)
            on_done(c, ev->data, ev->len);
        else
            on_status_reply(c, ev->data, ev->len);
    } else {
        snprintf(c->reason, sizeof c->reason, "unexpected message '%s' from "
                 "the master", wire_type_name(ev->type));
        c->done = 1;
        c->code = 2;
    }
}

/* 1 when c has a deadline and it passed. */
static int client_late(const client *c)
{
    return c->deadline_ns && clock_now_ns() > c->deadline_ns;
}

static void client_wait(client *c)
{
    while (!c->done && !c->down && !client_interrupted && !client_late(c))
        transport_wait(c->t, 200);
}

/* RESUME: the program's id and what arrived of each channel. */
static void build_resume(client *c)
{
    cmsg_resume r = { .id = c->submit_id, .n = (uint32_t)c->nchan + 1 };
    for (size_t i = 0; i < c->nchan; i++) {
        r.chan[i] = i;
        r.bytes[i] = c->got[i];
    }
    r.chan[c->nchan] = CMSG_CHAN_DIAG;
    r.bytes[c->nchan] = c->got_diag;
    mb_reset(&c->resume);
    cmsg_encode_resume(&c->resume, &r);
    c->req_type = WIRE_RESUME;
}

/* The master went away mid-program: reaches it again (backoff) within
 * c->reconnect_s of the loss and resumes there, as often as it goes away;
 * gives up (c->down, c->reason) past that. */
static void client_reconnect(client *c, const char *master)
{
    uint64_t window = (uint64_t)c->reconnect_s * 1000000000ull;
    uint64_t lost = clock_now_ns();
    unsigned backoff = CLIENT_BACKOFF_MIN_MS;
    char why[sizeof c->reason];
    snprintf(why, sizeof why, "%s", c->reason);
    while (!c->done && c->down && !client_interrupted &&
           clock_now_ns() - lost < window) {
        transport_wait(c->t, (int)backoff);
        backoff = backoff * 2 > CLIENT_BACKOFF_MAX_MS ? CLIENT_BACKOFF_MAX_MS
                                                      : backoff * 2;
        build_resume(c);
        c->up = c->down = 0;
        c->reason[0] = 0;
        if (transport_connect(c->t, master, &c->master)) {
            c->down = 1;
            continue;
        }
        client_wait(c);
        if (c->up) {            /* reached it, and lost it again */
            lost = clock_now_ns();
            backoff = CLIENT_BACKOFF_MIN_MS;
            snprintf(why, sizeof why, "%s", c->reason);
        }
    }
    if (!c->done && c->down)
        snprintf(c->reason, sizeof c->reason, "%.200s (not back within %d s)",
                 why, c->reconnect_s);
}

/* Connects, sends c->req, waits for the answer.  Returns the exit code. */
static int client_exchange(client *c, const char *master,
                           const char *secret_file)
{
    auth_secret *secret;
    if (cli_load_secret(secret_file, &secret))
        return 2;
    sigstop_install(client_on_signal);
    transport_config tc = { .secret = secret, .on_event = client_on_event,
                            .arg = c };
    c->code = 2;
    dvm_status st = transport_create(&tc, &c->t);
    if (!st)
        st = transport_connect(c->t, master, &c->master);
    if (st) {
        fprintf(stderr, "dvm: %s\n", status_message());
    } else {
        client_wait(c);
        if (c->down && !c->done && c->joined && c->reconnect_s > 0)
            client_reconnect(c, master);
        if (client_interrupted && !c->done) {
            transport_close(c->t, c->master);
            for (int i = 0; i < 50 && !c->down; i++)
                transport_wait(c->t, 20);
            fprintf(stderr, "dvm: interrupted%s\n", c->o ? "; the program "
                    "was cancelled" : "");
            c->code = 130;
        } else if (!c->done && !c->down && client_late(c)) {
            fprintf(stderr, "dvm: no answer from the master in time\n");
            c->code = 2;
        } else if (c->reason[0]) {
            fprintf(stderr, "dvm: %s\n", c->reason);
            c->code = 2;
        }
    }
    transport_destroy(c->t);
    cli_free_secret(secret);
    return c->code;
}

/* ---- submit ---------------------------------------------------------------- */

static int read_whole(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 0, n = 0;
    uint8_t *b = NULL;
    for (;;) {
        uint8_t *nb = dvm_grow(b, &cap, n + 65536, 1);
        if (!nb)
            break;
        b = nb;
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    int err = ferror(f) || !b;
    fclose(f);
    if (err) {
        dvm_free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Channel index k (0 stdout, k-th out channel) -> fd of its binding. */
static int open_outputs(client *c, const dvm_program *p, const run_opts *o)
{
    c->fds = dvm_calloc(p->nchans + 1, sizeof *c->fds);
    c->names = dvm_calloc(p->nchans + 1, sizeof *c->names);
    c->unbound = dvm_calloc(p->nchans + 1, sizeof *c->unbound);
    c->got = dvm_calloc(p->nchans + 1, sizeof *c->got);
    if (!c->fds || !c->names || !c->unbound || !c->got)
        return 2;
    c->fds[0] = STDOUT_FILENO;
    c->names[0] = "stdout";
    c->nchan = 1;
    for (size_t i = 0; i < p->nchans; i++) {
        if (p->chans[i].dir != PROG_CHAN_OUT)
            continue;
        int fd = -1;
        for (size_t b = 0; b < o->nout; b++)
            if (!strcmp(o->out[b].name, p->chans[i].name) &&
                (fd = open(o->out[b].path, O_WRONLY | O_CREAT | O_TRUNC |
                           O_CLOEXEC, 0644)) < 0) {
                fprintf(stderr, "dvm: cannot open output file '%s' for "
                        "channel %s: %m\n", o->out[b].path, p->chans[i].name);
                return 2;
            }
        c->names[c->nchan] = p->chans[i].name;
        c->fds[c->nchan++] = fd;
    }
    return 0;
}

/* Closes the --out files and warns of discarded bytes.  Returns 2 when
 * output was lost (a write or a close failed: reported), else 0. */
static int close_outputs(client *c, const dvm_program *p)
{
    size_t k = 1;
    for (size_t i = 0; i < p->nchans && c->fds; i++) {
        if (p->chans[i].dir != PROG_CHAN_OUT)
            continue;
        if (c->fds[k] >= 0) {
            if (close(c->fds[k]) < 0)
                output_failed(c, "closing the file of", k);
        } else if (c->unbound[k])
            fprintf(stderr, "dvm: warning: %" PRIu64 " bytes written to "
                    "unbound channel '%s' were discarded (bind it with "
                    "--out %s=FILE)\n", c->unbound[k], p->chans[i].name,
                    p->chans[i].name);
        k++;
    }
    dvm_free(c->fds);
    dvm_free(c->names);
    dvm_free(c->unbound);
    dvm_free(c->got);
    return c->out_failed ? 2 : 0;
}

/* Builds the SUBMIT request.  Returns 0 or 2 (message printed). */
static int build_submit(client *c, const dvm_program *p, const run_opts *o,
                        const uint64_t *addr, const uint64_t *count,
                        uint8_t **bufs)
{
    cmsg_submit s;
    memset(&s, 0, sizeof s);
    s.engine = (cmsg_str){ (const uint8_t *)o->engine, strlen(o->engine) };
    s.flags = (o->stats ? CMSG_SUBMIT_STATS : 0) |
              (o->trace ? CMSG_SUBMIT_TRACE : 0);
    uint8_t *img;
    size_t imglen;
    if (image_serialize(p, &img, &imglen)) {
        fprintf(stderr, "dvm: %s\n", status_message());
        return 2;
    }
    s.image = (cmsg_str){ img, imglen };
    for (size_t i = 0; i < o->nin; i++) {
        size_t n;
        if (read_whole(o->in[i].path, &bufs[i], &n)) {
            fprintf(stderr, "dvm: cannot read input file '%s': %m\n",
                    o->in[i].path);
            dvm_free(img);
            return 2;
        }
        s.in[s.nin].name = (cmsg_str){ (const uint8_t *)o->in[i].name,
                                       strlen(o->in[i].name) };
        s.in[s.nin++].data = (cmsg_str){ bufs[i], n };
    }
    for (size_t i = 0; i < o->ndumps; i++)
        s.dump[s.ndump++] = (cmsg_dump){ addr[i],
                                         count[i] *
                                         isa_type_bytes[o->dumps[i].type] };
    mb_init(&c->req);
    cmsg_encode_submit(&c->req, &s);
    dvm_free(img);
    return 0;
}

int cmd_submit(int argc, char **argv)
{
    run_opts o;
    int rc = run_opts_init(&o, "submit", argc, argv);
    if (rc)
        return rc;
    if (o.nin > CMSG_MAX_INPUTS) {
        fprintf(stderr, "dvm submit: at most %d input bindings\n",
                CMSG_MAX_INPUTS);
        return 2;
    }
    dvm_program *p;
    if (asm_load_program(o.path, stderr, &p))
        return 2;
    uint64_t addr[RUN_MAX_DUMPS], count[RUN_MAX_DUMPS];
    uint8_t *bufs[RUN_MAX_BINDINGS] = { NULL };
    client c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    c.dump_count = count;
    c.want = WIRE_DONE;
    c.req_type = WIRE_SUBMIT;
    rc = run_check(p, &o, addr, count);
    if (!rc)
        rc = open_outputs(&c, p, &o);
    if (!rc)
        rc = build_submit(&c, p, &o, addr, count, bufs);
    mb_init(&c.resume);
    if (!rc) {
        c.submit_id = cmsg_submit_id(c.req.p, c.req.len);
        c.reconnect_s = c.nchan < CMSG_MAX_CHANS ? o.reconnect_s : 0;
        rc = client_exchange(&c, o.master, o.secret_file);
    }
    if (close_outputs(&c, p) && rc != 130)
        rc = 2;                 /* output lost: as dvm run would end */
    run_close_inputs(&o);
    if (o.stdin_fd >= 0)
        close(o.stdin_fd);
    for (size_t i = 0; i < o.nin; i++)
        dvm_free(bufs[i]);
    mb_free(&c.req);
    mb_free(&c.resume);
    program_free(p);
    return rc;
}

/* ---- status ------------------------------------------------------------------ */

int cmd_status(int argc, char **argv)
{
    const char *master = NULL, *secret = NULL;
    uint64_t json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--json")) {
            json = 1;
            continue;
        }
        if (v && !strcmp(argv[i], "--master"))
            master = v;
        else if (v && !strcmp(argv[i], "--secret-file"))
            secret = v;
        else
            master = NULL, i = argc;
        i++;
    }
    if (!master) {
        fprintf(stderr, "usage: dvm status --master HOST:PORT [--secret-file "
                "F] [--json]\n");
        return 2;
    }
    client c;
    memset(&c, 0, sizeof c);
    c.want = WIRE_STATUS;
    c.req_type = WIRE_STATUS_REQ;
    mb_init(&c.req);
    cmsg_encode_u64s(&c.req, &json, 1);
    int rc = client_exchange(&c, master, secret);
    mb_free(&c.req);
    return rc;
}

/* ---- drain ------------------------------------------------------------------- */

/* Beyond the node's drain wait: its DONE going up, the master closing it
 * (or, when it is silent, giving it up after the heartbeat bound). */
#define DRAIN_MARGIN_MS 20000

/* Says what is wrong (msg, and arg when given) and how to use the
 * command.  Returns 2. */
static int drain_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "dvm node: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: dvm node --drain NAME --master HOST:PORT "
            "[--secret-file F] [--drain-wait SECONDS]\n");
    return 2;
}

int cmd_drain(int argc, char **argv)
{
    const char *master = NULL, *secret = NULL, *name = NULL;
    int64_t wait_ms = CMSG_LEAVE_WAIT_MS;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return drain_usage("unknown option or missing value", a);
        if (!strcmp(a, "--drain"))
            name = v;
        else if (!strcmp(a, "--master"))
            master = v;
        else if (!strcmp(a, "--secret-file"))
            secret = v;
        else if (!strcmp(a, "--drain-wait")) {
            if (cli_parse_seconds(v, 0, 3600, &wait_ms))
                return drain_usage("bad drain wait (0..3600 seconds)", v);
        } else
            return drain_usage("unknown option", a);
    }
    if (!name || !master)
        return drain_usage("--drain NAME and --master HOST:PORT are "
                           "required", NULL);
    client c;
    memset(&c, 0, sizeof c);
    c.want = WIRE_DONE;
    c.req_type = WIRE_DRAIN;
    c.deadline_ns = clock_now_ns() +
                    (uint64_t)(wait_ms + DRAIN_MARGIN_MS) * 1000000ull;
    mb_init(&c.req);
    cmsg_encode_drain(&c.req, name, strlen(name));
    cmsg_str check;             /* the master would refuse it: said here */
    if (!c.req.oom && cmsg_decode_drain(c.req.p, c.req.len, &check)) {
        char why[64];
        snprintf(why, sizeof why, "bad node name (1..%d of A-Z a-z 0-9 . _ "
                 "-)", CMSG_MAX_NODE_LABEL);
        mb_free(&c.req);
        return drain_usage(why, name);
    }
    int rc = client_exchange(&c, master, secret);
    mb_free(&c.req);
    return rc;
}
