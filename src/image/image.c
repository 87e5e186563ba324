/*
 * image.c -- the versioned binary image of a program.
 *
 * The format (docs/image-format.md) is a fixed 72-byte header followed by
 * four sections of records -- segments, symbols, channels, heap ranges --
 * each record starting on an 8-byte boundary, everything little endian.
 * Padding and reserved fields are zero, and the serialiser writes nothing
 * that does not follow from the program, so one program has exactly one
 * image: serialize(parse(bytes)) == bytes for every accepted file.  A CRC-32
 * (IEEE 802.3, reflected, as zlib computes it) covers every byte after the
 * header field that holds it.
 *
 * Reading is defensive in two layers.  The structural layer (read_*) walks
 * the bytes with a bounds-checked cursor: every count and every length is
 * compared with the bytes left in the file before anything is allocated, so
 * a hostile file can never make us allocate more than a small multiple of
 * its own size.  The semantic layer, program_validate(), checks what the DVM
 * relies on (segments in the SR, sorted and disjoint, instructions decodable
 * and disjoint, names well formed and unique, channel windows in place).
 * The writer runs the same program_validate() before serialising, so the
 * writer never produces a file the loader refuses.
 *
 * Messages start with "image: " and say what is wrong and where (record
 * index, and file offset for structural errors).
 *
 * Version 2 gives each segment a zero tail, trailing zero bytes that the
 * file does not hold (so `.zero 1<<30` costs 8 bytes).  Version 1 files
 * still load, as segments without a tail; the writer writes version 2 only,
 * so a version 1 file round-trips to the version 2 encoding of its program.
 */
#define _POSIX_C_SOURCE 200809L  /* strnlen, O_CLOEXEC, readlink */

#include "image/image.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isa/isa.h"
#include "util/alloc.h"
#include "util/crc32.h"
#include "util/le.h"

#define IMG_HEADER_SIZE 72u
#define IMG_CRC_OFF     20u          /* u32 crc lives here */
#define IMG_CRC_START   24u          /* the crc covers [24, file size) */
#define IMG_NAME_MAX    4096u
#define IMG_FILE_MAX    (4ULL << 30) /* image_load refuses bigger files */

/* Minimal encoded record sizes: the bound on counts before allocating.
 * A version 2 segment record has one more field (zero_tail) than version 1. */
#define IMG_SEG_MIN_V1 32u
#define IMG_SEG_MIN   40u
#define IMG_SYM_MIN   16u
#define IMG_CHAN_MIN  24u
#define IMG_HEAP_SIZE 16u

#define SEG_LO  DISA_RB             /* segments live in [SEG_LO, SEG_HI) */
#define SEG_HI  DISA_INPUT_BASE

typedef unsigned long long ull;

/* ---- layout helpers ----------------------------------------------------- */

/* n rounded up to a multiple of 8; the caller guarantees no overflow. */
static uint64_t pad8(uint64_t n)
{
    assert(n <= UINT64_MAX - 7);
    return (n + 7) & ~(uint64_t)7;
}

/* ---- validation (shared by writer and loader) -------------------------- */

/* True when c may appear in a name ([A-Za-z_.] first, digits after). */
static int name_char(unsigned char c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
        c == '.')
        return 1;
    return !first && c >= '0' && c <= '9';
}

/* NULL when s[0..n) is a valid name, else a fixed reason. */
static const char *name_problem(const char *s, size_t n)
{
    if (n == 0)
        return "empty name";
    if (n > IMG_NAME_MAX)
        return "name longer than 4096 bytes";
    for (size_t i = 0; i < n; i++)
        if (!name_char((unsigned char)s[i], i == 0))
            return "invalid character in name";
    return NULL;
}

/* Checks a NUL-terminated name of record `what` i; records the message. */
static dvm_status check_name(const char *s, const char *what, size_t i)
{
    if (!s)
        return status_set(DVM_EFORMAT, "image: %s %zu: no name", what, i);
    const char *why = name_problem(s, strnlen(s, IMG_NAME_MAX + 1));
    if (why)
        return status_set(DVM_EFORMAT, "image: %s %zu: %s", what, i, why);
    return DVM_OK;
}

/* Checks instruction j of segment i: inside, decodable, in the assembler's
 * one form (so it disassembles to source that assembles to the same bytes),
 * after the previous one (which ended at *end); advances *end past it. */
static dvm_status check_insn(const prog_segment *s, size_t i, uint64_t j,
                             uint64_t *end)
{
    uint32_t off = s->insn_offs[j];
    if (j > 0 && off <= s->insn_offs[j - 1])
        return status_set(DVM_EFORMAT, "image: segment %zu: instruction "
                          "offsets not sorted (0x%x after 0x%x)", i, off,
                          s->insn_offs[j - 1]);
    if (off < *end)
        return status_set(DVM_EFORMAT, "image: segment %zu: instruction %llu "
                          "at 0x%x overlaps the previous one (ends at 0x%llx)",
                          i, (ull)j, off, (ull)*end);
    uint64_t stored = prog_seg_stored(s);
    if (off >= stored)
        return status_set(DVM_EFORMAT, "image: segment %zu: instruction %llu "
                          "at 0x%x outside the segment's stored bytes (%llu)",
                          i, (ull)j, off, (ull)stored);
    isa_insn insn;
    size_t n;
    if (isa_decode(s->bytes + off, stored - off, &insn, &n) ||
        isa_check_canonical(&insn)) {
        char why[256];
        snprintf(why, sizeof why, "%s", status_message());
        return status_set(DVM_EFORMAT, "image: segment %zu: instruction %llu "
                          "at 0x%x: %s", i, (ull)j, off, why);
    }
    *end = (uint64_t)off + n;
    return DVM_OK;
}

