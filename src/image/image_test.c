/*
 * image_test.c -- unit tests of the binary image format.
 *
 * Programs are built in memory (instructions made with isa_encode), then
 * serialised and parsed back: the program and the bytes must survive
 * unchanged.  The corruption battery truncates a small image at every
 * length, flips every bit of it, plants hostile counts behind a recomputed
 * CRC, and breaks each validation rule once, checking the message.  To
 * patch fields the test computes record offsets itself from the layout in
 * docs/image-format.md, which also keeps the document honest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "image/image.h"
#include "isa/isa.h"
#include "util/alloc.h"
#include "util/crc32.h"

/* ---- building programs -------------------------------------------------- */

/* Encodes insn at code[*n], records its offset, advances *n. */
static void emit(uint8_t *code, size_t *n, uint32_t *offs, uint64_t *ni,
                 const isa_insn *insn)
{
    offs[(*ni)++] = (uint32_t)*n;
    *n += isa_encode(insn, code + *n);
}

/* An operand without displacement. */
static isa_operand opnd(int mode, int type, uint64_t v)
{
    isa_operand o = { (uint8_t)mode, (uint8_t)type, v, 0 };
    return o;
}

/* Appends a segment (copying bytes and offsets) to p. */
static void add_seg(dvm_program *p, uint64_t addr, uint32_t flags,
                    const uint8_t *bytes, size_t size, const uint32_t *offs,
                    uint64_t ni)
{
    p->segs = realloc(p->segs, (p->nsegs + 1) * sizeof *p->segs);
    assert_non_null(p->segs);
    prog_segment *s = &p->segs[p->nsegs++];
    s->addr = addr;
    s->size = size;
    s->zero_tail = 0;
    s->flags = flags;
    s->bytes = dvm_malloc(size);
    assert_non_null(s->bytes);
    memcpy(s->bytes, bytes, size);
    s->ninsns = ni;
    s->insn_offs = ni ? dvm_malloc(ni * 4) : NULL;
    if (ni)
        memcpy(s->insn_offs, offs, ni * 4);
}

/* Appends a symbol, channel or heap range to p (callers keep order). */
static void add_sym(dvm_program *p, const char *name, uint64_t v)
{
    p->syms = realloc(p->syms, (p->nsyms + 1) * sizeof *p->syms);
    assert_non_null(p->syms);
    p->syms[p->nsyms].name = dvm_strdup(name);
    p->syms[p->nsyms++].value = v;
}

static void add_chan(dvm_program *p, const char *name, uint64_t a, int dir)
{
    p->chans = realloc(p->chans, (p->nchans + 1) * sizeof *p->chans);
    assert_non_null(p->chans);
    p->chans[p->nchans].name = dvm_strdup(name);
    p->chans[p->nchans].addr = a;
    p->chans[p->nchans++].dir = dir;
}

static void add_heap(dvm_program *p, uint64_t base, uint64_t len)
{
    p->heap = realloc(p->heap, (p->nheap + 1) * sizeof *p->heap);
    assert_non_null(p->heap);
    p->heap[p->nheap].base = base;
    p->heap[p->nheap++].len = len;
}

/* The code of the sample: mov $5, 0x100; br:j 8(0x200); add; exit; then a
 * data word that is not an instruction. */
static size_t sample_code(uint8_t *code, uint32_t *offs, uint64_t *ni)
{
    size_t n = 0;
    isa_insn mov = { ISA_OP_MOV, ISA_OPT_NONE, 2,
                     { opnd(ISA_M_IMM, ISA_T_Q, 5),
                       opnd(ISA_M_DIR, ISA_T_Q, 0x100) } };
    isa_insn br = { ISA_OP_BR, ISA_OPT_J, 1,
                    { { ISA_M_DISP, ISA_T_Q, 0x200, 8 } } };
    isa_insn add = { ISA_OP_ADD, ISA_OPT_NONE, 3,
                     { opnd(ISA_M_DIR, ISA_T_D, 0x10),
                       opnd(ISA_M_IMM, ISA_T_D, 7),
                       opnd(ISA_M_IND, ISA_T_D, 0x18) } };
    isa_insn ex = { ISA_OP_EXIT, ISA_OPT_NONE, 0, { { 0 } } };
    *ni = 0;
    emit(code, &n, offs, ni, &mov);
    emit(code, &n, offs, ni, &br);
    emit(code, &n, offs, ni, &add);
    emit(code, &n, offs, ni, &ex);
    memcpy(code + n, "\xEE\xEE\xEE\xEE", 4);   /* data, not code */
    return n + 4;
}

