/*
 * asm_src.c -- source files and .include.
 *
 * Before any pass the assembler reads the top file and, recursively, every
 * file named by a well-formed `.include "file"` line, into one flat list of
 * lines (each knows its file and number, for diagnostics).  The .include
 * line itself stays in the list, so a label on it still works; the passes
 * treat it as a no-op.  A path is relative to the directory of the including
 * file.  Cycles are found by comparing canonical paths along the chain of
 * open includes; depth is limited, and only regular files of bounded size
 * are read, up to a bound on the bytes and lines of all files together (a
 * file included many times counts each time), so hostile input can neither
 * loop nor exhaust memory here.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asm/asm_int.h"
#include "util/alloc.h"

/* The chain of files being expanded, innermost first. */
typedef struct inc_frame {
    uint32_t file;
    const struct inc_frame *up;
} inc_frame;

/* Reads the regular file at path, if it fits the bytes left to c's
 * sources.  On success *buf (owned, terminated) holds *len bytes; otherwise
 * DVM_EIO or DVM_ENOMEM with a message. */
static dvm_status read_file(asm_ctx *c, const char *path, char **buf,
                            size_t *len)
{
    struct stat sb;
    dvm_status st;
    char *b;
    FILE *f = fopen(path, "rb");
    if (!f)
        return status_set_errno(DVM_EIO, "cannot open '%s'", path);
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        st = status_set(DVM_EIO, "'%s' is not a regular file", path);
        goto err_file;
    }
    if ((uint64_t)sb.st_size > ASM_MAX_FILE_BYTES) {
        st = status_set(DVM_EIO, "'%s' is too large", path);
        goto err_file;
    }
    if ((uint64_t)sb.st_size > ASM_MAX_SOURCE_BYTES - c->src_bytes) {
        st = status_set(DVM_EIO, "'%s' would make the sources larger than "
                        "%u MiB in all", path, ASM_MAX_SOURCE_BYTES >> 20);
        goto err_file;
    }
    size_t n = (size_t)sb.st_size;
    if (!(b = dvm_malloc(n + 1))) {
        st = status_set(DVM_ENOMEM, "out of memory");
        goto err_file;
    }
    if (fread(b, 1, n, f) != n) {
        st = status_set_errno(DVM_EIO, "cannot read '%s'", path);
        goto err_buf;
    }
    b[n] = 0;
    fclose(f);
    c->src_bytes += n;
    *buf = b;
    *len = n;
    return DVM_OK;
err_buf:
    dvm_free(b);
err_file:
    fclose(f);
    return st;
}

/* Adds a file record taking ownership of buf; returns DVM_OK and sets *idx
 * or DVM_ENOMEM (buf freed). */
static dvm_status add_file(asm_ctx *c, const char *path, char *buf,
                           size_t len, uint32_t *idx)
{
    asm_file *f = dvm_grow(c->files, &c->filecap, c->nfiles + 1, sizeof *f);
    if (!f)
        goto err_buf;
    c->files = f;
    f = &c->files[c->nfiles];
    char canon[PATH_MAX];
    f->path = dvm_strdup(path);
    f->canon = dvm_strdup(realpath(path, canon) ? canon : path);
    if (!f->path || !f->canon)
        goto err_names;
    f->buf = buf;
    f->len = len;
    *idx = (uint32_t)c->nfiles++;
    return DVM_OK;
err_names:
    dvm_free(f->path);
    dvm_free(f->canon);
err_buf:
    dvm_free(buf);
    return status_set(DVM_ENOMEM, "out of memory");
}

void asm_free_source(asm_ctx *c)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        dvm_free(c->files[i].path);
        dvm_free(c->files[i].canon);
        dvm_free(c->files[i].buf);
    }
    dvm_free(c->files);
    dvm_free(c->lines);
    c->files = NULL;
    c->lines = NULL;
    c->nfiles = c->nlines = c->filecap = c->linecap = 0;
}

static dvm_status add_line(asm_ctx *c, uint32_t file, uint32_t lineno,
                           const char *text, size_t len)
{
    if (c->nlines >= ASM_MAX_LINES)
        return status_set(DVM_ERANGE, "the sources have more than %u lines "
                          "in all", ASM_MAX_LINES);
    asm_line *l = dvm_grow(c->lines, &c->linecap, c->nlines + 1, sizeof *l);
    if (!l)
        return status_set(DVM_ENOMEM, "out of memory");
    c->lines = l;
    c->lines[c->nlines++] = (asm_line){file, lineno, text, len};
    return DVM_OK;
}