/* Checks the placement of segment i (in the SR, after segment i-1). */
static dvm_status check_seg_place(const dvm_program *p, size_t i)
{
    const prog_segment *s = &p->segs[i];
    if (s->size == 0)
        return status_set(DVM_EFORMAT, "image: segment %zu: empty", i);
    if (s->addr < SEG_LO || s->addr >= SEG_HI || s->size > SEG_HI - s->addr)
        return status_set(DVM_EFORMAT, "image: segment %zu: [0x%llx, +0x%llx)"
                          " outside the SR [0x%llx, 0x%llx)", i,
                          (ull)s->addr, (ull)s->size, (ull)SEG_LO,
                          (ull)SEG_HI);
    if (i > 0) {
        const prog_segment *q = &p->segs[i - 1];
        if (s->addr < q->addr + q->size)
            return status_set(DVM_EFORMAT, "image: segment %zu at 0x%llx "
                              "overlaps or precedes segment %zu (ends at "
                              "0x%llx)", i, (ull)s->addr, i - 1,
                              (ull)(q->addr + q->size));
    }
    return DVM_OK;
}

/* Checks segment i of p completely. */
static dvm_status check_segment(const dvm_program *p, size_t i)
{
    const prog_segment *s = &p->segs[i];
    if (s->flags & ~(uint32_t)PROG_SEG_CODE)
        return status_set(DVM_EFORMAT, "image: segment %zu: unknown flags "
                          "0x%x", i, s->flags);
    dvm_status st = check_seg_place(p, i);
    if (st)
        return st;
    if (s->zero_tail > s->size)
        return status_set(DVM_EFORMAT, "image: segment %zu: zero tail %llu "
                          "longer than the segment (%llu bytes)", i,
                          (ull)s->zero_tail, (ull)s->size);
    if ((prog_seg_stored(s) && !s->bytes) || (s->ninsns && !s->insn_offs))
        return status_set(DVM_EFORMAT, "image: segment %zu: missing bytes "
                          "or offsets", i);
    if (!(s->flags & PROG_SEG_CODE) && s->ninsns)
        return status_set(DVM_EFORMAT, "image: segment %zu: data segment "
                          "with %llu instructions", i, (ull)s->ninsns);
    uint64_t end = 0;
    for (uint64_t j = 0; j < s->ninsns; j++)
        if ((st = check_insn(s, i, j, &end)))
            return st;
    return DVM_OK;
}

/* Checks symbol i of p: valid name, strictly after symbol i-1. */
static dvm_status check_symbol(const dvm_program *p, size_t i)
{
    dvm_status st = check_name(p->syms[i].name, "symbol", i);
    if (st)
        return st;
    if (i > 0 && strcmp(p->syms[i - 1].name, p->syms[i].name) >= 0)
        return status_set(DVM_EFORMAT, "image: symbol %zu \"%.64s\" not "
                          "after \"%.64s\" (symbols must be sorted and "
                          "unique)", i, p->syms[i].name,
                          p->syms[i - 1].name);
    return DVM_OK;
}

/* Checks the window of channel i (direction and address). */
static dvm_status check_chan_addr(const prog_channel *c, size_t i)
{
    if (c->dir == PROG_CHAN_OUT) {
        if (c->addr >= DISA_OUT || c->addr + 8 > DISA_OUT)
            return status_set(DVM_EFORMAT, "image: channel %zu \"%s\": out "
                              "address 0x%llx not in [0, 0x%llx) with room "
                              "for its count", i, c->name, (ull)c->addr,
                              (ull)DISA_OUT);
        return DVM_OK;
    }
    if (c->dir != PROG_CHAN_IN)
        return status_set(DVM_EFORMAT, "image: channel %zu \"%s\": invalid "
                          "direction %d", i, c->name, c->dir);
    if (c->addr < DISA_INPUT_BASE || c->addr > DISA_INPUT_LAST)
        return status_set(DVM_EFORMAT, "image: channel %zu \"%s\": in "
                          "address 0x%llx not in [0x%llx, 0x%llx] (a window "
                          "of at least one byte)", i, c->name, (ull)c->addr,
                          (ull)DISA_INPUT_BASE, (ull)DISA_INPUT_LAST);
    return DVM_OK;
}

/* Checks channel i alone (name, not stdout, window). */
static dvm_status check_channel(const dvm_program *p, size_t i)
{
    const prog_channel *c = &p->chans[i];
    dvm_status st = check_name(c->name, "channel", i);
    if (st)
        return st;
    if (strcmp(c->name, "stdout") == 0)
        return status_set(DVM_EFORMAT, "image: channel %zu: \"stdout\" is "
                          "predefined", i);
    return check_chan_addr(c, i);
}