/* A small program using every feature of the format. */
static dvm_program *sample(void)
{
    dvm_program *p = program_new();
    assert_non_null(p);
    uint8_t code[256];
    uint32_t offs[8];
    uint64_t ni;
    size_t n = sample_code(code, offs, &ni);
    add_seg(p, 0x40000000, PROG_SEG_CODE, code, n, offs, ni);
    add_seg(p, 0x40001000, 0, (const uint8_t *)"hello, world\n", 13, NULL,
            0);
    add_sym(p, ".L1", 0x40000002);
    add_sym(p, "buf", 0x40001000);
    add_sym(p, "main", 0x40000000);
    add_chan(p, "log", 0x100, PROG_CHAN_OUT);
    add_chan(p, "input", 0x3F0000000000ULL, PROG_CHAN_IN);
    add_heap(p, 0x50000000, 0x100000);
    p->entry = 0x40000000;
    return p;
}

/* The sample with zero tails: 1 GiB of zeros after the code, and a data
 * segment that is all tail. */
static dvm_program *zero_sample(void)
{
    dvm_program *p = sample();
    p->segs[0].size += 1ULL << 30;
    p->segs[0].zero_tail = 1ULL << 30;
    p->segs[1].addr = 0x80001000;
    p->segs[1].zero_tail = p->segs[1].size;
    dvm_free(p->segs[1].bytes);
    p->segs[1].bytes = NULL;
    return p;
}

/* Only code and one symbol: the image ends with a name record. */
static dvm_program *code_only(void)
{
    dvm_program *p = program_new();
    assert_non_null(p);
    uint8_t code[256];
    uint32_t offs[8];
    uint64_t ni;
    size_t n = sample_code(code, offs, &ni);
    add_seg(p, 0x40000000, PROG_SEG_CODE, code, n, offs, ni);
    add_sym(p, "main", 0x40000000);
    p->entry = 0x40000000;
    return p;
}

/* Fails unless a and b hold the same program, field by field. */
static void assert_programs_equal(const dvm_program *a, const dvm_program *b)
{
    assert_int_equal(a->nsegs, b->nsegs);
    for (size_t i = 0; i < a->nsegs; i++) {
        const prog_segment *x = &a->segs[i], *y = &b->segs[i];
        assert_int_equal(x->addr, y->addr);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->flags, y->flags);
        assert_int_equal(x->ninsns, y->ninsns);
        assert_int_equal(x->zero_tail, y->zero_tail);
        if (prog_seg_stored(x))
            assert_memory_equal(x->bytes, y->bytes, prog_seg_stored(x));
        if (x->ninsns)
            assert_memory_equal(x->insn_offs, y->insn_offs, x->ninsns * 4);
    }
    assert_int_equal(a->nsyms, b->nsyms);
    for (size_t i = 0; i < a->nsyms; i++) {
        assert_string_equal(a->syms[i].name, b->syms[i].name);
        assert_int_equal(a->syms[i].value, b->syms[i].value);
    }
    assert_int_equal(a->nchans, b->nchans);
    for (size_t i = 0; i < a->nchans; i++) {
        assert_string_equal(a->chans[i].name, b->chans[i].name);
        assert_int_equal(a->chans[i].addr, b->chans[i].addr);
        assert_int_equal(a->chans[i].dir, b->chans[i].dir);
    }
    assert_int_equal(a->nheap, b->nheap);
    for (size_t i = 0; i < a->nheap; i++) {
        assert_int_equal(a->heap[i].base, b->heap[i].base);
        assert_int_equal(a->heap[i].len, b->heap[i].len);
    }
    assert_int_equal(a->entry, b->entry);
}

/* ---- raw access to image bytes ------------------------------------------ */

/* Little-endian read of 8 bytes / write of width bytes at b[off]. */
static uint64_t rd64(const uint8_t *b, size_t off)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[off + i] << (8 * i);
    return v;
}

