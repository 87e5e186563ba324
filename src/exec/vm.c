/*
 * vm.c -- the runner semantics both engines share.
 *
 * The writable set is a plain array of SR ranges (own stack, heap ranges,
 * stacks of created runners) with a hint: the index of the range that
 * matched last.  Runners write the same few ranges over and over, so the
 * common SR write costs one read-only test (a binary search over the sorted
 * read-only ranges of the code, usually two or three) and one range test.
 * PR writes never get here on the engines' fast paths; vm_check_write still
 * accepts them.  A write may be covered by several adjacent ranges; the slow
 * path walks the set until the whole write is covered.
 *
 * vm_newr reads the descriptors of DISA.md 5.1 through the window, each word
 * bounds-checked against 2^46 before it is touched, validates every range
 * (wholly in the SR, length > 0, no wrap-around, counts <= RUNNER_MAX_RANGES),
 * and only then appends the child, so a rejected newr leaves r unchanged.
 * On a fault, r->fault_addr names the descriptor word found bad.
 *
 * A stack descriptor with sb = 0 (DISA 1.1) is validated like the others
 * first (ss at most the stack area); then the write of the sb word is
 * checked, and only then is a stack taken from r->stacks, so no fault
 * leaves a stack taken.  The base is written last, when nothing can fail.
 *
 * In a noting run (vm_runner.notes) every descriptor word read is noted
 * as it is read, and the write of a chosen stack's base as it is made:
 * vm_note_access, which the interpreter calls for its own accesses too.
 */
#include "exec/vm.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"

static const char *const fault_text[VM_FAULT_COUNT] = {
#define VM_FAULT_TEXT(name, text) text,
    VM_FAULTS(VM_FAULT_TEXT)
#undef VM_FAULT_TEXT
};

void vm_runner_init(vm_runner *r, uint8_t *win, const vm_code *code)
{
    assert(r && win && code);
    memset(r, 0, sizeof *r);
    r->win = win;
    r->code = code;
    r->prw_lo = DISA_RB;
}

/* Frees the ranges owned by child k. */
static void child_free(runner_desc *k)
{
    dvm_free(k->heap);
    dvm_free(k->watch);
    k->heap = k->watch = NULL;
}

void vm_runner_reset(vm_runner *r)
{
    assert(r);
    for (size_t i = 0; i < r->nkids; i++)
        child_free(&r->kids[i]);
    r->nwr = r->nkids = r->wr_hint = 0;
    r->fault = VM_FAULT_NONE;
    r->fault_pc = r->fault_addr = 0;
    r->prw_pages = 0;
    r->prw_lo = DISA_RB;
    r->prw_hi = 0;
    r->own_lo = r->own_hi = 0;
    r->own_written = 0;
}

void vm_runner_destroy(vm_runner *r)
{
    if (!r)
        return;
    vm_runner_reset(r);
    dvm_free(r->wr);
    dvm_free(r->kids);
    r->wr = NULL;
    r->kids = NULL;
    r->capwr = r->capkids = 0;
}

dvm_status vm_runner_add_writable(vm_runner *r, uint64_t lo, uint64_t hi)
{
    assert(r && lo < hi);
    dvm_range *a = dvm_grow(r->wr, &r->capwr, r->nwr + 1, sizeof *a);
    if (!a)
        return status_set(DVM_ENOMEM, "out of memory for writable ranges");
    r->wr = a;
    r->wr[r->nwr++] = (dvm_range){lo, hi};
    return DVM_OK;
}

dvm_status vm_runner_add_own(vm_runner *r, uint64_t lo, uint64_t hi)
{
    dvm_status st = vm_runner_add_writable(r, lo, hi);
    if (!st) {
        r->own_lo = lo;
        r->own_hi = hi;
    }
    return st;
}

/* True when [lo, hi) touches a read-only range of r's code.  The ranges
 * are sorted and disjoint, so their ends are sorted too: find the first one
 * ending after lo and see whether it starts before hi. */
static int touches_ro(const vm_code *c, uint64_t lo, uint64_t hi)
{
    size_t a = dvm_range_first_after(c->ro, c->nro, lo);
    return a < c->nro && c->ro[a].lo < hi;
}

/* The writable range containing address a, or -1; sets the hint. */
static long find_wr(vm_runner *r, uint64_t a)
{
    for (size_t i = 0; i < r->nwr; i++)
        if (r->wr[i].lo <= a && a < r->wr[i].hi) {
            r->wr_hint = i;
            return (long)i;
        }
    return -1;
}

/* True when every byte of [lo, hi) lies in some writable range. */
static int covered(vm_runner *r, uint64_t lo, uint64_t hi)
{
    size_t h = r->wr_hint;
    if (h < r->nwr && r->wr[h].lo <= lo && hi <= r->wr[h].hi)
        return 1;
    while (lo < hi) {
        long i = find_wr(r, lo);
        if (i < 0)
            return 0;
        lo = r->wr[i].hi;
    }
    return 1;
}