/* qsort order of channel pointers: by name. */
static int cmp_chan_ptr(const void *a, const void *b)
{
    const prog_channel *x = *(const prog_channel *const *)a;
    const prog_channel *y = *(const prog_channel *const *)b;
    return strcmp(x->name, y->name);
}

/* Refuses two channels of p with one name (sorts a copy: O(n log n)). */
static dvm_status check_chan_dups(const dvm_program *p)
{
    if (p->nchans < 2)
        return DVM_OK;
    const prog_channel **v = dvm_malloc(p->nchans * sizeof *v);
    if (!v)
        return status_set(DVM_ENOMEM, "image: out of memory checking "
                          "channels");
    for (size_t i = 0; i < p->nchans; i++)
        v[i] = &p->chans[i];
    qsort(v, p->nchans, sizeof *v, cmp_chan_ptr);
    dvm_status st = DVM_OK;
    for (size_t i = 1; i < p->nchans && !st; i++)
        if (strcmp(v[i - 1]->name, v[i]->name) == 0)
            st = status_set(DVM_EFORMAT, "image: channel %zu: duplicate name "
                            "\"%.64s\"", (size_t)(v[i] - p->chans),
                            v[i]->name);
    dvm_free(v);
    return st;
}

/* Checks heap range i: not empty, inside the SR. */
static dvm_status check_heap(const dvm_program *p, size_t i)
{
    const prog_range *r = &p->heap[i];
    if (r->len == 0)
        return status_set(DVM_EFORMAT, "image: heap range %zu: zero length",
                          i);
    if (r->base < DISA_RB || r->base >= DISA_ADDR_LIMIT ||
        r->len > DISA_ADDR_LIMIT - r->base)
        return status_set(DVM_EFORMAT, "image: heap range %zu: [0x%llx, "
                          "+0x%llx) outside the SR [0x%llx, 0x%llx)", i,
                          (ull)r->base, (ull)r->len, (ull)DISA_RB,
                          (ull)DISA_ADDR_LIMIT);
    return DVM_OK;
}

/* Declared in program.h: every rule of docs/image-format.md that concerns
 * the program rather than the bytes.  Returns 0 or DVM_EFORMAT (DVM_ENOMEM)
 * with a message; p is not modified. */
dvm_status program_validate(const dvm_program *p)
{
    assert(p);
    dvm_status st = DVM_OK;
    for (size_t i = 0; i < p->nsegs && !st; i++)
        st = check_segment(p, i);
    for (size_t i = 0; i < p->nsyms && !st; i++)
        st = check_symbol(p, i);
    for (size_t i = 0; i < p->nchans && !st; i++)
        st = check_channel(p, i);
    if (!st)
        st = check_chan_dups(p);
    for (size_t i = 0; i < p->nheap && !st; i++)
        st = check_heap(p, i);
    return st;
}

/* ---- writer ------------------------------------------------------------ */

/* Adds n to *acc; -1 on overflow of size_t. */
static int size_add(size_t *acc, uint64_t n)
{
    if (n > SIZE_MAX - *acc)
        return -1;
    *acc += (size_t)n;
    return 0;
}

/* Encoded size of segment s into *acc; -1 on overflow. */
static int seg_size(const prog_segment *s, size_t *acc)
{
    uint64_t stored = prog_seg_stored(s);
    if (s->ninsns > (UINT64_MAX - 7) / 4 || stored > UINT64_MAX - 7)
        return -1;
    return size_add(acc, IMG_SEG_MIN) || size_add(acc, pad8(s->ninsns * 4)) ||
           size_add(acc, pad8(stored));
}

/* Total encoded size of valid program p into *out; DVM_ERANGE if it does
 * not fit in memory. */
static dvm_status image_size(const dvm_program *p, size_t *out)
{
    size_t n = IMG_HEADER_SIZE;
    int bad = 0;
    for (size_t i = 0; i < p->nsegs; i++)
        bad |= seg_size(&p->segs[i], &n);
    for (size_t i = 0; i < p->nsyms; i++)
        bad |= size_add(&n, pad8(12 + strlen(p->syms[i].name)));
    for (size_t i = 0; i < p->nchans; i++)
        bad |= size_add(&n, pad8(16 + strlen(p->chans[i].name)));
    for (size_t i = 0; i < p->nheap; i++)
        bad |= size_add(&n, IMG_HEAP_SIZE);
    if (bad)
        return status_set(DVM_ERANGE, "image: program too large to "
                          "serialise");
    *out = n;
    return DVM_OK;
}

/* Output cursor over a zeroed buffer of exactly the image size (so padding
 * and reserved fields need no writing). */
typedef struct wbuf {
    uint8_t *p;
    size_t pos, cap;
} wbuf;

/* Appends v (little endian); the buffer was sized to hold it. */
static void put32(wbuf *w, uint32_t v)
{
    assert(w->pos + 4 <= w->cap);
    le_st32(w->p + w->pos, v);
    w->pos += 4;
}

static void put64(wbuf *w, uint64_t v)
{
    assert(w->pos + 8 <= w->cap);
    le_st64(w->p + w->pos, v);
    w->pos += 8;
}