static void wr(uint8_t *b, size_t off, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the CRC of an image (as a forger would). */
static void reseal(uint8_t *b, size_t len)
{
    wr(b, 20, crc32_ieee(b + 24, len - 24), 4);
}

/* n rounded up to a multiple of 8. */
static size_t up8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Fixed part of a segment record (version 2; version 1 had 32 bytes). */
#define SEG_FIXED 40

/* File offsets of records of p, following docs/image-format.md. */
static size_t off_seg(const dvm_program *p, size_t i)
{
    size_t o = 72;
    for (size_t k = 0; k < i; k++)
        o += SEG_FIXED + up8(p->segs[k].ninsns * 4) +
             up8(prog_seg_stored(&p->segs[k]));
    return o;
}

static size_t off_sym(const dvm_program *p, size_t i)
{
    size_t o = off_seg(p, p->nsegs);
    for (size_t k = 0; k < i; k++)
        o += up8(12 + strlen(p->syms[k].name));
    return o;
}

static size_t off_chan(const dvm_program *p, size_t i)
{
    size_t o = off_sym(p, p->nsyms);
    for (size_t k = 0; k < i; k++)
        o += up8(16 + strlen(p->chans[k].name));
    return o;
}

static size_t off_heap(const dvm_program *p, size_t i)
{
    return off_chan(p, p->nchans) + 16 * i;
}

/* Offset of the bytes of segment i. */
static size_t off_seg_bytes(const dvm_program *p, size_t i)
{
    return off_seg(p, i) + SEG_FIXED + up8(p->segs[i].ninsns * 4);
}

/* ---- round trips ------------------------------------------------------- */

/* Serialises p, parses it back, serialises again: the programs and the
 * bytes must be equal and the size that of the layout.  Frees p; returns
 * the image size. */
static size_t check_roundtrip(dvm_program *p)
{
    dvm_program *q = NULL;
    uint8_t *b1, *b2;
    size_t n1, n2;
    assert_int_equal(image_serialize(p, &b1, &n1), DVM_OK);
    assert_int_equal(n1, off_heap(p, p->nheap));
    assert_true(image_has_magic(b1, n1));
    assert_int_equal(image_parse(b1, n1, &q), DVM_OK);
    assert_programs_equal(p, q);
    assert_int_equal(image_serialize(q, &b2, &n2), DVM_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    dvm_free(b1);
    dvm_free(b2);
    program_free(p);
    program_free(q);
    return n1;
}

static void test_roundtrip(void **state)
{
    (void)state;
    check_roundtrip(sample());
}

static void test_roundtrip_code_only(void **state)
{
    (void)state;
    check_roundtrip(code_only());
}

static void test_empty_program(void **state)
{
    (void)state;
    dvm_program *p = program_new(), *q = NULL;
    uint8_t *b;
    size_t n;
    p->entry = 0xDEADBEEF;               /* entries are checked at run time */
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    assert_int_equal(n, 72);
    assert_int_equal(image_parse(b, n, &q), DVM_OK);
    assert_programs_equal(p, q);
    dvm_free(b);
    program_free(p);
    program_free(q);
}

static void test_deterministic(void **state)
{
    (void)state;
    dvm_program *p = sample(), *q = sample();
    uint8_t *b1, *b2;
    size_t n1, n2;
    assert_int_equal(image_serialize(p, &b1, &n1), DVM_OK);
    assert_int_equal(image_serialize(q, &b2, &n2), DVM_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    dvm_free(b1);
    dvm_free(b2);
    program_free(p);
    program_free(q);
}

static void test_header_layout(void **state)
{
    (void)state;
    dvm_program *p = sample();
    uint8_t *b;
    size_t n;
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    assert_memory_equal(b, "DVMIMG\r\n", 8);
    assert_int_equal(rd64(b, 8) & 0xFFFFFFFF, 2);         /* version */
    assert_int_equal(rd64(b, 16) & 0xFFFFFFFF, 72);       /* header size */
    assert_int_equal(rd64(b, 16) >> 32, crc32_ieee(b + 24, n - 24));
    assert_int_equal(rd64(b, 24), n);
    assert_int_equal(rd64(b, 32), 2);
    assert_int_equal(rd64(b, 40), 3);
    assert_int_equal(rd64(b, 48), 2);
    assert_int_equal(rd64(b, 56), 1);
    assert_int_equal(rd64(b, 64), 0x40000000);
    assert_int_equal(rd64(b, off_seg(p, 1)), 0x40001000);
    assert_int_equal(rd64(b, off_heap(p, 0)), 0x50000000);
    dvm_free(b);
    program_free(p);
}

/* ---- corruption battery ------------------------------------------------ */

/* Serialises the sample; the caller frees *b. */
static dvm_program *sample_bytes(uint8_t **b, size_t *n)
{
    dvm_program *p = sample();
    assert_int_equal(image_serialize(p, b, n), DVM_OK);
    return p;
}

/* Parses b[0..n) expecting a refusal whose message contains want. */
static void expect_refused(const uint8_t *b, size_t n, const char *want)
{
    dvm_program *q = (dvm_program *)0x1;
    status_clear();
    dvm_status st = image_parse(b, n, &q);
    if (st != DVM_EFORMAT || !strstr(status_message(), want))
        fail_msg("want refusal \"%s\", got %d \"%s\"", want, st,
                 status_message());
    assert_ptr_equal(q, (dvm_program *)0x1);   /* untouched on failure */
}

static void test_truncation(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    for (size_t len = 0; len < n; len++) {
        uint8_t *c = malloc(len ? len : 1);   /* exact size: ASan sees overreads */
        memcpy(c, b, len);
        expect_refused(c, len, len < 8 ? "bad magic" : "image: ");
        free(c);
    }
    expect_refused(b, 100, "truncated: header says");
    dvm_free(b);
    program_free(p);
}

static void test_bit_flips(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            expect_refused(b, n, "image: ");
            b[i] ^= (uint8_t)(1u << bit);
        }
        b[i] ^= 0xFF;
        expect_refused(b, n, "image: ");
        b[i] ^= 0xFF;
    }
    dvm_program *q;
    assert_int_equal(image_parse(b, n, &q), DVM_OK);   /* restored */
    program_free(q);
    dvm_free(b);
    program_free(p);
}

/* Patches width bytes at off to v, reseals, expects want. */
static void patch_refused(const uint8_t *b, size_t n, size_t off, uint64_t v,
                          int width, const char *want)
{
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    wr(c, off, v, width);
    reseal(c, n);
    expect_refused(c, n, want);
    free(c);
}

static void test_hostile_counts(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    const uint64_t huge[] = { 1ULL << 62, UINT64_MAX, 1ULL << 32, 1000 };
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        patch_refused(b, n, 32, huge[k], 8, "segments cannot fit");
        patch_refused(b, n, 40, huge[k], 8, "symbols cannot fit");
        patch_refused(b, n, 48, huge[k], 8, "channels cannot fit");
        patch_refused(b, n, 56, huge[k], 8, "heap ranges cannot fit");
        patch_refused(b, n, off_seg(p, 0) + 24, huge[k], 8,
                      "instruction offsets");
        patch_refused(b, n, off_seg(p, 1) + 8, huge[k], 8,
                      "segment 1: size");
    }
    const uint32_t huge32[] = { UINT32_MAX, 1u << 31, 5000, 1000 };
    for (size_t k = 0; k < sizeof huge32 / sizeof huge32[0]; k++) {
        patch_refused(b, n, off_sym(p, 1) + 8, huge32[k], 4, "exceeds file");
        patch_refused(b, n, off_chan(p, 0) + 12, huge32[k], 4,
                      "exceeds file");
    }
    patch_refused(b, n, 24, 1ULL << 40, 8, "truncated: header says");
    dvm_free(b);
    program_free(p);
}

