/*
 * cc.h -- `dvm cc`: the c0 compiler (C0.md), from c0 source to DISA text.
 *
 * One call compiles a whole program (every translation unit and the
 * library together, since frames, recursion and the library's reach are
 * decided over the whole program) and returns the DISA text in memory; the
 * command line writes it to a file, `dvm run` hands it to the assembler.
 * Diagnostics go to the diag stream as "file:line:col: error: message";
 * on any error no text is returned.
 */
#ifndef DVM_CC_H
#define DVM_CC_H

#include <stddef.h>
#include <stdio.h>

#include "util/status.h"

typedef struct cc_opts {
    const char **incdirs;      /* -I, in order */
    size_t nincdirs;
    const char **defines;      /* "NAME", "NAME=VALUE", or "-NAME" (undef) */
    size_t ndefines;
    int no_warnings;           /* -w */
    int werror;                /* -Werror */
    int preprocess_only;       /* -E */
} cc_opts;

/* Compiles the files (their paths) as one program.  On success *out is the
 * DISA text (NUL-terminated, *outlen bytes) owned by the caller (dvm_free)
 * and 0 is returned; on failure the diagnostics are on diag, nothing is
 * returned and the status is DVM_ESYNTAX (compile errors), DVM_EIO (a file
 * that cannot be read) or DVM_ENOMEM. */
dvm_status cc_compile(const cc_opts *o, const char *const *files,
                      size_t nfiles, FILE *diag, char **out, size_t *outlen);

/* Same for one source in memory named `name` (diagnostics, includes);
 * used by the fuzz target. */
dvm_status cc_compile_string(const cc_opts *o, const char *name,
                             const char *src, size_t len, FILE *diag,
                             char **out, size_t *outlen);

#endif