/* Copies n bytes, then skips to the next 8-byte boundary. */
static void put_bytes(wbuf *w, const void *src, size_t n)
{
    assert(pad8(w->pos + n) <= w->cap);
    if (n)
        memcpy(w->p + w->pos, src, n);
    w->pos = (size_t)pad8(w->pos + n);
}

/* Writes the 72-byte header of p; the CRC stays 0 until put_program. */
static void put_header(wbuf *w, const dvm_program *p)
{
    put_bytes(w, IMAGE_MAGIC, 8);
    put32(w, IMAGE_VERSION);
    put32(w, 0);                      /* flags */
    put32(w, IMG_HEADER_SIZE);
    put32(w, 0);                      /* crc, filled in last */
    put64(w, w->cap);
    put64(w, p->nsegs);
    put64(w, p->nsyms);
    put64(w, p->nchans);
    put64(w, p->nheap);
    put64(w, p->entry);
    assert(w->pos == IMG_HEADER_SIZE);
}

/* Writes segment record s: fields, offsets, bytes (padding is zero). */
static void put_segment(wbuf *w, const prog_segment *s)
{
    put64(w, s->addr);
    put64(w, s->size);
    put32(w, s->flags);
    put32(w, 0);                      /* reserved */
    put64(w, s->ninsns);
    put64(w, s->zero_tail);
    for (uint64_t j = 0; j < s->ninsns; j++)
        put32(w, s->insn_offs[j]);
    w->pos = (size_t)pad8(w->pos);
    put_bytes(w, s->bytes, (size_t)prog_seg_stored(s));
}

/* Writes symbol record s. */
static void put_symbol(wbuf *w, const prog_symbol *s)
{
    size_t n = strlen(s->name);
    put64(w, s->value);
    put32(w, (uint32_t)n);
    put_bytes(w, s->name, n);
}

/* Writes channel record c. */
static void put_channel(wbuf *w, const prog_channel *c)
{
    size_t n = strlen(c->name);
    put64(w, c->addr);
    put32(w, (uint32_t)c->dir);
    put32(w, (uint32_t)n);
    put_bytes(w, c->name, n);
}

/* Writes valid program p into w (sized by image_size) and seals the CRC. */
static void put_program(wbuf *w, const dvm_program *p)
{
    put_header(w, p);
    for (size_t i = 0; i < p->nsegs; i++)
        put_segment(w, &p->segs[i]);
    for (size_t i = 0; i < p->nsyms; i++)
        put_symbol(w, &p->syms[i]);
    for (size_t i = 0; i < p->nchans; i++)
        put_channel(w, &p->chans[i]);
    for (size_t i = 0; i < p->nheap; i++) {
        put64(w, p->heap[i].base);
        put64(w, p->heap[i].len);
    }
    assert(w->pos == w->cap);
    le_st32(w->p + IMG_CRC_OFF,
            crc32_ieee(w->p + IMG_CRC_START, w->cap - IMG_CRC_START));
}

/* Contract in image.h.  Validates p first (DVM_EFORMAT), then writes; on
 * failure *buf and *len are untouched. */
dvm_status image_serialize(const dvm_program *p, uint8_t **buf, size_t *len)
{
    assert(p && buf && len);
    size_t n = 0;
    dvm_status st = program_validate(p);
    if (st)
        return st;
    if ((st = image_size(p, &n)))
        return st;
    uint8_t *b = dvm_calloc(1, n);
    if (!b)
        return status_set(DVM_ENOMEM, "image: out of memory (%zu bytes)", n);
    wbuf w = { b, 0, n };
    put_program(&w, p);
    *buf = b;
    *len = n;
    return DVM_OK;
}

/* ---- reader ------------------------------------------------------------ */

/* Input cursor: every read is preceded by need().  version is the file's
 * (1 or 2): it decides the segment record layout. */
typedef struct rbuf {
    const uint8_t *p;
    size_t len, pos;
    uint32_t version;
} rbuf;

/* Bytes not yet read. */
static size_t left(const rbuf *r)
{
    assert(r->pos <= r->len);
    return r->len - r->pos;
}

/* Refuses unless n more bytes are present for `what` of record `rec`. */
static dvm_status need(const rbuf *r, uint64_t n, const char *rec,
                       const char *what)
{
    if (n <= left(r))
        return DVM_OK;
    return status_set(DVM_EFORMAT, "image: %s: %s of %llu bytes exceeds file "
                      "(offset 0x%zx, %zu bytes left)", rec, what, (ull)n,
                      r->pos, left(r));
}

/* Reads a little-endian value; need() has checked the bytes exist. */
static uint32_t get32(rbuf *r)
{
    assert(left(r) >= 4);
    uint32_t v = le_ld32(r->p + r->pos);
    r->pos += 4;
    return v;
}

static uint64_t get64(rbuf *r)
{
    assert(left(r) >= 8);
    uint64_t v = le_ld64(r->p + r->pos);
    r->pos += 8;
    return v;
}

/* Skips the padding up to the next 8-byte boundary, refusing non-zero
 * bytes (the padding is present: sections were sized with pad8). */
static dvm_status skip_pad(rbuf *r, const char *rec)
{
    size_t to = (size_t)pad8(r->pos);
    assert(to <= r->len);
    for (; r->pos < to; r->pos++)
        if (r->p[r->pos])
            return status_set(DVM_EFORMAT, "image: %s: non-zero padding at "
                              "offset 0x%zx", rec, r->pos);
    return DVM_OK;
}

