/*
 * cmd_asm.c -- `dvm asm` and `dvm dis` (DISA.md 9).
 *
 * Thin shells over the library: parse the arguments, assemble or load,
 * write the image or the listing.  Every failure is reported once (the
 * assembler prints its own diagnostics; load and write errors are printed
 * here or by asm_load_program as "dvm: PATH: message") and gives exit
 * status 2.  The image is written atomically, so a failed `dvm asm` leaves
 * no output file behind; a symbolic link or a device given with -o stays
 * what it is (image_save).
 */
#include <stdio.h>
#include <string.h>

#include "asm/asm.h"
#include "asm/dis.h"
#include "cli/cli.h"
#include "image/image.h"
#include "util/alloc.h"

/* The default output name: PROG.dasm -> PROG.dvm, else PROG + ".dvm".
 * Returns an owned string or NULL on ENOMEM. */
static char *default_output(const char *in)
{
    size_t n = strlen(in);
    if (n > 5 && !strcmp(in + n - 5, ".dasm"))
        n -= 5;
    char *out = dvm_malloc(n + 5);
    if (!out)
        return NULL;
    memcpy(out, in, n);
    memcpy(out + n, ".dvm", 5);
    return out;
}

/* Parses `PROG.dasm [-o OUT]`; returns 0 and sets *in and *out, or
 * returns -1 with the argument at fault in *bad (NULL: no program). */
static int asm_args(int argc, char **argv, const char **in, const char **out,
                    const char **bad)
{
    const char *i = NULL, *o = NULL;
    *bad = NULL;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "-o") && k + 1 < argc && !o)
            o = argv[++k];
        else if (argv[k][0] != '-' && !i)
            i = argv[k];
        else
            return *bad = argv[k], -1;
    }
    if (!i)
        return -1;
    *in = i;
    *out = o;
    return 0;
}

int cmd_asm(int argc, char **argv)
{
    const char *in, *outarg, *bad;
    int rc = 2;
    if (asm_args(argc, argv, &in, &outarg, &bad)) {
        fprintf(stderr, "dvm asm: %s%s\n", bad ? "unexpected argument: "
                : "no program named", bad ? bad : "");
        fputs("usage: dvm asm PROG.dasm [-o PROG.dvm]\n", stderr);
        return 2;
    }
    char *out = outarg ? dvm_strdup(outarg) : default_output(in);
    if (!out) {
        fputs("dvm: out of memory\n", stderr);
        return 2;
    }
    dvm_program *p = NULL;
    dvm_status st = asm_assemble_file(in, stderr, &p);
    if (st) {
        if (st != DVM_ESYNTAX)
            fprintf(stderr, "dvm: %s: %s\n", in, status_message());
        goto out;
    }
    if ((st = image_save(p, out)))
        fprintf(stderr, "dvm: %s: %s\n", out, status_message());
    else
        rc = 0;
    program_free(p);
out:
    dvm_free(out);
    return rc;
}

int cmd_dis(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fputs("usage: dvm dis PROG.dvm\n", stderr);
        return 2;
    }
    dvm_program *p;
    if (asm_load_program(argv[1], stderr, &p))
        return 2;
    dvm_status st = dis_write(p, stdout);
    if (st)
        fprintf(stderr, "dvm: %s: %s\n", argv[1], status_message());
    program_free(p);
    return st ? 2 : 0;
}
