/*
 * code.c -- pre-decoding a program's code segments for the engines.
 *
 * code_build() walks the code segments of a program in address order and
 * decodes each instruction start listed in the segment (insn_offs) with
 * isa_decode(), the one validating gate from bytes to instructions.  The
 * instructions land in one flat array in address order, so the instruction
 * at an instruction's next_pc, when there is one, is always the following
 * array element.  Each code segment gets a per-byte map from offset to
 * instruction index (VM_NO_INSN for bytes that do not start an instruction),
 * which makes code_index() -- the check every computed jump goes through --
 * a binary search over the (few) segments plus one array load.
 *
 * After the array is complete, a second pass resolves `next` and, for jump
 * operands in direct mode, `target`, and asks the interpreter which handler
 * it wants (interp_select).  The read-only SR ranges are the code segments
 * (with their zero tails) followed by the input windows and the system
 * page; they are sorted and disjoint, which vm_check_write relies on.  The
 * index map covers a segment's stored bytes only: no instruction lies in a
 * zero tail, so a large `.zero` in `.text` costs no map.
 */
#include "exec/code.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* Number of code segments of p. */
static size_t count_code_segs(const dvm_program *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nsegs; i++)
        n += (p->segs[i].flags & PROG_SEG_CODE) != 0;
    return n;
}

/* Checks that code segments are sorted, disjoint, inside the SR and below
 * the input windows, and counts their instructions into *ninsns. */
static dvm_status check_segs(const dvm_program *p, size_t *ninsns)
{
    uint64_t prev_end = DISA_RB, n = 0;
    for (size_t i = 0; i < p->nsegs; i++) {
        const prog_segment *s = &p->segs[i];
        if (!(s->flags & PROG_SEG_CODE))
            continue;
        if (s->addr < prev_end || s->size > DISA_INPUT_BASE - s->addr ||
            s->size > UINT32_MAX)
            return status_set(DVM_EFORMAT, "code segment at 0x%llx overlaps "
                              "or lies outside the code area",
                              (unsigned long long)s->addr);
        prev_end = s->addr + s->size;
        n += s->ninsns;
    }
    if (n >= VM_NO_INSN)
        return status_set(DVM_EFORMAT, "too many instructions");
    *ninsns = (size_t)n;
    return DVM_OK;
}

/* Copies the decoded instruction d at address pc (size bytes) into *vi. */
static void fill_insn(vm_insn *vi, const isa_insn *d, uint64_t pc,
                      size_t size)
{
    memset(vi, 0, sizeof *vi);
    vi->op = d->op;
    vi->opt = d->opt;
    vi->nops = d->nops;
    vi->pc = pc;
    vi->next_pc = pc + size;
    vi->next = VM_NO_INSN;
    vi->target = VM_NO_INSN;
    memcpy(vi->o, d->ops, sizeof vi->o);
}

/* Decodes the instructions of code segment s into c (appending at
 * c->ninsns) and fills the segment's index map cs. */
static dvm_status decode_seg(vm_code *c, const prog_segment *s,
                             vm_code_seg *cs)
{
    uint64_t end = 0;           /* first byte after the previous insn */
    for (uint64_t k = 0; k < s->ninsns; k++) {
        uint32_t off = s->insn_offs[k];
        isa_insn d;
        size_t size;
        uint64_t stored = prog_seg_stored(s);
        if (off >= stored || off < end)
            return status_set(DVM_EFORMAT, "bad instruction offset at 0x%llx",
                              (unsigned long long)(s->addr + off));
        if (isa_decode(s->bytes + off, stored - off, &d, &size)) {
            char why[256];
            snprintf(why, sizeof why, "%s", status_message());
            return status_set(DVM_EFORMAT, "undecodable instruction at "
                              "0x%llx: %s", (unsigned long long)(s->addr + off),
                              why);
        }
        fill_insn(&c->insns[c->ninsns], &d, s->addr + off, size);
        cs->index[off] = (uint32_t)c->ninsns++;
        end = off + size;
    }
    return DVM_OK;
}

/* Allocates the index map of cs for segment s (all VM_NO_INSN). */
static dvm_status seg_init(vm_code_seg *cs, const prog_segment *s)
{
    cs->addr = s->addr;
    cs->size = prog_seg_stored(s);
    cs->end = s->addr + s->size;
    cs->index = dvm_malloc((cs->size ? cs->size : 1) * sizeof(uint32_t));
    if (!cs->index)
        return status_set(DVM_ENOMEM, "out of memory decoding code");
    memset(cs->index, 0xff, cs->size * sizeof(uint32_t));
    return DVM_OK;
}

/* Builds the read-only ranges: code segments, then input + system page. */
static dvm_status build_ro(vm_code *c)
{
    c->ro = dvm_calloc(c->nsegs + 1, sizeof(dvm_range));
    if (!c->ro)
        return status_set(DVM_ENOMEM, "out of memory decoding code");
    for (size_t i = 0; i < c->nsegs; i++)
        if (c->segs[i].end > c->segs[i].addr)
            c->ro[c->nro++] = (dvm_range){c->segs[i].addr, c->segs[i].end};
    c->ro[c->nro++] = (dvm_range){DISA_INPUT_BASE, DISA_ADDR_LIMIT};
    return DVM_OK;
}