static void test_header_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    patch_refused(b, n, 0, 'X', 1, "bad magic");
    patch_refused(b, n, 8, 3, 4, "version 3 not supported (supported: 1 to "
                  "2)");
    patch_refused(b, n, 8, 0, 4, "version 0 not supported");
    patch_refused(b, n, 12, 1, 4, "unknown header flags");
    patch_refused(b, n, 16, 80, 4, "header size 80");
    uint8_t *c = malloc(n + 8);
    memcpy(c, b, n);
    c[100] ^= 1;                                  /* no reseal */
    expect_refused(c, n, "bad CRC");
    memcpy(c, b, n);
    memset(c + n, 0, 8);
    expect_refused(c, n + 8, "trailing garbage: 8 bytes");
    wr(c, 24, n + 8, 8);                          /* a forged size */
    reseal(c, n + 8);
    expect_refused(c, n + 8, "trailing garbage: 8 bytes after the heap");
    free(c);
    dvm_program *q;
    wr(b, 64, 0, 8);                               /* any entry is accepted */
    reseal(b, n);
    assert_int_equal(image_parse(b, n, &q), DVM_OK);
    assert_int_equal(q->entry, 0);
    program_free(q);
    dvm_free(b);
    program_free(p);
}

static void test_segment_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    size_t s0 = off_seg(p, 0), s1 = off_seg(p, 1);
    patch_refused(b, n, s0, 0x1000, 8, "segment 0: [0x1000, +0x");
    patch_refused(b, n, s1, 0x3F0000000000ULL - 4, 8, "outside the SR");
    patch_refused(b, n, s1, 0x40000001, 8, "segment 1 at 0x40000001 "
                  "overlaps or precedes segment 0");
    patch_refused(b, n, s1, 0x40000000, 8, "overlaps or precedes");
    patch_refused(b, n, s0, 0x40002000, 8, "overlaps or precedes");
    patch_refused(b, n, s0 + 16, 3, 4, "segment 0: unknown flags 0x3");
    patch_refused(b, n, s0 + 20, 1, 4, "reserved field 0x1 not zero");
    patch_refused(b, n, s0 + 16, 0, 4, "data segment with 4 instructions");
    patch_refused(b, n, off_seg_bytes(p, 1) + 13, 1, 1, "non-zero padding");
    dvm_free(b);
    program_free(p);
}

