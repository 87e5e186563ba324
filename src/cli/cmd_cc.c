/*
 * cmd_cc.c -- `dvm cc` (C0.md section 11): compile c0 files to DISA text,
 * and the compile step of `dvm run PROG.c0`.
 *
 * The generated text is checked by assembling it before it is written, so
 * `asm` statements the assembler rejects are compile errors; an assembler
 * diagnostic is mapped back to the c0 line through the `# FILE:LINE`
 * comments the code generator puts before each statement.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm/asm.h"
#include "cc/cc.h"
#include "cli/cli.h"
#include "util/alloc.h"

#define CC_MAX_ARGS CC_MAX_OPTS

/* "-NAME": the form cc_opts uses for -U NAME (the string outlives the
 * compilation: it is freed at exit). */
static const char *strdup_undef(const char *v)
{
    size_t n = strlen(v);
    char *s = malloc(n + 2);
    if (!s)
        return v;
    s[0] = '-';
    memcpy(s + 1, v, n + 1);
    return s;
}

static int cc_usage(const char *msg, const char *arg)
{
    if (msg)
        fprintf(stderr, "dvm cc: %s%s%s\n", msg, arg ? ": " : "",
                arg ? arg : "");
    fprintf(msg ? stderr : stdout,
            "usage: dvm cc [options] FILE.c0... [-o OUT.dasm]\n"
            "  -o OUT              output (default: FILE.dasm; - for stdout)\n"
            "  -I DIR              add an include directory\n"
            "  -D NAME[=VALUE]     define a macro;  -U NAME  undefine it\n"
            "  -E                  preprocess only\n"
            "  -w                  no warnings;  -Werror  warnings are errors\n"
            "  -h, --help, --version\n");
    return msg ? 2 : 0;
}

/* Whether argv[*i] is a compile option (-I -D -U -w -Werror -E); if so it
 * is recorded in o (taking its value) and *i advanced past it.  Returns 1
 * recognised, 0 not a compile option, -1 a missing value. */
int cc_parse_option(cc_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "-w")) {
        o->no_warnings = 1;
        return 1;
    }
    if (!strcmp(a, "-Werror")) {
        o->werror = 1;
        return 1;
    }
    if (!strcmp(a, "-E")) {
        o->preprocess_only = 1;
        return 1;
    }
    if (a[0] != '-' || !strchr("IDU", a[1]) || !a[1])
        return 0;
    const char *v = a[2] ? a + 2 : *i + 1 < argc ? argv[++*i] : NULL;
    if (!v)
        return -1;
    if (a[1] == 'I') {
        if (o->nincdirs == CC_MAX_ARGS)
            return -1;
        o->incdirs[o->nincdirs++] = v;
        return 1;
    }
    if (o->ndefines == CC_MAX_ARGS)
        return -1;
    o->defines[o->ndefines++] = a[1] == 'U' ? strdup_undef(v) : v;
    return 1;
}

/* Maps an assembler diagnostic "NAME:LINE:COL: error: MSG" of the
 * generated text back to the c0 source through the line comments. */
static void report_asm_error(const char *text, const char *line)
{
    const char *p = strchr(line, ':');
    long ln = p ? strtol(p + 1, NULL, 10) : 0;
    const char *msg = strstr(line, "error: ");
    msg = msg ? msg + 7 : line;
    const char *where = NULL;
    int where_len = 0;
    long cur = 1;
    for (const char *s = text; *s && cur <= ln; cur++) {
        const char *e = strchr(s, '\n');
        if (!e)
            e = s + strlen(s);
        const char *c = s;
        while (c < e && *c == ' ')
            c++;
        if (c + 2 < e && c[0] == '#' && c[1] == ' ' && c[2] != ' ') {
            const char *colon = memchr(c + 2, ':', (size_t)(e - c - 2));
            const char *colon2 = colon ? memchr(colon + 1, ':',
                                                (size_t)(e - colon - 1))
                                       : NULL;
            if (colon2) {
                where = c + 2;
                where_len = (int)(colon2 - where);
            }
        }
        s = *e ? e + 1 : e;
    }
    if (where)
        fprintf(stderr, "%.*s:1: error: in asm: %s", where_len, where, msg);
    else
        fprintf(stderr, "dvm cc: error: internal compiler error: the "
                        "generated code does not assemble: %s", msg);
}

