/*
 * asm.h -- the DISA assembler (DISA.md section 7) and expression evaluator.
 *
 * The assembler turns source text into a dvm_program in two passes (so
 * symbols may be used before they are defined).  Diagnostics are printed as
 * "file:line:col: error: message", several per run where sensible (a bad
 * line does not stop the others from being checked), to the diag stream.
 * The predefined symbols __sb __ss __rid __fi __attempt __out __nrcomp
 * __nnode are known everywhere.
 */
#ifndef DVM_ASM_H
#define DVM_ASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image/program.h"
#include "util/status.h"

/* Assembles the file at path (.include paths are relative to the including
 * file).  On success *out owns the program.  On failure the diagnostics are
 * on diag and DVM_ESYNTAX (or DVM_EIO for an unreadable file, DVM_ENOMEM)
 * is returned. */
dvm_status asm_assemble_file(const char *path, FILE *diag, dvm_program **out);

/* Same for source in memory; `name` is used in diagnostics and as the base
 * for .include (its directory). */
dvm_status asm_assemble_string(const char *name, const char *src, size_t len,
                               FILE *diag, dvm_program **out);

/* Evaluates an expression of DISA.md 2.1 (numbers, symbols of p and the
 * predefined ones, + - *) as used by `dvm run --dump`.  Returns
 * DVM_ESYNTAX or DVM_ENOENT with a message on failure. */
dvm_status asm_eval_expr(const dvm_program *p, const char *expr,
                         uint64_t *out);

/* Loads PROG.dasm (assembling it) or an image (recognised by its magic,
 * whatever its name), printing assembly diagnostics to diag and load
 * errors as "dvm: PATH: message".  On success *out owns the program. */
dvm_status asm_load_program(const char *path, FILE *diag, dvm_program **out);

#endif
