/*
 * asm_fuzz.c -- libFuzzer target for the assembler and disassembler.
 *
 * The input is assembled as source text.  When it assembles, the program
 * must survive the whole tool chain unchanged: serialise, parse the image,
 * disassemble, assemble the listing, serialise again; any difference in
 * the image bytes is a bug and aborts.  The source is named under a
 * directory that does not exist, so relative .include lines find nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm/asm.h"
#include "asm/dis.h"
#include "image/image.h"
#include "util/alloc.h"

/* Serialises p; aborts on failure (the assembler's output must be valid). */
static uint8_t *serialize_or_die(const dvm_program *p, size_t *len)
{
    uint8_t *buf;
    if (image_serialize(p, &buf, len)) {
        fprintf(stderr, "serialize: %s\n", status_message());
        abort();
    }
    return buf;
}

/* Runs the round trip of p; aborts when it is not exact. */
static void roundtrip(const dvm_program *p)
{
    size_t alen, blen, tlen;
    char *text = NULL;
    dvm_program *q = NULL, *r = NULL;
    uint8_t *a = serialize_or_die(p, &alen);
    if (image_parse(a, alen, &q))
        abort();
    FILE *f = open_memstream(&text, &tlen);
    if (!f || dis_write(q, f))
        abort();
    fclose(f);
    if (asm_assemble_string("/nonexistent/dis.dasm", text, tlen, stderr, &r)) {
        fprintf(stderr, "listing does not assemble:\n%s", text);
        abort();
    }
    uint8_t *b = serialize_or_die(r, &blen);
    if (alen != blen || memcmp(a, b, alen)) {
        fprintf(stderr, "round trip differs; listing:\n%s", text);
        abort();
    }
    dvm_free(a);
    dvm_free(b);
    free(text);
    program_free(q);
    program_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dvm_program *p = NULL;
    if (asm_assemble_string("/nonexistent/fuzz.dasm", (const char *)data,
                            size, NULL, &p) == DVM_OK) {
        roundtrip(p);
        program_free(p);
    }
    return 0;
}