static void test_insn_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    const prog_segment *s = &p->segs[0];
    size_t o = off_seg(p, 0) + SEG_FIXED;       /* instruction offsets */
    patch_refused(b, n, o + 4, 0, 4, "offsets not sorted (0x0 after 0x0)");
    patch_refused(b, n, o + 4, 1, 4, "instruction 1 at 0x1 overlaps the "
                  "previous one");
    patch_refused(b, n, o + 12, (uint32_t)s->size, 4, "outside the segment");
    patch_refused(b, n, o + 12, (uint32_t)s->size - 1, 4,
                  "instruction 3 at 0x");
    patch_refused(b, n, o + 12, (uint32_t)s->size - 1, 4, "truncated");
    patch_refused(b, n, o + 12, (uint32_t)s->size - 4, 4, "bad opcode 238");
    patch_refused(b, n, off_seg_bytes(p, 0) + 1, ISA_OPT_R, 1,
                  "instruction 0 at 0x0: bad option");
    dvm_free(b);
    program_free(p);
}

/* Instructions the assembler would never write do not load: they would not
 * disassemble to source that assembles back to the same bytes. */
static void test_insn_canonical(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    size_t c = off_seg_bytes(p, 0);
    /* mov at 0 (operand bytes at 2, 11), br:j at 20 (22), add at 39 (41,
     * 50, 59): mode/type byte, then the 64-bit value. */
    patch_refused(b, n, c + 22, ISA_M_DISP << 4 | ISA_T_D, 1,
                  "instruction 1 at 0x14: operand 1 is untyped but has type "
                  ":d");
    patch_refused(b, n, c + 51, 0x100000000ULL, 8,
                  "instruction 2 at 0x27: operand 2: immediate 0x100000000 "
                  "is wider than its type :d");
    patch_refused(b, n, c + 51, 0xffffffff, 8, "wider than its type :d");
    uint8_t *d = malloc(n);
    memcpy(d, b, n);
    wr(d, c + 2, ISA_M_IMM << 4 | ISA_T_F, 1);
    wr(d, c + 3, 0x7ff8000000000001ULL, 8);
    reseal(d, n);
    expect_refused(d, n, "instruction 0 at 0x0: operand 1 is a NaN");
    memcpy(d, b, n);
    wr(d, c + 39, ISA_OP_AND, 1);
    wr(d, c + 41, ISA_M_DIR << 4 | ISA_T_F, 1);
    reseal(d, n);
    expect_refused(d, n, "operand 1 is :f, but 'and' works on integers");
    free(d);
    dvm_free(b);
    program_free(p);
}

static void test_symbol_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    size_t y1 = off_sym(p, 1) + 12, y2 = off_sym(p, 2) + 12;   /* names */
    patch_refused(b, n, y1, '-', 1, "symbol 1: invalid character in name");
    patch_refused(b, n, y1, '1', 1, "invalid character");
    patch_refused(b, n, y1 + 1, 0, 1, "invalid character");
    patch_refused(b, n, y1, 'z', 1, "symbol 2 \"main\" not after \"zuf\"");
    patch_refused(b, n, y2, 'b', 1, "sorted and unique");
    patch_refused(b, n, y1 - 4, 0, 4, "symbol 1: empty name");
    dvm_free(b);
    program_free(p);
}

/* A channel found by its name's bytes: the whole name, not a prefix or
 * a longer name. */
static void test_channel_lookup(void **state)
{
    (void)state;
    dvm_program *p = program_new();
    assert_non_null(p);
    add_chan(p, "points", 0x3F0000000000ULL, PROG_CHAN_IN);
    add_chan(p, "pointsx", 0x3F0000100000ULL, PROG_CHAN_IN);
    const prog_channel *c = program_channel(p, "pointsxyz", 6);
    assert_non_null(c);
    assert_int_equal(c->addr, 0x3F0000000000ULL);
    c = program_channel(p, "pointsx", 7);
    assert_non_null(c);
    assert_int_equal(c->addr, 0x3F0000100000ULL);
    assert_null(program_channel(p, "point", 5));
    assert_null(program_channel(p, "pointsxy", 8));
    program_free(p);
}