/* Compiles files with o; on success *text owns the DISA text.  Prints
 * the diagnostics; returns 0 or 2. */
int cc_build(const cc_opts *o, const char *const *files, size_t n,
             char **text, size_t *len)
{
    char *t;
    size_t tl;
    if (cc_compile(o, files, n, stderr, &t, &tl))
        return 2;
    if (o->preprocess_only) {
        *text = t;
        *len = tl;
        return 0;
    }
    char *diag = NULL;
    size_t dlen = 0;
    FILE *d = open_memstream(&diag, &dlen);
    if (!d) {
        dvm_free(t);
        fprintf(stderr, "dvm cc: error: out of memory\n");
        return 2;
    }
    dvm_program *p;
    dvm_status st = asm_assemble_string("<generated>", t, tl, d, &p);
    fclose(d);
    if (st) {
        char *nl = strchr(diag ? diag : "", '\n');
        if (nl)
            nl[1] = '\0';
        report_asm_error(t, diag ? diag : "");
        free(diag);
        dvm_free(t);
        return 2;
    }
    free(diag);
    program_free(p);
    *text = t;
    *len = tl;
    return 0;
}

static char *default_output(const char *in)
{
    size_t n = strlen(in);
    const char *dot = strrchr(in, '.');
    const char *slash = strrchr(in, '/');
    if (dot && (!slash || dot > slash) &&
        (!strcmp(dot, ".c0") || !strcmp(dot, ".c")))
        n = (size_t)(dot - in);
    char *s = dvm_malloc(n + 6);
    if (s) {
        memcpy(s, in, n);
        strcpy(s + n, ".dasm");
    }
    return s;
}

static int write_output(const char *path, const char *text, size_t len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "dvm cc: cannot write '%s'\n", path);
        return 2;
    }
    int bad = fwrite(text, 1, len, f) != len;
    if (f != stdout)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    if (bad) {
        fprintf(stderr, "dvm cc: cannot write '%s'\n", path);
        if (f != stdout)
            remove(path);
        return 2;
    }
    return 0;
}

int cmd_cc(int argc, char **argv)
{
    static const char *incs[CC_MAX_ARGS], *defs[CC_MAX_ARGS];
    static const char *files[CC_MAX_ARGS];
    cc_opts o = {.incdirs = incs, .defines = defs};
    size_t nfiles = 0;
    const char *outp = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cc_parse_option(&o, argc, argv, &i);
        if (r < 0)
            return cc_usage("option needs a value (or too many)", a);
        if (r)
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return cc_usage(NULL, NULL);
        if (!strcmp(a, "--version")) {
            printf("dvm cc (c0 1.0)\n");
            return 0;
        }
        if (!strcmp(a, "-o")) {
            if (i + 1 >= argc)
                return cc_usage("-o needs a file", NULL);
            outp = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cc_usage("unknown option", a);
        } else if (nfiles == CC_MAX_ARGS) {
            return cc_usage("too many files", a);
        } else {
            files[nfiles++] = a;
        }
    }
    if (!nfiles)
        return cc_usage("no input file", NULL);
    char *text;
    size_t len;
    if (cc_build(&o, files, nfiles, &text, &len))
        return 2;
    char *def = NULL;
    if (!outp)
        outp = o.preprocess_only ? "-" : (def = default_output(files[0]));
    int rc = outp ? write_output(outp, text, len) : 2;
    dvm_free(def);
    dvm_free(text);
    return rc;
}