/* Refuses a count of records of at least min bytes that cannot fit. */
static dvm_status check_count(const rbuf *r, uint64_t count, unsigned min,
                              const char *what)
{
    if (count <= left(r) / min)
        return DVM_OK;
    return status_set(DVM_EFORMAT, "image: header: %llu %s cannot fit in the "
                      "%zu bytes left at offset 0x%zx", (ull)count, what,
                      left(r), r->pos);
}

/* Reads the instruction offsets of a segment (n of them) into *out. */
static dvm_status read_offsets(rbuf *r, uint64_t n, const char *rec,
                               uint32_t **out)
{
    if (n > left(r) / 4)
        return status_set(DVM_EFORMAT, "image: %s: %llu instruction offsets "
                          "exceed file (offset 0x%zx, %zu bytes left)", rec,
                          (ull)n, r->pos, left(r));
    dvm_status st = need(r, pad8(n * 4), rec, "instruction offsets");
    if (st)
        return st;
    uint32_t *v = n ? dvm_malloc((size_t)n * 4) : NULL;
    if (n && !v)
        return status_set(DVM_ENOMEM, "image: %s: out of memory", rec);
    for (uint64_t j = 0; j < n; j++)
        v[j] = get32(r);
    if ((st = skip_pad(r, rec))) {
        dvm_free(v);
        return st;
    }
    *out = v;
    return DVM_OK;
}

/* Reads the size stored bytes of a segment (and their padding) into *out
 * (NULL when size is 0). */
static dvm_status read_seg_bytes(rbuf *r, uint64_t size, const char *rec,
                                 uint8_t **out)
{
    if (size == 0) {
        *out = NULL;
        return DVM_OK;
    }
    if (size > left(r) || pad8(size) > left(r))
        return status_set(DVM_EFORMAT, "image: %s: size %llu exceeds file "
                          "(offset 0x%zx, %zu bytes left)", rec, (ull)size,
                          r->pos, left(r));
    uint8_t *b = dvm_malloc((size_t)size);
    if (!b)
        return status_set(DVM_ENOMEM, "image: %s: out of memory (%llu "
                          "bytes)", rec, (ull)size);
    memcpy(b, r->p + r->pos, (size_t)size);
    r->pos += (size_t)size;
    dvm_status st = skip_pad(r, rec);
    if (st) {
        dvm_free(b);
        return st;
    }
    *out = b;
    return DVM_OK;
}

/* Size of the fixed part of a segment record in r's version. */
static unsigned seg_min(const rbuf *r)
{
    return r->version >= 2 ? IMG_SEG_MIN : IMG_SEG_MIN_V1;
}

/* Reads segment record i into *out (which then owns its arrays). */
static dvm_status read_segment(rbuf *r, size_t i, prog_segment *out)
{
    char rec[48];
    snprintf(rec, sizeof rec, "segment %zu", i);
    prog_segment s = { 0 };
    dvm_status st = need(r, seg_min(r), rec, "record");
    if (st)
        return st;
    s.addr = get64(r);
    s.size = get64(r);
    s.flags = get32(r);
    uint32_t reserved = get32(r);
    s.ninsns = get64(r);
    if (reserved)
        return status_set(DVM_EFORMAT, "image: %s: reserved field 0x%x not "
                          "zero at offset 0x%zx", rec, reserved, r->pos - 12);
    if (r->version >= 2)
        s.zero_tail = get64(r);
    if (s.zero_tail > s.size)
        return status_set(DVM_EFORMAT, "image: %s: zero tail %llu longer "
                          "than the segment (%llu bytes) at offset 0x%zx",
                          rec, (ull)s.zero_tail, (ull)s.size, r->pos - 8);
    if ((st = read_offsets(r, s.ninsns, rec, &s.insn_offs)))
        return st;
    if ((st = read_seg_bytes(r, prog_seg_stored(&s), rec, &s.bytes)))
        goto err_offs;
    *out = s;
    return DVM_OK;
err_offs:
    dvm_free(s.insn_offs);
    return st;
}

/* Reads a name of n bytes at the cursor (and its padding) into *out. */
static dvm_status read_name(rbuf *r, uint32_t n, const char *rec, char **out)
{
    dvm_status st = need(r, pad8(r->pos + (uint64_t)n) - r->pos, rec, "name");
    if (st)
        return st;
    const char *why = name_problem((const char *)r->p + r->pos, n);
    if (why)
        return status_set(DVM_EFORMAT, "image: %s: %s at offset 0x%zx", rec,
                          why, r->pos);
    char *s = dvm_strndup((const char *)r->p + r->pos, n);
    if (!s)
        return status_set(DVM_ENOMEM, "image: %s: out of memory", rec);
    r->pos += n;
    if ((st = skip_pad(r, rec))) {
        dvm_free(s);
        return st;
    }
    *out = s;
    return DVM_OK;
}

