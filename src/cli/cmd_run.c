/*
 * cmd_run.c -- `dvm run`: run a program to completion on an embedded
 * single-host DVM (DISA.md section 9).
 *
 * Everything that can be checked before the run is checked before the run:
 * options, the program (assembled or loaded), channel bindings (a bound
 * input file that cannot be read, is a directory or does not fit its
 * window is an error before anything runs; a pipe is read whole first, see
 * io/input.h), dump expressions.  Then the master runs the program; its
 * output is emitted while it runs; the dumps are printed after the run and
 * all its output.
 *
 * `--in NAME=-` (DISA 1.1) binds standard input, read whole before the run
 * into one memfd that every binding to `-` shares.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asm/asm.h"
#include "cc/cc.h"
#include "cli/cli.h"
#include "cli/srcmap.h"
#include "cli/cmd_run.h"
#include "exec/jit.h"
#include "io/input.h"
#include "isa/isa.h"
#include "sched/master.h"
#include "util/alloc.h"
#include "util/exe.h"
#include "util/stdfds.h"

static int run_usage(const run_opts *o, const char *msg, const char *arg)
{
    fprintf(stderr, "dvm %s: %s%s%s\n", o->cmd, msg, arg ? ": " : "",
            arg ? arg : "");
    if (!strcmp(o->cmd, "submit"))
        fprintf(stderr, "usage: dvm submit --master HOST:PORT [--secret-file "
                "F] [--reconnect SECONDS] [options of dvm run] "
                "PROG.dasm|PROG.dvm\n");
    else
    fprintf(stderr, "usage: dvm run [-n N] [--engine interp|jit] [--dump "
            "ADDR:COUNT:TYPE]... [--in NAME=FILE|-]... [--in-wait SECONDS] "
            "[--max-runners N] [--heartbeat SECONDS] [--local-children] "
            "[--out NAME=FILE]... [--stats] [--trace FILE] "
            "[--http ADDR [--linger SECONDS]] "
            "PROG.dasm|PROG.dvm\n");
    return 2;
}

/* Splits "ADDR:COUNT:TYPE" (the last two colons) into d, cutting s there;
 * on failure returns -1 and leaves s whole (it is quoted in the message). */
static int parse_dump(char *s, run_dump *d)
{
    char *t = strrchr(s, ':');
    if (!t || t == s)
        return -1;
    *t = '\0';
    char *c = strrchr(s, ':');
    int type = isa_type_lookup(t + 1, strlen(t + 1));
    if (!c || c == s || c + 1 == t || type < 0) {
        *t = ':';
        return -1;
    }
    *t = *c = '\0';
    d->type = type;
    d->addr_expr = s;
    d->count_expr = c + 1;
    return 0;
}

static int parse_binding(char *s, master_binding *b)
{
    char *eq = strchr(s, '=');
    if (!eq || eq == s || !eq[1])
        return -1;
    *eq = '\0';
    b->name = s;
    b->path = eq + 1;
    return 0;
}

/* Parses v as a decimal number in [lo, hi]; returns 0 and sets *n, or -1. */
static int parse_number(const char *v, unsigned long long lo,
                        unsigned long long hi, unsigned long long *n)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || end == v || v[0] == '-' || x < lo || x > hi)
        return -1;
    *n = x;
    return 0;
}