/* The name of a well-formed `.include "name"` line (labels allowed before
 * it), decoded into out (PATH_MAX bytes); 0 when the line is not one. */
static int include_name(asm_ctx *c, const asm_line *l, char *out)
{
    if (lex_line(&c->lex, l->text, l->len))
        return 0;
    const lex_token *t = c->lex.t;
    size_t i = 0;
    while (i < c->lex.n && t[i].kind == TK_LABEL)
        i++;
    if (i + 2 >= c->lex.n || !lex_ident_is(&t[i], ".include") ||
        t[i + 1].kind != TK_STRING || t[i + 2].kind != TK_EOL ||
        t[i + 1].len >= PATH_MAX)
        return 0;
    size_t n = lex_string_decode(&t[i + 1], (uint8_t *)out);
    out[n] = 0;
    return n > 0 && strlen(out) == n;
}

/* Joins the directory of `from` with name into out (PATH_MAX bytes);
 * returns 0 when it does not fit. */
static int resolve(const char *from, const char *name, char *out)
{
    const char *slash = strrchr(from, '/');
    int dirlen = name[0] == '/' || !slash ? 0 : (int)(slash - from + 1);
    int n = snprintf(out, PATH_MAX, "%.*s%s", dirlen, from, name);
    return n > 0 && n < PATH_MAX;
}

static dvm_status expand(asm_ctx *c, const inc_frame *fr, int depth);

/* Handles the include of name at line index li from frame fr. */
static dvm_status include_file(asm_ctx *c, const inc_frame *fr, int depth,
                               size_t li, const char *name)
{
    char path[PATH_MAX], canon[PATH_MAX];
    const asm_line *l = &c->lines[li];
    const char *q = memchr(l->text, '"', l->len);
    assert(q);
    int col = (int)(q - l->text) + 1;
    if (!resolve(c->files[fr->file].path, name, path)) {
        asm_error_at(c, li, col, "include path too long");
        return DVM_OK;
    }
    if (depth >= ASM_MAX_INCLUDE_DEPTH) {
        asm_error_at(c, li, col, "includes nested too deeply (more than %d)",
                     ASM_MAX_INCLUDE_DEPTH);
        return DVM_OK;
    }
    const char *key = realpath(path, canon) ? canon : path;
    for (const inc_frame *f = fr; f; f = f->up) {
        if (!strcmp(c->files[f->file].canon, key)) {
            asm_error_at(c, li, col, "include cycle: '%s' is already being "
                         "included", name);
            return DVM_OK;
        }
    }
    char *buf;
    size_t len;
    uint32_t idx;
    dvm_status st = read_file(c, path, &buf, &len);
    if (st == DVM_EIO) {
        asm_error_at(c, li, col, "%s", status_message());
        return DVM_OK;
    }
    if (st || (st = add_file(c, path, buf, len, &idx)))
        return st;
    inc_frame inner = {idx, fr};
    return expand(c, &inner, depth + 1);
}

/* Appends the lines of file fr->file, expanding its includes. */
static dvm_status expand(asm_ctx *c, const inc_frame *fr, int depth)
{
    const char *p = c->files[fr->file].buf;
    const char *end = p + c->files[fr->file].len;
    char name[PATH_MAX];
    for (uint32_t lineno = 1; p < end || lineno == 1; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        dvm_status st = add_line(c, fr->file, lineno, p, len);
        if (st)
            return st;
        size_t li = c->nlines - 1;
        if (include_name(c, &c->lines[li], name) &&
            (st = include_file(c, fr, depth, li, name)))
            return st;
        p += len + (nl != NULL);
        if (!nl)
            break;
    }
    return DVM_OK;
}

dvm_status asm_read_source(asm_ctx *c, const char *path, const char *src,
                           size_t len)
{
    char *buf;
    size_t n = len;
    uint32_t idx;
    dvm_status st;
    if (src) {
        if (!(buf = dvm_malloc(len + 1)))
            return status_set(DVM_ENOMEM, "out of memory");
        memcpy(buf, src, len);
        buf[len] = 0;
        c->src_bytes = len;
    } else if ((st = read_file(c, path, &buf, &n))) {
        return st;
    }
    if ((st = add_file(c, path, buf, n, &idx)))
        return st;
    inc_frame top = {idx, NULL};
    return expand(c, &top, 0);
}