static void test_channel_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample(), *q;
    add_chan(p, "stdoux", 0x200, PROG_CHAN_OUT);
    add_chan(p, "lof", 0x300, PROG_CHAN_OUT);
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    size_t c0 = off_chan(p, 0), c1 = off_chan(p, 1);
    patch_refused(b, n, off_chan(p, 2) + 21, 't', 1, "channel 2: \"stdout\"");
    patch_refused(b, n, off_chan(p, 3) + 18, 'g', 1, "duplicate name "
                  "\"log\"");
    patch_refused(b, n, c0 + 8, 2, 4, "channel 0: invalid direction 2");
    patch_refused(b, n, c0, 0x20000000 - 4, 8, "out address 0x1ffffffc");
    patch_refused(b, n, c0, 0x40000000, 8, "out address");
    patch_refused(b, n, c1, 0x3FFFFFFFF000ULL, 8, "in address");
    patch_refused(b, n, c1, 0x3FFFFFFFEFF8ULL, 8, "a window of at least");
    patch_refused(b, n, c1, 0x3EFFFFFFFFFFULL, 8, "in address");
    patch_refused(b, n, c0 + 8, PROG_CHAN_IN, 4, "in address 0x100");
    patch_refused(b, n, c1 + 16, '%', 1, "channel 1: invalid character");
    wr(b, c0, 0x20000000 - 8, 8);               /* the last valid window */
    reseal(b, n);
    assert_int_equal(image_parse(b, n, &q), DVM_OK);
    program_free(q);
    dvm_free(b);
    program_free(p);
}

static void test_heap_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = sample_bytes(&b, &n);
    size_t h = off_heap(p, 0);
    patch_refused(b, n, h + 8, 0, 8, "heap range 0: zero length");
    patch_refused(b, n, h, 0x1000, 8, "heap range 0: [0x1000");
    patch_refused(b, n, h, 1ULL << 46, 8, "outside the SR");
    patch_refused(b, n, h + 8, (1ULL << 46) - 0x50000000 + 1, 8,
                  "outside the SR");
    patch_refused(b, n, h + 8, UINT64_MAX, 8, "outside the SR");
    dvm_free(b);
    program_free(p);
}

/* Validation of in-memory programs: the writer refuses what the loader
 * would, including what cannot be expressed by patching a valid image. */
static void expect_invalid(dvm_program *p, const char *want)
{
    uint8_t *b = (uint8_t *)0x1;
    size_t n = 7;
    status_clear();
    dvm_status st = image_serialize(p, &b, &n);
    if (st != DVM_EFORMAT || !strstr(status_message(), want))
        fail_msg("want \"%s\", got %d \"%s\"", want, st, status_message());
    assert_ptr_equal(b, (uint8_t *)0x1);
    assert_int_equal(n, 7);
    program_free(p);
}

static void test_writer_validates(void **state)
{
    (void)state;
    char longname[4098];
    memset(longname, 'z', 4097);
    longname[4097] = '\0';
    dvm_program *p = sample();
    p->segs[1].size = 0;
    expect_invalid(p, "segment 1: empty");
    p = sample();
    p->segs[1].addr = 0x40000002;
    expect_invalid(p, "overlaps");
    p = sample();
    add_sym(p, longname, 0);
    expect_invalid(p, "symbol 3: name longer than 4096 bytes");
    p = sample();
    add_chan(p, "log", 0x200, PROG_CHAN_OUT);
    expect_invalid(p, "duplicate name \"log\"");
    p = sample();
    add_chan(p, "stdout", 0x200, PROG_CHAN_OUT);
    expect_invalid(p, "\"stdout\" is predefined");
    p = sample();
    p->chans[0].dir = 7;
    expect_invalid(p, "invalid direction 7");
    p = sample();
    add_heap(p, 0x60000000, 0);
    expect_invalid(p, "heap range 1: zero length");
    p = sample();
    longname[4096] = '\0';                      /* exactly the limit */
    add_sym(p, longname, 0);
    uint8_t *b;
    size_t n;
    dvm_program *q;
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    assert_int_equal(image_parse(b, n, &q), DVM_OK);
    assert_programs_equal(p, q);
    dvm_free(b);
    program_free(p);
    program_free(q);
}