int run_parse_args(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-n") || !strcmp(a, "--rcomps") ||
                    !strcmp(a, "--engine") || !strcmp(a, "--dump") ||
                    !strcmp(a, "--in") || !strcmp(a, "--out") ||
                    !strcmp(a, "--trace") || !strcmp(a, "--in-wait") ||
                    !strcmp(a, "--max-runners") ||
                    !strcmp(a, "--heartbeat") || !strcmp(a, "--http") ||
                    !strcmp(a, "--linger") || !strcmp(a, "--master") ||
                    !strcmp(a, "--secret-file") || !strcmp(a, "--reconnect");
        int submit = !strcmp(o->cmd, "submit");
        if (takes && !v)
            return run_usage(o, "option needs a value", a);
        unsigned long long n;
        int cr = cc_parse_option(&o->cc, argc, argv, &i);
        if (cr < 0 || (cr > 0 && o->cc.preprocess_only))
            return run_usage(o, "bad compile option", a);
        if (cr > 0)
            continue;
        if (!strcmp(a, "-n") || !strcmp(a, "--rcomps")) {
            if (parse_number(v, 1, 1024, &n))
                return run_usage(o, "bad RComp count (1..1024)", v);
            o->nrcomps = (int)n;
        } else if (!strcmp(a, "--engine")) {
            if (strcmp(v, "interp") && strcmp(v, "jit"))
                return run_usage(o, "unknown engine (interp, jit)", v);
            o->engine = v;
        } else if (!strcmp(a, "--dump")) {
            if (o->ndumps == RUN_MAX_DUMPS ||
                parse_dump(argv[i + 1], &o->dumps[o->ndumps++]))
                return run_usage(o, "bad --dump (ADDR:COUNT:TYPE, TYPE one of "
                                 "b w d q ub uw ud uq f)", v);
        } else if (!strcmp(a, "--in") || !strcmp(a, "--out")) {
            int in = !strcmp(a, "--in");
            size_t *n = in ? &o->nin : &o->nout;
            master_binding *b = in ? o->in : o->out;
            if (*n == RUN_MAX_BINDINGS || parse_binding(argv[i + 1], &b[*n]))
                return run_usage(o, "bad binding (NAME=FILE)", v);
            (*n)++;
        } else if (!strcmp(a, "--trace")) {
            o->trace = v;
        } else if (!strcmp(a, "--max-runners")) {
            if (parse_number(v, 1, 1ULL << 32, &n))
                return run_usage(o, "bad --max-runners (1..4294967296)", v);
            o->max_runners = n;
        } else if (!strcmp(a, "--heartbeat") || !strcmp(a, "--in-wait")) {
            if (parse_number(v, 1, 86400, &n))
                return run_usage(o, "bad number of seconds (1..86400)", v);
            *(a[2] == 'h' ? &o->heartbeat_s : &o->in_wait_s) = (int)n;
        } else if (!strcmp(a, "--http")) {
            o->http = v;
        } else if (!strcmp(a, "--linger")) {
            char *end;
            o->linger = strtod(v, &end);
            if (*end || !(o->linger >= 0 && o->linger <= 86400))
                return run_usage(o, "bad --linger (seconds, 0..86400)", v);
        } else if (submit && !strcmp(a, "--master")) {
            o->master = v;
        } else if (submit && !strcmp(a, "--secret-file")) {
            o->secret_file = v;
        } else if (submit && !strcmp(a, "--reconnect")) {
            if (parse_number(v, 0, 86400, &n))
                return run_usage(o, "bad --reconnect (seconds, 0..86400)", v);
            o->reconnect_s = (int)n;
        } else if (!submit && !strcmp(a, "--local-children")) {
            o->local_children = 1;
            continue;
        } else if (!strcmp(a, "--stats")) {
            o->stats = 1;
            continue;
        } else if (a[0] == '-' && a[1]) {
            return run_usage(o, "unknown option", a);
        } else if (o->path) {
            return run_usage(o, "more than one program", a);
        } else {
            o->path = a;
            continue;
        }
        i++;
    }
    if (o->linger > 0 && !o->http)
        return run_usage(o, "--linger needs --http", NULL);
    if (!strcmp(o->cmd, "submit") && !o->master)
        return run_usage(o, "--master HOST:PORT is required", NULL);
    return o->path ? 0 : run_usage(o, "no program given", NULL);
}

/* True when the channel of b[k] was bound before, in b[0..k). */
static int bound_before(const master_binding *b, size_t k)
{
    for (size_t j = 0; j < k; j++)
        if (!strcmp(b[j].name, b[k].name))
            return 1;
    return 0;
}

/* The bytes the window of input channel c holds (DISA.md 8.2: its length
 * at ADDR, its bytes from ADDR + 8 up to the system page). */
static uint64_t input_window(const prog_channel *c)
{
    return c->addr + 8 < DISA_SYSPAGE ? DISA_SYSPAGE - c->addr - 8 : 0;
}

/* Opens input binding i, which the RComps then read as /dev/fd/N: a
 * file that cannot be read, a directory, a file larger than its window,
 * a pipe that does not end, are errors now.  Returns 0 or 2 (printed). */
/* `--in NAME=-` (DISA 1.1): standard input, read whole once (like any
 * pipe) into one memfd that every binding to `-` shares through a
 * descriptor of its own.  A process started without standard input has no
 * bytes to give: that is an error, not an empty channel. */
static dvm_status open_stdin(const prog_channel *c, run_opts *o, size_t i)
{
    if (stdfds_was_closed(0))
        return status_set(DVM_EIO, "cannot read standard input for --in "
                          "%s=-: it is closed", o->in[i].name);
    if (o->stdin_fd < 0 &&
        io_input_slurp(0, "standard input", IO_INPUT_SLURP_MAX,
                       o->in_wait_s * 1000, &o->stdin_fd))
        return DVM_EIO;
    struct stat sb;
    if (fstat(o->stdin_fd, &sb) < 0)
        return status_set_errno(DVM_ESYS, "standard input");
    if ((uint64_t)sb.st_size > input_window(c))
        return status_set(DVM_ERANGE, "standard input (%lld bytes) does not "
                          "fit the window of channel '%s' (%llu bytes)",
                          (long long)sb.st_size, o->in[i].name,
                          (unsigned long long)input_window(c));
    o->infd[i] = dup(o->stdin_fd);
    if (o->infd[i] < 0)
        return status_set_errno(DVM_ESYS, "standard input");
    return DVM_OK;
}

