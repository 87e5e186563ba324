/*
 * srcmap.c -- fault addresses back to c0 lines (see srcmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/srcmap.h"
#include "util/alloc.h"

#define SRCMAP_LABEL "c0.src."

typedef struct srcmap_stmt {
    uint64_t addr;              /* UINT64_MAX until resolved */
    char *file;                 /* owned */
    unsigned long line;
    char *func;                 /* owned; NULL outside a function */
} srcmap_stmt;

struct srcmap {
    srcmap_stmt *s;
    size_t n, cap;
    char *func;                 /* while annotating: the current function */
};

/* Growable output text. */
typedef struct srcmap_buf {
    char *p;
    size_t len, cap;
    int oom;
} srcmap_buf;

static void buf_add(srcmap_buf *b, const char *p, size_t n)
{
    char *np = b->oom ? NULL : dvm_grow(b->p, &b->cap, b->len + n + 1, 1);
    if (!np) {
        b->oom = 1;
        return;
    }
    b->p = np;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* "# NAME (frame ...)" at column 0: the function NAME begins. */
static char *func_header(const char *l, size_t n)
{
    if (n < 3 || l[0] != '#' || l[1] != ' ')
        return NULL;
    const char *sp = memchr(l + 2, ' ', n - 2);
    if (!sp || (size_t)(l + n - sp) < 8 || strncmp(sp, " (frame", 7))
        return NULL;
    return dvm_strndup(l + 2, (size_t)(sp - l - 2));
}

/* "    # FILE:LINE: ..." : a statement; sets *file (owned) and *line. */
static int stmt_comment(const char *l, size_t n, char **file,
                        unsigned long *line)
{
    size_t i = 0;
    while (i < n && l[i] == ' ')
        i++;
    if (i == 0 || i + 2 >= n || l[i] != '#' || l[i + 1] != ' ')
        return 0;
    const char *f = l + i + 2, *end = l + n;
    for (const char *c = f; c < end; c++) {         /* first ":DIGITS: " */
        if (*c != ':' || c == f)
            continue;
        char *e;
        unsigned long v = strtoul(c + 1, &e, 10);
        if (e > c + 1 && e + 1 < end && e[0] == ':' && e[1] == ' ') {
            *file = dvm_strndup(f, (size_t)(c - f));
            *line = v;
            return *file != NULL;
        }
    }
    return 0;
}

static int add_stmt(srcmap *m, char *file, unsigned long line)
{
    srcmap_stmt *s = dvm_grow(m->s, &m->cap, m->n + 1, sizeof *s);
    char *func = m->func ? dvm_strdup(m->func) : NULL;
    if (!s || (m->func && !func)) {
        dvm_free(func);
        return -1;
    }
    m->s = s;
    m->s[m->n++] = (srcmap_stmt){ UINT64_MAX, file, line, func };
    return 0;
}

/* Handles one line of the generated text (without its newline). */
static void annotate_line(srcmap *m, srcmap_buf *b, const char *l, size_t n)
{
    buf_add(b, l, n);
    buf_add(b, "\n", 1);
    char *fn = func_header(l, n), *file;
    unsigned long line;
    if (fn) {
        dvm_free(m->func);
        m->func = fn;
    } else if (stmt_comment(l, n, &file, &line)) {
        char label[48];
        int k = snprintf(label, sizeof label, SRCMAP_LABEL "%zu:\n", m->n);
        if (add_stmt(m, file, line))
            b->oom = 1, dvm_free(file);
        else
            buf_add(b, label, (size_t)k);
    }
}

dvm_status srcmap_annotate(const char *text, size_t len, char **out,
                           size_t *outlen, srcmap **map)
{
    srcmap *m = dvm_calloc(1, sizeof *m);
    srcmap_buf b = { 0 };
    if (!m)
        return status_set(DVM_ENOMEM, "out of memory");
    for (size_t i = 0; i < len && !b.oom;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - text - i) : len - i;
        annotate_line(m, &b, text + i, n);
        i += n + 1;
    }
    dvm_free(m->func);
    m->func = NULL;
    if (b.oom) {
        dvm_free(b.p);
        srcmap_free(m);
        return status_set(DVM_ENOMEM, "out of memory");
    }
    *out = b.p;
    *outlen = b.len;
    *map = m;
    return DVM_OK;
}

static int cmp_addr(const void *a, const void *b)
{
    uint64_t x = ((const srcmap_stmt *)a)->addr;
    uint64_t y = ((const srcmap_stmt *)b)->addr;
    return x < y ? -1 : x > y;
}

void srcmap_resolve(srcmap *m, const dvm_program *p)
{
    size_t pre = strlen(SRCMAP_LABEL);
    for (size_t i = 0; i < p->nsyms; i++) {
        const char *name = p->syms[i].name;
        if (strncmp(name, SRCMAP_LABEL, pre))
            continue;
        char *e;
        unsigned long k = strtoul(name + pre, &e, 10);
        if (!*e && k < m->n)
            m->s[k].addr = p->syms[i].value;
    }
    if (m->n)
        qsort(m->s, m->n, sizeof *m->s, cmp_addr);
}

void srcmap_note(void *arg, uint64_t pc, FILE *f)
{
    const srcmap *m = arg;
    size_t lo = 0, hi = m->n;       /* first statement starting after pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->s[mid].addr <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || m->s[lo - 1].addr == UINT64_MAX)
        return;
    const srcmap_stmt *s = &m->s[lo - 1];
    fprintf(f, "%s:%lu: note: fault in function %s\n", s->file, s->line,
            s->func ? s->func : "?");
}

void srcmap_free(srcmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        dvm_free(m->s[i].file);
        dvm_free(m->s[i].func);
    }
    dvm_free(m->s);
    dvm_free(m->func);
    dvm_free(m);
}
