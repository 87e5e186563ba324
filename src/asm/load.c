/*
 * load.c -- one entry point for "a program named on the command line".
 *
 * `dvm run` and `dvm dis` accept either source or an image.  The choice is
 * made by content, not by name: a file that starts with the image magic is
 * an image, anything else is assembled.  Failures are printed here, once:
 * assembly diagnostics by the assembler, everything else (unreadable file,
 * invalid image, out of memory) as "dvm: PATH: message".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "asm/asm.h"
#include "image/image.h"

/* Reads up to the first 8 bytes of path; returns DVM_OK and sets *n. */
static dvm_status read_head(const char *path, uint8_t *head, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return status_set_errno(DVM_EIO, "cannot open");
    size_t k = fread(head, 1, 8, f);
    int bad = ferror(f);
    int err = errno;
    fclose(f);
    errno = err;
    if (bad)
        return status_set_errno(DVM_EIO, "cannot read");
    *n = k;
    return DVM_OK;
}

/* Prints a load failure once, naming the file: image_load's messages
 * already name it (its contract), the others do not. */
static void report(FILE *diag, const char *path)
{
    const char *msg = status_message();
    if (strstr(msg, path))
        fprintf(diag, "dvm: %s\n", msg);
    else
        fprintf(diag, "dvm: %s: %s\n", path, msg);
}

dvm_status asm_load_program(const char *path, FILE *diag, dvm_program **out)
{
    uint8_t head[8];
    size_t n;
    dvm_program *p = NULL;
    dvm_status st = read_head(path, head, &n);
    if (st == DVM_OK && image_has_magic(head, n))
        st = image_load(path, &p);
    else if (st == DVM_OK)
        st = asm_assemble_file(path, diag, &p);
    if (st) {
        if (st != DVM_ESYNTAX && diag)
            report(diag, path);
        return st;
    }
    *out = p;
    return DVM_OK;
}
