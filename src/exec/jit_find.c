/*
 * jit_find.c -- the instructions of a translated region (jit_find.h),
 * without LLVM.
 *
 * A region is named by its entry instruction and holds the instructions
 * reachable from it along direct edges: fall-through, direct (DIR-mode)
 * branch targets, `bl` targets, and the return points of the `bl`s it
 * contains (reached back through `br:j (link)`), which are dispatch
 * targets besides the entry.  When the entry heads a loop, only the loop
 * and the functions it calls: the code after the loop runs once, and
 * translating it would cost more than interpreting it.  At most max
 * instructions; a jump to one outside leaves the region (jit_region.c).
 */
#include <assert.h>
#include <string.h>

#include "exec/jit_find.h"
#include "util/alloc.h"

/* The region being found. */
typedef struct finder {
    const vm_code *code;
    uint8_t *in_region;         /* per insn: JIT_IN_* bits */
    uint32_t *list;             /* region insns in discovery order */
    size_t nlist;
    size_t max;                 /* ... at most this many */
} finder;

/* The direct successors of in into s[0..1] (VM_NO_INSN: none); s[1] of a
 * bl is its return point.  Returns the number of slots used. */
static int successors(const vm_insn *in, uint32_t s[2])
{
    s[0] = s[1] = VM_NO_INSN;
    switch (in->op) {
    case ISA_OP_EXIT:
        return 0;
    case ISA_OP_BR:
        s[0] = in->target;
        if (in->opt != ISA_OPT_J)
            s[1] = in->next;
        return 2;
    case ISA_OP_BL:
        s[0] = in->target;
        s[1] = in->next;
        return 2;
    default:
        s[0] = in->next;
        return 1;
    }
}

/* Adds insn i to the region (once); case marks it a dispatch target. */
static void region_add(finder *b, uint32_t i, int is_case)
{
    if (i == VM_NO_INSN)
        return;
    if (!b->in_region[i]) {
        if (b->nlist >= b->max)
            return;             /* full: a jump there leaves the region */
        b->list[b->nlist++] = i;
    }
    b->in_region[i] |= JIT_IN_REGION | (is_case ? JIT_IN_CASE : 0);
}

/* Adds everything reachable along direct edges from the region's insns
 * list[from..], with the return points of bls as dispatch targets. */
static void region_grow(finder *b, size_t from)
{
    for (size_t k = from; k < b->nlist; k++) {
        const vm_insn *in = &b->code->insns[b->list[k]];
        uint32_t s[2];
        successors(in, s);
        region_add(b, s[0], 0);
        region_add(b, s[1], in->op == ISA_OP_BL);
    }
}

/* True when insn i is in the region and known to lead back to entry. */
static int leads_back(const finder *b, uint32_t i, uint32_t entry)
{
    return i != VM_NO_INSN && (i == entry || (b->in_region[i] & JIT_IN_LOOP));
}

/* Marks JIT_IN_LOOP the region's insns from which a path of direct edges
 * inside the region leads back to entry (a bl's return point counts as
 * its successor): a fixed point, walking the list backwards. */
static void mark_loop(finder *b, uint32_t entry)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = b->nlist; k-- > 0;) {
            uint32_t i = b->list[k], s[2];
            if (b->in_region[i] & JIT_IN_LOOP)
                continue;
            successors(&b->code->insns[i], s);
            if (leads_back(b, s[0], entry) || leads_back(b, s[1], entry)) {
                b->in_region[i] |= JIT_IN_LOOP;
                changed = 1;
            }
        }
    }
}

/* When entry lies on a loop, keeps only the loop (the insns that lead
 * back to it) and returns 1; else leaves the region as it is and returns
 * 0. */
static int keep_loop(finder *b, uint32_t entry)
{
    mark_loop(b, entry);
    int loop = (b->in_region[entry] & JIT_IN_LOOP) != 0;
    size_t m = 0;
    for (size_t k = 0; k < b->nlist; k++) {
        uint32_t i = b->list[k];
        if (!loop || (b->in_region[i] & JIT_IN_LOOP))
            b->list[m++] = i;
        else
            b->in_region[i] = 0;
        b->in_region[i] &= (uint8_t)~JIT_IN_LOOP;
    }
    b->nlist = m;
    return loop;
}

/* Finds the region of entry.  When entry heads a loop: the loop, and the
 * code of the functions it calls (reachable from their entries); the code
 * after the loop stays out (reached once, it is left to the interpreter).
 * Otherwise everything reachable from entry.  Always along direct edges,
 * with the return points of bls as further dispatch targets, and at most
 * b->max insns. */
static void region_find(finder *b, uint32_t entry)
{
    region_add(b, entry, 1);
    region_grow(b, 0);
    if (!keep_loop(b, entry))
        return;
    size_t n = b->nlist;
    for (size_t k = 0; k < n; k++) {
        const vm_insn *in = &b->code->insns[b->list[k]];
        if (in->op == ISA_OP_BL)
            region_add(b, in->target, 0);
    }
    region_grow(b, n);
}

size_t jit_find_region(const vm_code *code, uint32_t entry, size_t max,
                       uint8_t *flags, uint32_t *list)
{
    assert(code && entry < code->ninsns && max > 0 && flags && list);
    finder f = {code, flags, list, 0, max};
    region_find(&f, entry);
    return f.nlist;
}

size_t jit_find_size(const vm_code *code, uint32_t entry, size_t region_max)
{
    assert(code && entry < code->ninsns && region_max > 0);
    size_t n = 0;
    uint8_t *flags = dvm_calloc(code->ninsns, 1);
    uint32_t *list = dvm_malloc(region_max * sizeof *list);
    if (flags && list)
        n = jit_find_region(code, entry, region_max, flags, list);
    dvm_free(flags);
    dvm_free(list);
    return n;
}

/* True when the operands a and b name the same direct word. */
static int same_word(const isa_operand *a, const isa_operand *b)
{
    return a->mode == ISA_M_DIR && b->mode == ISA_M_DIR &&
           a->value == b->value;
}

/* True when the mov m copies one of x and y into the other. */
static int copies_between(const vm_insn *m, const isa_operand *x,
                          const isa_operand *y)
{
    const isa_operand *from = &m->o[0], *to = &m->o[1];
    return (same_word(from, x) && same_word(to, y)) ||
           (same_word(from, y) && same_word(to, x));
}

int jit_find_extremum_guard(const vm_code *code, uint32_t i)
{
    assert(code && i < code->ninsns);
    const vm_insn *br = &code->insns[i];
    if (br->op != ISA_OP_BR || br->opt == ISA_OPT_J || br->opt == ISA_OPT_E ||
        br->opt == ISA_OPT_NE || br->target == VM_NO_INSN ||
        br->target <= i + 1 || br->target - i - 1 > JIT_EXTREMUM_MOVS)
        return 0;
    int copies = 0;
    for (uint32_t j = i + 1; j < br->target; j++) {
        const vm_insn *m = &code->insns[j];
        if (code->insns[j - 1].next != j || m->op != ISA_OP_MOV)
            return 0;           /* not a straight run of movs */
        copies |= copies_between(m, &br->o[0], &br->o[1]);
    }
    return copies && code->insns[br->target - 1].next == br->target;
}
