/*
 * program.h -- a loaded DISA program in memory.
 *
 * The assembler produces a dvm_program, the image writer serialises one, the
 * image loader rebuilds one (validated), the disassembler prints one, and
 * the DVM loads one into the shared region.  It owns all its memory.
 *
 * Segments are contiguous runs of initialised bytes.  Each section (.text,
 * .data) is one or more segments: the assembler starts a new segment at every
 * `.org` that moves forward, so zero gaps are never stored.  A segment may
 * end in a zero tail: bytes [size - zero_tail, size) are zero and not held
 * in `bytes` (DISA 1.1: a `.zero` costs nothing; SR bytes no image byte
 * initialises read as zero, so the tail is never written to the SR either;
 * for a code segment it still counts as read only).  Segments are kept
 * sorted by address and never overlap.  A code segment (from .text) is read
 * only and carries the offsets of the instructions it holds; everything else
 * in it is data.  A data segment (from .data) is ordinary writable memory.
 */
#ifndef DVM_PROGRAM_H
#define DVM_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

enum { PROG_SEG_CODE = 1 };     /* from .text: read only, has instructions */
enum { PROG_CHAN_IN = 0, PROG_CHAN_OUT = 1 };

typedef struct prog_segment {
    uint64_t addr;        /* load address, in the SR */
    uint64_t size;        /* bytes */
    uint32_t flags;       /* PROG_SEG_CODE or 0 */
    uint64_t zero_tail;   /* trailing zero bytes not held in bytes */
    uint8_t *bytes;       /* size - zero_tail bytes, owned (NULL if none) */
    uint32_t *insn_offs;  /* sorted offsets of instruction starts, owned */
    uint64_t ninsns;
} prog_segment;

typedef struct prog_symbol {
    char *name;           /* owned */
    uint64_t value;
} prog_symbol;

typedef struct prog_channel {
    char *name;           /* owned */
    uint64_t addr;
    int dir;              /* PROG_CHAN_IN or PROG_CHAN_OUT */
} prog_channel;

typedef struct prog_range {
    uint64_t base, len;
} prog_range;

typedef struct dvm_program {
    prog_segment *segs;   size_t nsegs;
    prog_symbol *syms;    size_t nsyms;   /* sorted by name, unique */
    prog_channel *chans;  size_t nchans;  /* in declaration order */
    prog_range *heap;     size_t nheap;   /* 0: the whole SR */
    uint64_t entry;
} dvm_program;

/* Bytes of s held in s->bytes (the rest, its zero tail, reads as zero). */
static inline uint64_t prog_seg_stored(const prog_segment *s)
{
    return s->size - s->zero_tail;
}

/* Allocates an empty program; returns NULL on ENOMEM. */
dvm_program *program_new(void);
/* Frees p and everything it owns; NULL is a no-op. */
void program_free(dvm_program *p);
/* Looks a symbol up by name (binary search); returns 0 and sets *value, or
 * DVM_ENOENT (no message recorded). */
dvm_status program_symbol(const dvm_program *p, const char *name,
                          uint64_t *value);
/* Checks everything the DVM relies on (docs/image-format.md, "Validation"):
 * segments in the SR, sorted, disjoint, instructions decodable and disjoint;
 * names valid, symbols sorted and unique; channels well placed and unique;
 * heap ranges in the SR.  Returns 0, or DVM_EFORMAT (DVM_ENOMEM) with a
 * message.  Used by the image writer and loader (defined in image.c). */
dvm_status program_validate(const dvm_program *p);
/* The channel whose name is the len bytes at name (not NUL-terminated
 * necessarily), or NULL. */
const prog_channel *program_channel(const dvm_program *p, const char *name,
                                    size_t len);
/* The segment containing addr, or NULL. */
const prog_segment *program_segment_at(const dvm_program *p, uint64_t addr);

#endif