/* Reads symbol record i into *out. */
static dvm_status read_symbol(rbuf *r, size_t i, prog_symbol *out)
{
    char rec[48];
    snprintf(rec, sizeof rec, "symbol %zu", i);
    dvm_status st = need(r, 12, rec, "record");
    if (st)
        return st;
    prog_symbol s;
    s.value = get64(r);
    uint32_t n = get32(r);
    if ((st = read_name(r, n, rec, &s.name)))
        return st;
    *out = s;
    return DVM_OK;
}

/* Reads channel record i into *out. */
static dvm_status read_channel(rbuf *r, size_t i, prog_channel *out)
{
    char rec[48];
    snprintf(rec, sizeof rec, "channel %zu", i);
    dvm_status st = need(r, 16, rec, "record");
    if (st)
        return st;
    prog_channel c;
    c.addr = get64(r);
    uint32_t dir = get32(r);
    uint32_t n = get32(r);
    if (dir != PROG_CHAN_IN && dir != PROG_CHAN_OUT)
        return status_set(DVM_EFORMAT, "image: %s: invalid direction %u at "
                          "offset 0x%zx (0 in, 1 out)", rec, dir, r->pos - 8);
    c.dir = (int)dir;
    if ((st = read_name(r, n, rec, &c.name)))
        return st;
    *out = c;
    return DVM_OK;
}

/* The fixed header fields after the magic. */
typedef struct img_header {
    uint64_t size, nsegs, nsyms, nchans, nheap, entry;
    uint32_t version;
} img_header;

/* Checks magic and version: the fields that say whether this is an image
 * we can read at all. */
static dvm_status check_ident(const uint8_t *buf, size_t len)
{
    if (!image_has_magic(buf, len))
        return status_set(DVM_EFORMAT, "image: bad magic (not a DVM image)");
    if (len < 12)
        return status_set(DVM_EFORMAT, "image: truncated header (%zu bytes)",
                          len);
    uint32_t v = le_ld32(buf + 8);
    if (v < IMAGE_VERSION_MIN || v > IMAGE_VERSION)
        return status_set(DVM_EFORMAT, "image: version %u not supported "
                          "(supported: %d to %d)", v, IMAGE_VERSION_MIN,
                          IMAGE_VERSION);
    return DVM_OK;
}

/* Checks the header's framing fields and the CRC, then sets *h. */
static dvm_status parse_header(const uint8_t *buf, size_t len, img_header *h)
{
    dvm_status st = check_ident(buf, len);
    if (st)
        return st;
    if (len < IMG_HEADER_SIZE)
        return status_set(DVM_EFORMAT, "image: truncated header (%zu of %u "
                          "bytes)", len, IMG_HEADER_SIZE);
    uint32_t flags = le_ld32(buf + 12), hsize = le_ld32(buf + 16);
    if (hsize != IMG_HEADER_SIZE)
        return status_set(DVM_EFORMAT, "image: header size %u (versions 1 "
                          "and 2 have %u)", hsize, IMG_HEADER_SIZE);
    if (flags)
        return status_set(DVM_EFORMAT, "image: unknown header flags 0x%x",
                          flags);
    uint64_t size = le_ld64(buf + 24);
    if (size > len)
        return status_set(DVM_EFORMAT, "image: truncated: header says %llu "
                          "bytes, file has %zu", (ull)size, len);
    if (size < len)
        return status_set(DVM_EFORMAT, "image: trailing garbage: %llu bytes "
                          "after the image's %llu", (ull)(len - size),
                          (ull)size);
    uint32_t want = le_ld32(buf + IMG_CRC_OFF);
    uint32_t got = crc32_ieee(buf + IMG_CRC_START, len - IMG_CRC_START);
    if (want != got)
        return status_set(DVM_EFORMAT, "image: bad CRC (header 0x%08x, "
                          "contents 0x%08x): file corrupted", want, got);
    *h = (img_header){ size, le_ld64(buf + 32), le_ld64(buf + 40), le_ld64(buf + 48),
                       le_ld64(buf + 56), le_ld64(buf + 64), le_ld32(buf + 8) };
    return DVM_OK;
}

/* Section readers: bound the count n by the bytes left, allocate, then
 * read n records into p, counting them as they are read so that p owns
 * (and program_free releases) exactly what was read, even on failure. */
static dvm_status read_segments(rbuf *r, uint64_t n, dvm_program *p)
{
    dvm_status st = check_count(r, n, seg_min(r), "segments");
    if (st)
        return st;
    if (n && !(p->segs = dvm_calloc((size_t)n, sizeof *p->segs)))
        return status_set(DVM_ENOMEM, "image: out of memory (segments)");
    for (; p->nsegs < n; p->nsegs++)
        if ((st = read_segment(r, p->nsegs, &p->segs[p->nsegs])))
            return st;
    return DVM_OK;
}

/* As read_segments, for symbols. */
static dvm_status read_symbols(rbuf *r, uint64_t n, dvm_program *p)
{
    dvm_status st = check_count(r, n, IMG_SYM_MIN, "symbols");
    if (st)
        return st;
    if (n && !(p->syms = dvm_calloc((size_t)n, sizeof *p->syms)))
        return status_set(DVM_ENOMEM, "image: out of memory (symbols)");
    for (; p->nsyms < n; p->nsyms++)
        if ((st = read_symbol(r, p->nsyms, &p->syms[p->nsyms])))
            return st;
    return DVM_OK;
}