/* ---- zero tails and version 1 ------------------------------------- */

/* Zero tails cost their 8-byte field, not their bytes. */
static void test_roundtrip_zero_tail(void **state)
{
    (void)state;
    dvm_program *p = zero_sample();
    uint8_t *b;
    size_t n;
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    assert_int_equal(rd64(b, off_seg(p, 0) + 32), 1ULL << 30);
    dvm_free(b);
    assert_true(check_roundtrip(p) < 512);
}

/* Converts the version 2 image b[0..n) of p (no zero tails) to version 1:
 * drops each segment's zero_tail field.  Returns a malloc'd copy. */
static uint8_t *to_v1(const dvm_program *p, const uint8_t *b, size_t n,
                      size_t *out_n)
{
    uint8_t *c = malloc(n);
    size_t from = 0, to = 0;
    assert_non_null(c);
    for (size_t i = 0; i < p->nsegs; i++) {
        assert_int_equal(p->segs[i].zero_tail, 0);
        size_t tail = off_seg(p, i) + 32;          /* the zero_tail field */
        memcpy(c + to, b + from, tail - from);
        to += tail - from;
        from = tail + 8;
    }
    memcpy(c + to, b + from, n - from);
    to += n - from;
    wr(c, 8, 1, 4);
    wr(c, 24, to, 8);
    reseal(c, to);
    *out_n = to;
    return c;
}

/* Version 1 images still load, with the same program and the same rules;
 * they re-serialise as version 2. */