/* Index of the J operand of in, or -1 when it has none. */
static int jump_operand(const vm_insn *in)
{
    if (in->op == ISA_OP_BR)
        return in->opt == ISA_OPT_J ? 0 : 2;
    if (in->op == ISA_OP_BL)
        return 0;
    return -1;
}

/* Resolves next, target and the interpreter handler of every insn. */
static void link_insns(vm_code *c)
{
    for (size_t i = 0; i < c->ninsns; i++) {
        vm_insn *in = &c->insns[i];
        in->next = code_index(c, in->next_pc);
        assert(in->next == VM_NO_INSN || in->next == i + 1);
        int j = jump_operand(in);
        if (j >= 0 && in->o[j].mode == ISA_M_DIR)
            in->target = code_index(c, in->o[j].value);
        in->xop = interp_select(in);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends the PR pages of direct-mode operand o (its first and last byte,
 * 8 bytes at most) to c->pr_pages; room was made for two per operand. */
static void add_pr_pages(vm_code *c, const isa_operand *o)
{
    if (o->mode != ISA_M_DIR || o->value >= DISA_RB)
        return;
    uint64_t last = o->value + 7 < DISA_RB ? o->value + 7 : DISA_RB - 1;
    c->pr_pages[c->npr_pages++] = o->value / DISA_PAGE;
    if (last / DISA_PAGE != o->value / DISA_PAGE)
        c->pr_pages[c->npr_pages++] = last / DISA_PAGE;
}

/* c->pr_pages from every instruction's operands (any operand: a superset
 * of the stores is as good for the RComp's PR reset, and simpler). */
static dvm_status collect_pr_pages(vm_code *c)
{
    c->pr_pages = dvm_calloc(2 * ISA_MAX_OPERANDS * c->ninsns + 1,
                             sizeof *c->pr_pages);
    if (!c->pr_pages)
        return status_set(DVM_ENOMEM, "out of memory decoding code");
    for (size_t i = 0; i < c->ninsns; i++)
        for (unsigned k = 0; k < c->insns[i].nops; k++)
            add_pr_pages(c, &c->insns[i].o[k]);
    if (c->npr_pages > 1)
        qsort(c->pr_pages, c->npr_pages, sizeof *c->pr_pages, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < c->npr_pages; i++)
        if (!m || c->pr_pages[m - 1] != c->pr_pages[i])
            c->pr_pages[m++] = c->pr_pages[i];
    c->npr_pages = m;
    return DVM_OK;
}

/* c->cost, the running sum of interp_cost over the insns (linked). */
static dvm_status build_cost(vm_code *c)
{
    c->cost = dvm_calloc(c->ninsns + 1, sizeof *c->cost);
    if (!c->cost)
        return status_set(DVM_ENOMEM, "out of memory decoding code");
    for (size_t i = 0; i < c->ninsns; i++)
        c->cost[i + 1] = c->cost[i] + interp_cost(&c->insns[i]);
    return DVM_OK;
}

/* Decodes every code segment of p into c (allocated, zeroed). */
static dvm_status build(const dvm_program *p, vm_code *c)
{
    size_t ninsns = 0;
    dvm_status st = check_segs(p, &ninsns);
    if (st)
        return st;
    c->insns = dvm_calloc(ninsns ? ninsns : 1, sizeof(vm_insn));
    c->segs = dvm_calloc(count_code_segs(p) + 1, sizeof(vm_code_seg));
    if (!c->insns || !c->segs)
        return status_set(DVM_ENOMEM, "out of memory decoding code");
    for (size_t i = 0; i < p->nsegs; i++) {
        const prog_segment *s = &p->segs[i];
        if (!(s->flags & PROG_SEG_CODE))
            continue;
        if ((st = seg_init(&c->segs[c->nsegs++], s)) ||
            (st = decode_seg(c, s, &c->segs[c->nsegs - 1])))
            return st;
    }
    assert(c->ninsns == ninsns);
    if ((st = build_ro(c)) || (st = collect_pr_pages(c)))
        return st;
    link_insns(c);
    return build_cost(c);
}

dvm_status code_build(const dvm_program *p, vm_code **out)
{
    assert(p && out);
    vm_code *c = dvm_calloc(1, sizeof *c);
    if (!c)
        return status_set(DVM_ENOMEM, "out of memory decoding code");
    dvm_status st = build(p, c);
    if (st) {
        code_free(c);
        return st;
    }
    *out = c;
    return DVM_OK;
}

void code_free(vm_code *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsegs; i++)
        dvm_free(c->segs[i].index);
    dvm_free(c->segs);
    dvm_free(c->insns);
    dvm_free(c->ro);
    dvm_free(c->cost);
    dvm_free(c->pr_pages);
    dvm_free(c);
}

uint32_t code_index(const vm_code *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nsegs;
    while (lo < hi) {           /* first segment ending after addr */
        size_t mid = lo + (hi - lo) / 2;
        if (c->segs[mid].addr + c->segs[mid].size <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == c->nsegs || addr < c->segs[lo].addr)
        return VM_NO_INSN;
    return c->segs[lo].index[addr - c->segs[lo].addr];
}