/* As read_segments, for channels. */
static dvm_status read_channels(rbuf *r, uint64_t n, dvm_program *p)
{
    dvm_status st = check_count(r, n, IMG_CHAN_MIN, "channels");
    if (st)
        return st;
    if (n && !(p->chans = dvm_calloc((size_t)n, sizeof *p->chans)))
        return status_set(DVM_ENOMEM, "image: out of memory (channels)");
    for (; p->nchans < n; p->nchans++)
        if ((st = read_channel(r, p->nchans, &p->chans[p->nchans])))
            return st;
    return DVM_OK;
}

/* As read_segments, for heap ranges (fixed 16-byte records, fully
 * covered by check_count). */
static dvm_status read_heap(rbuf *r, uint64_t n, dvm_program *p)
{
    dvm_status st = check_count(r, n, IMG_HEAP_SIZE, "heap ranges");
    if (st)
        return st;
    if (n && !(p->heap = dvm_calloc((size_t)n, sizeof *p->heap)))
        return status_set(DVM_ENOMEM, "image: out of memory (heap ranges)");
    for (; p->nheap < n; p->nheap++) {
        p->heap[p->nheap].base = get64(r);
        p->heap[p->nheap].len = get64(r);
    }
    return DVM_OK;
}

/* Reads the four sections after the header into p (which owns whatever
 * was read even on failure), then refuses trailing bytes. */
static dvm_status read_body(rbuf *r, const img_header *h, dvm_program *p)
{
    dvm_status st;
    if ((st = read_segments(r, h->nsegs, p)) ||
        (st = read_symbols(r, h->nsyms, p)) ||
        (st = read_channels(r, h->nchans, p)) ||
        (st = read_heap(r, h->nheap, p)))
        return st;
    if (left(r))
        return status_set(DVM_EFORMAT, "image: trailing garbage: %zu bytes "
                          "after the heap ranges at offset 0x%zx", left(r),
                          r->pos);
    return DVM_OK;
}

/* Contract in image.h: header (framing, CRC), records, then semantics.
 * *out is set only on success; buf is not retained. */
dvm_status image_parse(const uint8_t *buf, size_t len, dvm_program **out)
{
    assert(out && (buf || !len));
    img_header h = { 0 };
    dvm_status st = parse_header(buf, len, &h);
    if (st)
        return st;
    dvm_program *p = program_new();
    if (!p)
        return status_set(DVM_ENOMEM, "image: out of memory");
    rbuf r = { buf, len, IMG_HEADER_SIZE, h.version };
    if ((st = read_body(&r, &h, p)))
        goto err_prog;
    p->entry = h.entry;
    if ((st = program_validate(p)))
        goto err_prog;
    *out = p;
    return DVM_OK;
err_prog:
    program_free(p);
    return st;
}

/* Contract in image.h; buf may be NULL when len is 0. */
int image_has_magic(const uint8_t *buf, size_t len)
{
    return buf && len >= 8 && memcmp(buf, IMAGE_MAGIC, 8) == 0;
}

/* ---- files ------------------------------------------------------------- */

/* Writes all n bytes of buf to fd; tmp names the file in messages. */
static dvm_status write_all(int fd, const uint8_t *buf, size_t n,
                            const char *tmp)
{
    while (n) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return status_set_errno(DVM_EIO, "image: cannot write %s", tmp);
        buf += k;
        n -= (size_t)k;
    }
    return DVM_OK;
}

/* Creates a fresh temporary file beside path, its name in tmp[cap]; returns
 * the descriptor or -1 with a message recorded. */
static int open_temp(const char *path, char *tmp, size_t cap)
{
    for (int k = 0; k < 100; k++) {
        snprintf(tmp, cap, "%s.tmp.%ld.%d", path, (long)getpid(), k);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            if (fd < 0)
                status_set_errno(DVM_EIO, "image: cannot create %s", tmp);
            return fd;
        }
    }
    status_set(DVM_EIO, "image: cannot create a temporary file for %s", path);
    return -1;
}

/* Writes buf to tmp (fd, closed here), then renames it over path; on
 * failure the temporary file is removed. */
static dvm_status commit_file(int fd, const char *tmp, const char *path,
                              const uint8_t *buf, size_t n)
{
    dvm_status st = write_all(fd, buf, n, tmp);
    if (!st && fsync(fd) != 0)
        st = status_set_errno(DVM_EIO, "image: cannot sync %s", tmp);
    if (close(fd) != 0 && !st)
        st = status_set_errno(DVM_EIO, "image: cannot close %s", tmp);
    if (!st && rename(tmp, path) != 0)
        st = status_set_errno(DVM_EIO, "image: cannot rename %s to %s", tmp,
                              path);
    if (st)
        unlink(tmp);
    return st;
}

/* Writes buf over the existing non-regular file path (a device, a FIFO)
 * in place: renaming over it would replace the node by a regular file. */
static dvm_status write_in_place(const char *path, const uint8_t *buf,
                                 size_t n)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_EIO, "image: cannot open %s", path);
    dvm_status st = write_all(fd, buf, n, path);
    if (close(fd) != 0 && !st)
        st = status_set_errno(DVM_EIO, "image: cannot write %s", path);
    return st;
}

/* Writes buf to a fresh temporary file beside path, then renames it over
 * path; nothing is left on failure. */
