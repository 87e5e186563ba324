/*
 * program.c -- ownership helpers and lookups for dvm_program.
 */
#include "image/program.h"

#include <string.h>

#include "util/alloc.h"

dvm_program *program_new(void)
{
    return dvm_calloc(1, sizeof(dvm_program));
}

void program_free(dvm_program *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsegs; i++) {
        dvm_free(p->segs[i].bytes);
        dvm_free(p->segs[i].insn_offs);
    }
    for (size_t i = 0; i < p->nsyms; i++)
        dvm_free(p->syms[i].name);
    for (size_t i = 0; i < p->nchans; i++)
        dvm_free(p->chans[i].name);
    dvm_free(p->segs);
    dvm_free(p->syms);
    dvm_free(p->chans);
    dvm_free(p->heap);
    dvm_free(p);
}

dvm_status program_symbol(const dvm_program *p, const char *name,
                          uint64_t *value)
{
    size_t lo = 0, hi = p->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->syms[mid].name, name);
        if (c == 0) {
            *value = p->syms[mid].value;
            return DVM_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return DVM_ENOENT;
}

const prog_channel *program_channel(const dvm_program *p, const char *name,
                                    size_t len)
{
    for (size_t c = 0; c < p->nchans; c++)
        if (strlen(p->chans[c].name) == len &&
            !memcmp(p->chans[c].name, name, len))
            return &p->chans[c];
    return NULL;
}

const prog_segment *program_segment_at(const dvm_program *p, uint64_t addr)
{
    for (size_t i = 0; i < p->nsegs; i++) {
        const prog_segment *s = &p->segs[i];
        if (addr >= s->addr && addr - s->addr < s->size)
            return s;
    }
    return NULL;
}