static int open_input(const prog_channel *c, run_opts *o, size_t i)
{
    uint64_t len;
    dvm_status st = !strcmp(o->in[i].path, "-")
        ? open_stdin(c, o, i)
        : io_input_open(o->in[i].path, o->in[i].name, input_window(c),
                        o->in_wait_s * 1000, &o->infd[i], &len);
    if (st) {
        fprintf(stderr, "dvm: %s\n", status_message());
        return 2;
    }
    io_input_path(o->infd[i], o->inpath[i]);
    o->in[i].path = o->inpath[i];
    return 0;
}

/* Checks bindings against the program's channels (each bound once) and
 * opens the input files (open_input). */
static int check_bindings(const dvm_program *p, run_opts *o)
{
    for (size_t i = 0; i < o->nin + o->nout; i++) {
        int in = i < o->nin;
        const master_binding *b = in ? &o->in[i] : &o->out[i - o->nin];
        if (bound_before(in ? o->in : o->out, in ? i : i - o->nin)) {
            fprintf(stderr, "dvm: channel '%s' is bound twice (--%s %s=...)"
                    "\n", b->name, in ? "in" : "out", b->name);
            return 2;
        }
        const prog_channel *c = program_channel(p, b->name, strlen(b->name));
        if (!c || c->dir != (in ? PROG_CHAN_IN : PROG_CHAN_OUT)) {
            fprintf(stderr, "dvm: %s: the program declares no %s channel "
                    "'%s'\n", o->path, in ? "input" : "output", b->name);
            return 2;
        }
        if (in && open_input(c, o, i))
            return 2;
    }
    return 0;
}

void run_close_inputs(run_opts *o)
{
    for (size_t i = 0; i < o->nin; i++)
        if (o->infd[i] >= 0)
            close(o->infd[i]);
}

/* Refuses a program with no instructions at all (an empty source file):
 * its first runner could only fault.  Returns 0 or 2 (message printed). */
static int check_code(const dvm_program *p, const run_opts *o)
{
    for (size_t i = 0; i < p->nsegs; i++)
        if (p->segs[i].ninsns)
            return 0;
    fprintf(stderr, "dvm: %s: the program has no instructions\n", o->path);
    return 2;
}

/* Resolves dump expressions; returns 0 or 2 (message printed). */
static int resolve_dumps(const dvm_program *p, const run_opts *o,
                         uint64_t *addr, uint64_t *count)
{
    for (size_t i = 0; i < o->ndumps; i++) {
        const run_dump *d = &o->dumps[i];
        if (asm_eval_expr(p, d->addr_expr, &addr[i]) ||
            asm_eval_expr(p, d->count_expr, &count[i])) {
            fprintf(stderr, "dvm: --dump: %s\n", status_message());
            return 2;
        }
        unsigned w = isa_type_bytes[d->type];
        if (addr[i] >= DISA_ADDR_LIMIT || count[i] > (1u << 28) ||
            count[i] * w > DISA_ADDR_LIMIT - addr[i]) {
            fprintf(stderr, "dvm: --dump %s:%s: the range is outside the "
                    "2^46-byte address space (or longer than 2^28 values)\n",
                    d->addr_expr, d->count_expr);
            return 2;
        }
    }
    return 0;
}

void run_print_value(int type, const uint8_t *b)
{
    uint64_t u = 0;
    unsigned w = isa_type_bytes[type];
    for (unsigned k = 0; k < w; k++)
        u |= (uint64_t)b[k] << (8 * k);
    if (isa_type_float[type]) {
        double d;
        memcpy(&d, &u, 8);
        printf("%.17g\n", d);
    } else if (isa_type_signed[type]) {
        unsigned sh = 64 - 8 * w;
        printf("%" PRId64 "\n", (int64_t)(u << sh) >> sh);
    } else {
        printf("%" PRIu64 "\n", u);
    }
}

/* Prints the dumps; returns 0, or 2 with a message when standard output
 * could not be written. */
static int print_dumps(const master *m, const run_opts *o,
                       const uint64_t *addr, const uint64_t *count)
{
    fflush(stdout);
    for (size_t i = 0; i < o->ndumps; i++) {
        unsigned w = isa_type_bytes[o->dumps[i].type];
        for (uint64_t k = 0; k < count[i]; k++) {
            uint8_t b[8];
            master_read(m, addr[i] + k * w, b, w);
            run_print_value(o->dumps[i].type, b);
        }
    }
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "dvm: error writing standard output: %m\n");
    return 2;
}

