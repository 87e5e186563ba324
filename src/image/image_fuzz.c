/*
 * image_fuzz.c -- libFuzzer target for the image loader.
 *
 * Any byte string is fed to image_parse.  A refusal is fine; a crash, a
 * sanitizer report or a leak is not.  An accepted image must be canonical:
 * serialising the parsed program gives back exactly the input bytes (the
 * format has one encoding per program), and that image parses again.  A
 * version 1 image is accepted too but serialises as version 2; then the
 * version 2 bytes must be canonical themselves.
 *
 * A random mutation almost never carries a valid CRC-32, so the fuzzer
 * would only ever exercise the header.  Each input is therefore tried
 * twice: as it is, then "resealed" -- file size field and CRC rewritten to
 * match -- which lets mutations reach every record and validation rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/alloc.h"
#include "util/crc32.h"

/* Stores the width low bytes of v at p, little endian. */
static void store_le(uint8_t *p, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Parses data; if accepted, checks the canonical round trip (aborts on a
 * broken invariant).  Frees everything. */
static void check_one(const uint8_t *data, size_t size)
{
    dvm_program *p, *q;
    uint8_t *buf;
    size_t len;
    if (image_parse(data, size, &p))
        return;
    if (image_serialize(p, &buf, &len))
        abort();                      /* accepted but not writable */
    int v1 = data[8] == 1;            /* parsed: at least the header is there */
    if (!v1 && (len != size || memcmp(buf, data, size) != 0))
        abort();                      /* not canonical */
    if (image_parse(buf, len, &q))
        abort();
    if (v1) {
        uint8_t *again;
        size_t n2;
        if (image_serialize(q, &again, &n2) || n2 != len ||
            memcmp(again, buf, len) != 0)
            abort();
        dvm_free(again);
    }
    program_free(q);
    dvm_free(buf);
    program_free(p);
}

/* libFuzzer entry point: returns 0 (or -1 when out of memory, which makes
 * libFuzzer drop the input). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size);
    if (size < 72)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    store_le(copy + 24, size, 8);
    store_le(copy + 20, crc32_ieee(copy + 24, size - 24), 4);
    check_one(copy, size);
    free(copy);
    return 0;
}