static dvm_status write_atomic(const char *path, const uint8_t *buf, size_t n)
{
    size_t cap = strlen(path) + 48;
    char *tmp = dvm_malloc(cap);
    if (!tmp)
        return status_set(DVM_ENOMEM, "image: out of memory");
    int fd = open_temp(path, tmp, cap);
    dvm_status st = fd < 0 ? DVM_EIO : commit_file(fd, tmp, path, buf, n);
    dvm_free(tmp);
    return st;
}

/* The file the symbolic link path names (its text, relative to the link's
 * directory), owned; NULL with a message on failure. */
static char *link_target(const char *path)
{
    char t[PATH_MAX];
    ssize_t k = readlink(path, t, sizeof t - 1);
    if (k < 0) {
        status_set_errno(DVM_EIO, "image: cannot read the link %s", path);
        return NULL;
    }
    const char *slash = strrchr(path, '/');
    size_t dir = t[0] == '/' || !slash ? 0 : (size_t)(slash - path) + 1;
    char *r = dvm_malloc(dir + (size_t)k + 1);
    if (!r) {
        status_set(DVM_ENOMEM, "image: out of memory");
        return NULL;
    }
    memcpy(r, path, dir);
    memcpy(r + dir, t, (size_t)k);
    r[dir + (size_t)k] = '\0';
    return r;
}

/* Writes buf to path as image_save says: through a symbolic link to the
 * file it names, existing or not (the link stays; links deeper than 40 are
 * refused), in place over an existing file that is not regular, else
 * atomically. */
static dvm_status write_file(const char *path, const uint8_t *buf, size_t n,
                             int links)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return write_atomic(path, buf, n);
    if (S_ISLNK(sb.st_mode)) {
        if (links >= 40)
            return status_set(DVM_EIO, "image: %s: too many levels of "
                              "symbolic links", path);
        char *target = link_target(path);
        if (!target)
            return DVM_EIO;
        dvm_status st = write_file(target, buf, n, links + 1);
        dvm_free(target);
        return st;
    }
    if (S_ISDIR(sb.st_mode))
        return status_set(DVM_EIO, "image: %s is a directory", path);
    return S_ISREG(sb.st_mode) ? write_atomic(path, buf, n)
                               : write_in_place(path, buf, n);
}

/* Contract in image.h. */
dvm_status image_save(const dvm_program *p, const char *path)
{
    assert(p && path);
    uint8_t *buf = NULL;
    size_t n = 0;
    dvm_status st = image_serialize(p, &buf, &n);
    if (st)
        return st;
    st = write_file(path, buf, n, 0);
    dvm_free(buf);
    return st;
}

/* Reads from fd until end of file into a growing buffer, refusing more than
 * IMG_FILE_MAX bytes; hint is the expected size.  Sets *buf (owned) and
 * *len. */
static dvm_status read_fd(int fd, const char *path, size_t hint,
                          uint8_t **buf, size_t *len)
{
    size_t cap = 0, n = 0;
    uint8_t *b = dvm_grow(NULL, &cap, hint + 1, 1);
    if (!b)
        return status_set(DVM_ENOMEM, "image: %s: out of memory", path);
    for (;;) {
        uint8_t *nb = dvm_grow(b, &cap, n + 1, 1);
        if (!nb) {
            dvm_free(b);
            return status_set(DVM_ENOMEM, "image: %s: out of memory", path);
        }
        b = nb;
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            dvm_free(b);
            return status_set_errno(DVM_EIO, "image: cannot read %s", path);
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > IMG_FILE_MAX) {
            dvm_free(b);
            return status_set(DVM_EFORMAT, "image: %s: larger than the 4 GiB "
                              "limit", path);
        }
    }
    *buf = b;
    *len = n;
    return DVM_OK;
}

/* Reads the whole file at path into *buf (owned) and *len. */
static dvm_status read_file(const char *path, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_EIO, "image: cannot open %s", path);
    struct stat sb;
    dvm_status st = DVM_OK;
    if (fstat(fd, &sb) != 0)
        st = status_set_errno(DVM_EIO, "image: cannot stat %s", path);
    else if (S_ISDIR(sb.st_mode))
        st = status_set(DVM_EIO, "image: %s is a directory", path);
    else if ((unsigned long long)sb.st_size > IMG_FILE_MAX)
        st = status_set(DVM_EFORMAT, "image: %s: %lld bytes, larger than the "
                        "4 GiB limit", path, (long long)sb.st_size);
    else
        st = read_fd(fd, path, S_ISREG(sb.st_mode) ? (size_t)sb.st_size : 0,
                     buf, len);
    close(fd);
    return st;
}

/* Contract in image.h; parse messages are prefixed with path. */
dvm_status image_load(const char *path, dvm_program **out)
{
    assert(path && out);
    uint8_t *buf = NULL;
    size_t len = 0;
    dvm_status st = read_file(path, &buf, &len);
    if (st)
        return st;
    if ((st = image_parse(buf, len, out)) && st != DVM_ENOMEM) {
        char why[768];
        snprintf(why, sizeof why, "%s", status_message());
        status_set(st, "%s: %s", path, why);
    }
    dvm_free(buf);
    return st;
}