static int default_rcomps(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

int run_opts_init(run_opts *o, const char *cmd, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->cc.incdirs = o->incs;
    o->cc.defines = o->defs;
    o->in_wait_s = RUN_IN_WAIT_S;
    o->reconnect_s = RUN_RECONNECT_S;
    o->stdin_fd = -1;
    for (size_t i = 0; i < RUN_MAX_BINDINGS; i++)
        o->infd[i] = -1;
    o->nrcomps = default_rcomps();
    o->engine = jit_available() ? "jit" : "interp";
    int rc = run_parse_args(argc, argv, o);
    if (rc)
        return rc;
    if (!strcmp(o->engine, "jit") && !jit_available()) {
        fprintf(stderr, "dvm: the jit engine is not built in; use --engine "
                "interp\n");
        return 2;
    }
    return 0;
}

int run_check(const dvm_program *p, run_opts *o, uint64_t *addr,
              uint64_t *count)
{
    int rc = check_code(p, o);
    if (rc || (rc = check_bindings(p, o)))
        return rc;
    return resolve_dumps(p, o, addr, count);
}

/* Whether the RComps may start a committed runner's child at once
 * (sched/local.h): --local-children, or DVM_LOCAL_CHILDREN=1 in the
 * environment (how the test suites run every program both ways); the
 * default is off (docs/local_children.md says why). */
static int run_local_children(const run_opts *o)
{
    const char *v = getenv("DVM_LOCAL_CHILDREN");
    return o->local_children || (v && !strcmp(v, "1"));
}

int run_rcomp_exe(char *buf, size_t n)
{
    if (exe_rcomp(buf, n) < 0)
        return fprintf(stderr, "dvm: cannot find my own binary\n"), 2;
    return 0;
}

static int run_program(const dvm_program *p, run_opts *o)
{
    uint64_t addr[RUN_MAX_DUMPS], count[RUN_MAX_DUMPS];
    int rc = run_check(p, o, addr, count);
    if (rc)
        return rc;
    char rcomp_exe[4096];
    if (run_rcomp_exe(rcomp_exe, sizeof rcomp_exe))
        return 2;
    cli_serve sv;
    if ((rc = serve_start(o->http, &sv)))
        return rc;
    master_config cfg = { .prog = p, .rcomp_exe = rcomp_exe,
                          .nrcomps = o->nrcomps, .engine = o->engine,
                          .local_children = run_local_children(o),
                          .in = o->in, .nin = o->nin, .out = o->out,
                          .nout = o->nout, .trace_path = o->trace,
                          .progress = isatty(2),
                          .max_runners = o->max_runners,
                          .heartbeat_s = o->heartbeat_s, .obs = sv.obs,
                          .fault_note = o->srcmap ? srcmap_note : NULL,
                          .fault_note_arg = o->srcmap };
    master *m;
    if (master_create(&cfg, &m)) {
        fprintf(stderr, "dvm: %s\n", status_message());
        serve_stop(&sv, 0);
        return 2;
    }
    dvm_status st = master_run(m);
    dvm_status closed = master_close_outputs(m);    /* before the dumps */
    if (!st)
        st = closed;            /* else the run's own error is the one */
    int dumped = 0;
    if (st)
        fprintf(stderr, "dvm: error: %s\n", status_message());
    else
        dumped = print_dumps(m, o, addr, count);
    if (o->stats)
        master_print_stats(m);
    rc = st || dumped ? 2 : master_get_stats(m)->runners_faulted ? 1 : 0;
    master_destroy(m);
    serve_stop(&sv, o->linger);
    return rc;
}

static int is_c0(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && (!strcmp(dot, ".c0") || !strcmp(dot, ".c"));
}

int run_load(run_opts *o, dvm_program **p, srcmap **map)
{
    *map = NULL;
    if (!is_c0(o->path))
        return asm_load_program(o->path, stderr, p) ? 2 : 0;
    char *text, *marked;
    size_t len, mlen;
    if (cc_build(&o->cc, &o->path, 1, &text, &len))
        return 2;
    dvm_status st = srcmap_annotate(text, len, &marked, &mlen, map);
    dvm_free(text);
    if (st) {
        fprintf(stderr, "dvm: %s\n", status_message());
        return 2;
    }
    st = asm_assemble_string(o->path, marked, mlen, stderr, p);
    dvm_free(marked);
    if (st) {
        srcmap_free(*map);
        *map = NULL;
        return 2;
    }
    srcmap_resolve(*map, *p);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = run_opts_init(&o, "run", argc, argv);
    if (rc)
        return rc;
    dvm_program *p;
    srcmap *map;
    if (run_load(&o, &p, &map))
        return 2;
    o.srcmap = map;
    rc = run_program(p, &o);
    srcmap_free(map);
    run_close_inputs(&o);
    if (o.stdin_fd >= 0)
        close(o.stdin_fd);
    program_free(p);
    return rc;
}
