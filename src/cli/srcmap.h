/*
 * srcmap.h -- from a fault's DISA address back to the c0 line it came
 * from, for `dvm run PROG.c0` (C0.md 9: a fault report is followed by
 * `FILE:LINE: note: fault in function F`).
 *
 * The compiler writes a `# FILE:LINE: source` comment before the code of
 * each statement and a `# NAME (frame ...)` comment before each function.
 * srcmap_annotate copies the generated text and puts a label `c0.src.K:`
 * after each statement comment, remembering (K, FILE, LINE, function);
 * once the text is assembled, srcmap_resolve reads the labels' addresses
 * from the program's symbols.  The map then answers, for any address, the
 * statement whose code starts at or before it.  `dvm cc -o` output is not
 * touched: only the text `dvm run` assembles in memory carries the labels.
 */
#ifndef DVM_CLI_SRCMAP_H
#define DVM_CLI_SRCMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image/program.h"
#include "util/status.h"

typedef struct srcmap srcmap;

/* Copies text (len bytes) into *out (owned, NUL-terminated, *outlen bytes)
 * with the statement labels added, and creates *map (owned).  Outputs are
 * set only on success. */
dvm_status srcmap_annotate(const char *text, size_t len, char **out,
                           size_t *outlen, srcmap **map);

/* Gives every statement the address of its label in p, and sorts. */
void srcmap_resolve(srcmap *m, const dvm_program *p);

/* Writes "FILE:LINE: note: fault in function F" for the statement whose
 * code holds pc, if any (a master_config.fault_note callback; arg is the
 * map). */
void srcmap_note(void *arg, uint64_t pc, FILE *f);

void srcmap_free(srcmap *m);

#endif
