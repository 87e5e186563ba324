/*
 * cmd_run.c -- `dvm run`: run a program to completion on an embedded
 * single-host DVM (DISA.md section 9).
 *
 * Everything that can be checked before the run is checked before the run:
 * options, the program (assembled or loaded), channel bindings (a bound
 * input file that cannot be read is an error before anything runs), dump
 * expressions.  Then the master runs the program; its output is emitted
 * while it runs; the dumps are printed after the run and all its output.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asm/asm.h"
#include "cli/cli.h"
#include "cli/cmd_run.h"
#include "exec/jit.h"
#include "isa/isa.h"
#include "sched/master.h"
#include "util/alloc.h"

static int run_usage(const run_opts *o, const char *msg, const char *arg)
{
    fprintf(stderr, "dvm %s: %s%s%s\n", o->cmd, msg, arg ? ": " : "",
            arg ? arg : "");
    if (!strcmp(o->cmd, "submit"))
        fprintf(stderr, "usage: dvm submit --master HOST:PORT [--secret-file "
                "F] [options of dvm run] PROG.dasm|PROG.dvm\n");
    else
    fprintf(stderr, "usage: dvm run [-n N] [--engine interp|jit] [--dump "
            "ADDR:COUNT:TYPE]... [--in NAME=FILE]... [--out NAME=FILE]... "
            "[--stats] [--trace FILE] PROG.dasm|PROG.dvm\n");
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

int run_parse_args(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-n") || !strcmp(a, "--rcomps") ||
                    !strcmp(a, "--engine") || !strcmp(a, "--dump") ||
                    !strcmp(a, "--in") || !strcmp(a, "--out") ||
                    !strcmp(a, "--trace") || !strcmp(a, "--master") ||
                    !strcmp(a, "--secret-file");
        int submit = !strcmp(o->cmd, "submit");
        if (takes && !v)
            return run_usage(o, "option needs a value", a);
        if (!strcmp(a, "-n") || !strcmp(a, "--rcomps")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 1024)
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
        } else if (submit && !strcmp(a, "--master")) {
            o->master = v;
        } else if (submit && !strcmp(a, "--secret-file")) {
            o->secret_file = v;
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
    if (!strcmp(o->cmd, "submit") && !o->master)
        return run_usage(o, "--master HOST:PORT is required", NULL);
    return o->path ? 0 : run_usage(o, "no program given", NULL);
}

static const prog_channel *find_channel(const dvm_program *p, const char *n)
{
    for (size_t i = 0; i < p->nchans; i++)
        if (!strcmp(p->chans[i].name, n))
            return &p->chans[i];
    return NULL;
}

/* Checks bindings against the program's channels; input files must be
 * readable now. */
static int check_bindings(const dvm_program *p, const run_opts *o)
{
    for (size_t i = 0; i < o->nin + o->nout; i++) {
        int in = i < o->nin;
        const master_binding *b = in ? &o->in[i] : &o->out[i - o->nin];
        const prog_channel *c = find_channel(p, b->name);
        if (!c || c->dir != (in ? PROG_CHAN_IN : PROG_CHAN_OUT)) {
            fprintf(stderr, "dvm: %s: the program declares no %s channel "
                    "'%s'\n", o->path, in ? "input" : "output", b->name);
            return 2;
        }
        if (in && access(b->path, R_OK) != 0) {
            fprintf(stderr, "dvm: cannot read input file '%s' for channel "
                    "'%s': %m\n", b->path, b->name);
            return 2;
        }
    }
    return 0;
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

static void print_dumps(const master *m, const run_opts *o,
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
    fflush(stdout);
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

int run_check(const dvm_program *p, const run_opts *o, uint64_t *addr,
              uint64_t *count)
{
    int rc = check_code(p, o);
    if (rc || (rc = check_bindings(p, o)))
        return rc;
    return resolve_dumps(p, o, addr, count);
}

int run_self_exe(char *buf, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    if (k <= 0)
        return fprintf(stderr, "dvm: cannot find my own binary\n"), 2;
    buf[k] = '\0';
    return 0;
}

static int run_program(const dvm_program *p, const run_opts *o)
{
    uint64_t addr[RUN_MAX_DUMPS], count[RUN_MAX_DUMPS];
    int rc = run_check(p, o, addr, count);
    if (rc)
        return rc;
    char self[4096];
    if (run_self_exe(self, sizeof self))
        return 2;
    master_config cfg = { .prog = p, .self_exe = self,
                          .nrcomps = o->nrcomps, .engine = o->engine,
                          .in = o->in, .nin = o->nin, .out = o->out,
                          .nout = o->nout, .trace_path = o->trace,
                          .progress = isatty(2) };
    master *m;
    if (master_create(&cfg, &m)) {
        fprintf(stderr, "dvm: %s\n", status_message());
        return 2;
    }
    dvm_status st = master_run(m);
    if (st)
        fprintf(stderr, "dvm: error: %s\n", status_message());
    else
        print_dumps(m, o, addr, count);
    if (o->stats)
        master_print_stats(m);
    rc = st ? 2 : master_get_stats(m)->runners_faulted ? 1 : 0;
    master_destroy(m);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = run_opts_init(&o, "run", argc, argv);
    if (rc)
        return rc;
    dvm_program *p;
    if (asm_load_program(o.path, stderr, &p))
        return 2;
    rc = run_program(p, &o);
    program_free(p);
    return rc;
}