static void test_version1_loads(void **state)
{
    (void)state;
    uint8_t *b, *b2;
    size_t n, n1, n2;
    dvm_program *p = sample_bytes(&b, &n), *q = NULL;
    uint8_t *v1 = to_v1(p, b, n, &n1);
    assert_int_equal(n1, n - 8 * p->nsegs);
    assert_int_equal(image_parse(v1, n1, &q), DVM_OK);
    assert_programs_equal(p, q);
    assert_int_equal(image_serialize(q, &b2, &n2), DVM_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(b, b2, n);
    for (size_t len = 0; len < n1; len++)
        expect_refused(v1, len, len < 8 ? "bad magic" : "image: ");
    patch_refused(v1, n1, 72 + 16, 0, 4, "data segment with 4 instructions");
    patch_refused(v1, n1, 72 + 24, 1ULL << 40, 8, "instruction offsets");
    patch_refused(v1, n1, 72 + 32 + 4, 1, 4, "overlaps the previous one");
    free(v1);
    dvm_free(b);
    dvm_free(b2);
    program_free(p);
    program_free(q);
}

/* The zero tail field is validated like every other. */
static void test_zero_tail_rules(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n;
    dvm_program *p = zero_sample();
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    size_t s0 = off_seg(p, 0), s1 = off_seg(p, 1);
    patch_refused(b, n, s1 + 32, p->segs[1].size + 1, 8,
                  "segment 1: zero tail 14 longer than the segment");
    patch_refused(b, n, s1 + 32, UINT64_MAX, 8, "zero tail");
    patch_refused(b, n, s1 + 32, 0, 8, "image: segment 1: ");
    patch_refused(b, n, s0 + 32, (1ULL << 30) + 8, 8, "image: segment 0: ");
    patch_refused(b, n, s0 + 8, 8, 8, "zero tail 1073741824 longer");
    dvm_free(b);
    program_free(p);
    p = zero_sample();
    p->segs[0].zero_tail = p->segs[0].size + 1;
    expect_invalid(p, "segment 0: zero tail");
    p = zero_sample();
    p->segs[0].zero_tail = p->segs[0].size - p->segs[0].insn_offs[3];
    expect_invalid(p, "outside the segment's stored bytes");
}

/* ---- files ------------------------------------------------------------- */

/* Number of entries in dir other than . and .. */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        k += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return k;
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvm-image-test-XXXXXX", path[128], bad[160];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.img", dir);
    dvm_program *p = sample(), *q;
    assert_int_equal(image_save(p, path), DVM_OK);
    assert_int_equal(image_save(p, path), DVM_OK);      /* replaces */
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(image_load(path, &q), DVM_OK);
    assert_programs_equal(p, q);
    program_free(q);
    snprintf(bad, sizeof bad, "%s/no/such/dir.img", dir);
    assert_int_equal(image_save(p, bad), DVM_EIO);
    assert_non_null(strstr(status_message(), "cannot create"));
    assert_int_equal(image_load(bad, &q), DVM_EIO);
    assert_int_equal(truncate(path, 50), 0);
    assert_int_equal(image_load(path, &q), DVM_EFORMAT);
    assert_non_null(strstr(status_message(), "a.img: image: truncated"));
    p->segs[1].size = 0;                          /* invalid: nothing written */
    assert_int_equal(image_save(p, path), DVM_EFORMAT);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(image_load(dir, &q), DVM_EIO);
    snprintf(bad, sizeof bad, "%s/sub", dir);
    assert_int_equal(mkdir(bad, 0700), 0);
    p->segs[1].size = 13;
    assert_int_equal(image_save(p, bad), DVM_EIO);     /* a directory */
    assert_non_null(strstr(status_message(), "is a directory"));
    assert_int_equal(dir_entries(dir), 2);             /* no temporary */
    rmdir(bad);
    /* A symbolic link stays a link: the file it names is written. */
    snprintf(bad, sizeof bad, "%s/link.img", dir);
    assert_int_equal(symlink("a.img", bad), 0);
    assert_int_equal(image_save(p, bad), DVM_OK);
    struct stat sb;
    assert_int_equal(lstat(bad, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(image_load(path, &q), DVM_OK);
    program_free(q);
    unlink(bad);
    unlink(path);
    rmdir(dir);
    program_free(p);
}

static void test_has_magic(void **state)
{
    (void)state;
    assert_true(image_has_magic((const uint8_t *)"DVMIMG\r\n", 8));
    assert_false(image_has_magic((const uint8_t *)"DVMIMG\r", 7));
    assert_false(image_has_magic((const uint8_t *)"DVMIMG\n\n", 8));
    assert_false(image_has_magic(NULL, 0));
}

/* ---- fuzz seeds -------------------------------------------------------- */

/* Writes b[0..n) to dir/name. */
static void write_seed(const char *dir, const char *name, const uint8_t *b,
                       size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Serialises p (then frees it) and writes it as seed name. */
static void seed_program(const char *dir, const char *name, dvm_program *p)
{
    uint8_t *b;
    size_t n;
    assert_int_equal(image_serialize(p, &b, &n), DVM_OK);
    write_seed(dir, name, b, n);
    dvm_free(b);
    program_free(p);
}

/* With DVM_IMAGE_SEED_DIR set, regenerates the fuzz seed corpus
 * (tests/fuzz/image/): valid images of several shapes, then broken ones. */
static void test_write_seeds(void **state)
{
    (void)state;
    const char *dir = getenv("DVM_IMAGE_SEED_DIR");
    if (!dir)
        skip();
    seed_program(dir, "valid-sample.img", sample());
    seed_program(dir, "valid-empty.img", program_new());
    seed_program(dir, "valid-code.img", code_only());
    seed_program(dir, "valid-zero-tail.img", zero_sample());
    dvm_program *p = sample();
    size_t n;
    add_heap(p, 0x60000000, 0x1000);
    add_chan(p, "out2", 0x1000, PROG_CHAN_OUT);
    seed_program(dir, "valid-more.img", p);
    uint8_t *b;
    p = sample_bytes(&b, &n);
    write_seed(dir, "broken-truncated.img", b, n / 2);
    b[n - 1] ^= 0x40;
    write_seed(dir, "broken-crc.img", b, n);
    b[n - 1] ^= 0x40;
    wr(b, 8, 3, 4);
    write_seed(dir, "broken-version.img", b, n);
    wr(b, 8, 2, 4);
    size_t n1;
    uint8_t *v1 = to_v1(p, b, n, &n1);
    write_seed(dir, "valid-v1.img", v1, n1);
    free(v1);
    wr(b, off_seg(p, 0) + SEG_FIXED + 4, 1, 4);  /* overlapping insns */
    reseal(b, n);
    write_seed(dir, "broken-insn.img", b, n);
    dvm_free(b);
    program_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_channel_lookup),
        cmocka_unit_test(test_roundtrip_code_only),
        cmocka_unit_test(test_roundtrip_zero_tail),
        cmocka_unit_test(test_version1_loads),
        cmocka_unit_test(test_zero_tail_rules),
        cmocka_unit_test(test_empty_program),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_hostile_counts),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_segment_rules),
        cmocka_unit_test(test_insn_rules),
        cmocka_unit_test(test_insn_canonical),
        cmocka_unit_test(test_symbol_rules),
        cmocka_unit_test(test_channel_rules),
        cmocka_unit_test(test_heap_rules),
        cmocka_unit_test(test_writer_validates),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_has_magic),
        cmocka_unit_test(test_write_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