int vm_check_write(vm_runner *r, uint64_t ea, unsigned n)
{
    assert(ea < DISA_ADDR_LIMIT && n <= DISA_ADDR_LIMIT - ea);
    uint64_t hi = ea + n;
    if (hi <= DISA_RB)
        return VM_FAULT_NONE;
    if (ea < DISA_RB)
        ea = DISA_RB;           /* straddling PR/SR: check the SR part */
    if (touches_ro(r->code, ea, hi))
        return VM_FAULT_READONLY;
    if (!covered(r, ea, hi))
        return VM_FAULT_WRITABLE;
    if (ea < r->own_hi && hi > r->own_lo)
        r->own_written = 1;
    return VM_FAULT_NONE;
}

/* True when the latest note of ns (which has one) is exactly n. */
static int repeats_last(const vm_notes *ns, const vm_note *n)
{
    assert(ns->n > 0);
    const vm_note *l = &ns->v[ns->n - 1];
    return l->addr == n->addr && l->len == n->len &&
           l->store == n->store && memcmp(l->bytes, n->bytes, 8) == 0;
}

/* True when [lo, hi) lies in one code segment (with its zero tail): bytes
 * that never change while the program runs.  Code segments are the
 * read-only ranges below the input windows (code.h, vm_code.ro). */
static int in_code(const vm_code *c, uint64_t lo, uint64_t hi)
{
    size_t a = dvm_range_first_after(c->ro, c->nro, lo);
    return hi <= DISA_INPUT_BASE && a < c->nro && c->ro[a].lo <= lo &&
           hi <= c->ro[a].hi;
}

void vm_note_access(vm_runner *r, uint64_t ea, unsigned w, int store)
{
    vm_notes *ns = r->notes;
    assert(ns && w >= 1 && w <= 8 && ea <= DISA_ADDR_LIMIT - w);
    assert(ns->n <= ns->cap && (ns->v || !ns->cap));
    if (ns->overflow || vm_unnoted_pr(ea, w) ||
        (ea >= r->own_lo && ea + w <= r->own_hi))
        return;
    if (!store && in_code(r->code, ea, ea + w))
        return;                 /* read-only for good: the same everywhere */
    vm_note n = { .addr = ea, .len = (uint8_t)w, .store = (uint8_t)!!store };
    memcpy(n.bytes, r->win + ea, w);
    if (ns->n > 0 && repeats_last(ns, &n))
        return;
    if (ns->n == ns->cap) {
        ns->overflow = 1;
        return;
    }
    ns->v[ns->n++] = n;
}

/* Reads the 64-bit word at a into *v if a..a+8 lies below 2^46 (noted in
 * a noting run); else records a as the fault address and returns
 * VM_FAULT_DESCRIPTOR. */
static int desc_word(vm_runner *r, uint64_t a, uint64_t *v)
{
    if (a > DISA_ADDR_LIMIT - 8) {
        r->fault_addr = a;
        return VM_FAULT_DESCRIPTOR;
    }
    if (r->notes)
        vm_note_access(r, a, 8, 0);
    memcpy(v, r->win + a, 8);
    return VM_FAULT_NONE;
}

/* True when [base, base+len) is non-empty and wholly inside the SR. */
static int sr_range_ok(uint64_t base, uint64_t len)
{
    return len > 0 && base >= DISA_RB && base < DISA_ADDR_LIMIT &&
           len <= DISA_ADDR_LIMIT - base;
}

/* Reads the range pair at a (base, len) into *out after validating it. */
static int desc_range(vm_runner *r, uint64_t a, dvm_range *out)
{
    uint64_t base, len;
    int f;
    if ((f = desc_word(r, a, &base)) || (f = desc_word(r, a + 8, &len)))
        return f;
    if (!sr_range_ok(base, len)) {
        r->fault_addr = a;
        return VM_FAULT_DESCRIPTOR;
    }
    *out = (dvm_range){base, base + len};
    return VM_FAULT_NONE;
}

/* Reads the range list `n, base1, len1, ...` at a into a new array
 * (*out, NULL when n = 0) and its count *n. */
static int desc_list(vm_runner *r, uint64_t a, dvm_range **out, uint32_t *n)
{
    uint64_t cnt;
    int f = desc_word(r, a, &cnt);
    if (f)
        return f;
    if (cnt > RUNNER_MAX_RANGES) {
        r->fault_addr = a;
        return VM_FAULT_DESCRIPTOR;
    }
    dvm_range *v = cnt ? dvm_malloc(cnt * sizeof *v) : NULL;
    if (cnt && !v)
        return r->fault_addr = a, VM_FAULT_NOMEM;
    for (uint64_t i = 0; i < cnt; i++)
        if ((f = desc_range(r, a + 8 + 16 * i, &v[i]))) {
            dvm_free(v);
            return f;
        }
    *out = v;
    *n = (uint32_t)cnt;
    return VM_FAULT_NONE;
}

/* Reads the stack descriptor at a into c: a range in the SR, or sb = 0
 * (a stack to choose: ss rounded up to pages, at most the stack area). */
static int desc_stack(vm_runner *r, uint64_t a, runner_desc *c)
{
    uint64_t sb, ss;
    int f;
    if ((f = desc_word(r, a, &sb)) || (f = desc_word(r, a + 8, &ss)))
        return f;
    if (sb != 0) {              /* as desc_range, without reading again */
        if (!sr_range_ok(sb, ss)) {
            r->fault_addr = a;
            return VM_FAULT_DESCRIPTOR;
        }
        c->sb = sb;
        c->ss = ss;
        return VM_FAULT_NONE;
    }
    if (ss > DISA_PAGE << DISA_STACK_ORDER) {
        r->fault_addr = a + 8;
        return VM_FAULT_DESCRIPTOR;
    }
    c->ss = ss ? (ss + DISA_PAGE - 1) / DISA_PAGE * DISA_PAGE : DISA_PAGE;
    c->flags = RUNNER_STACK_CHOSEN;
    return VM_FAULT_NONE;
}

/* Reads and validates the four descriptors into *k (owning its ranges). */
static int read_child(vm_runner *r, const uint64_t v[4], runner_desc *k)
{
    runner_desc c;
    int f;
    memset(&c, 0, sizeof c);
    if ((f = desc_stack(r, v[0], &c)) || (f = desc_word(r, v[3], &c.fi)) ||
        (f = desc_list(r, v[1], &c.heap, &c.nheap)))
        return f;
    if ((f = desc_list(r, v[2], &c.watch, &c.nwatch))) {
        child_free(&c);
        return f;
    }
    *k = c;
    return VM_FAULT_NONE;
}

/* Takes a stack for child k whose descriptor is at a: the write of its sb
 * word must be allowed, then r->stacks chooses.  On a fault
 * r->fault_addr is a. */
static int choose_stack(vm_runner *r, uint64_t a, runner_desc *k)
{
    int f = vm_check_write(r, a, 8);
    if (f == VM_FAULT_NONE)
        f = r->stacks.alloc ? r->stacks.alloc(r->stacks.ctx, k->ss, &k->sb)
                            : VM_FAULT_NOSTACK;
    if (f != VM_FAULT_NONE)
        r->fault_addr = a;
    return f;
}

void vm_runner_release_stacks(vm_runner *r)
{
    assert(r);
    for (size_t i = 0; i < r->nkids; i++) {
        runner_desc *k = &r->kids[i];
        if (!(k->flags & RUNNER_STACK_CHOSEN))
            continue;
        assert(r->stacks.release);
        r->stacks.release(r->stacks.ctx, k->sb, k->ss);
        k->flags &= ~(uint32_t)RUNNER_STACK_CHOSEN;
    }
}

int vm_newr(vm_runner *r, const uint64_t v[4])
{
    assert(r && v);
    runner_desc k;
    int f = read_child(r, v, &k);
    if (f)
        return f;
    int chosen = (k.flags & RUNNER_STACK_CHOSEN) != 0;
    if (chosen && (f = choose_stack(r, v[0], &k))) {
        child_free(&k);
        return f;
    }
    runner_desc *kids = dvm_grow(r->kids, &r->capkids, r->nkids + 1, sizeof k);
    if (kids)
        r->kids = kids;
    if (!kids || vm_runner_add_writable(r, k.sb, k.sb + k.ss)) {
        if (chosen)
            r->stacks.release(r->stacks.ctx, k.sb, k.ss);
        child_free(&k);
        r->fault_addr = v[0];
        return VM_FAULT_NOMEM;
    }
    if (chosen) {
        if (r->notes)
            vm_note_access(r, v[0], 8, 1);
        memcpy(r->win + v[0], &k.sb, 8);    /* the creator's write of sb */
        vm_note_pr_write(r, v[0], 8);
    }
    r->kids[r->nkids++] = k;
    return VM_FAULT_NONE;
}

int vm_raise(vm_runner *r, int fault, uint64_t pc, uint64_t addr)
{
    assert(r && fault > VM_FAULT_NONE && fault < VM_FAULT_COUNT);
    r->fault = fault;
    r->fault_pc = pc;
    r->fault_addr = addr;
    return VM_EXIT_FAULT;
}

void vm_fault_describe(const vm_runner *r, char *buf, size_t n)
{
    assert(r && buf && n > 0);
    unsigned long long a = r->fault_addr;
    switch (r->fault) {
    case VM_FAULT_MEMORY:
        snprintf(buf, n, "memory fault: address 0x%llx out of range", a);
        break;
    case VM_FAULT_EXEC:
        snprintf(buf, n, "execution fault: no instruction at 0x%llx", a);
        break;
    case VM_FAULT_DESCRIPTOR:
        snprintf(buf, n, "bad runner descriptor: invalid word at 0x%llx", a);
        break;
    case VM_FAULT_WRITABLE:
        snprintf(buf, n, "memory fault: write outside the writable set at "
                 "0x%llx", a);
        break;
    case VM_FAULT_READONLY:
        snprintf(buf, n, "memory fault: write to read-only memory at 0x%llx",
                 a);
        break;
    default:
        assert(r->fault >= 0 && r->fault < VM_FAULT_COUNT);
        snprintf(buf, n, "%s", fault_text[r->fault]);
        break;
    }
}
