/*
 * jit_rt.c -- the runtime helpers of translated code (jit_rt.h): the
 * checks and effects a region leaves to C, each the interpreter's own
 * function (vm_check_write, vm_newr, vm_raise, code_index) behind the
 * calling convention jit_lower.c emits.  The table jit_helpers gives each
 * its name.
 */
#include "exec/jit_rt.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>

#include "exec/jit_backend.h"

/* Widens c's cached writable interval around the (accepted) write
 * [ea, ea+w): the writable range holding it, clipped by read-only ranges. */
static void rt_widen(jit_ctx *c, uint64_t ea, uint64_t w)
{
    const vm_runner *r = c->r;
    const vm_code *code = r->code;
    uint64_t lo = 0, hi = 0;
    for (size_t i = 0; i < r->nwr && hi == 0; i++)
        if (r->wr[i].lo <= ea && ea + w <= r->wr[i].hi)
            lo = r->wr[i].lo, hi = r->wr[i].hi;
    for (size_t i = 0; i < code->nro && hi; i++) {
        const dvm_range *ro = &code->ro[i];
        if (ro->hi <= ea)
            lo = ro->hi > lo ? ro->hi : lo;
        else if (ro->lo >= ea + w)
            hi = ro->lo < hi ? ro->lo : hi;
        else
            hi = 0;             /* cannot happen after an accepted write */
    }
    if (hi > lo && lo >= DISA_RB && hi <= DISA_ADDR_LIMIT)
        c->ok_lo = lo, c->ok_hi = hi;
}

/* Checks an SR write the inline tests did not accept.  Returns the fault
 * kind (VM_FAULT_NONE when the write is allowed). */
static int rt_write(jit_ctx *c, uint64_t ea, uint64_t w)
{
    assert(ea < DISA_ADDR_LIMIT && w <= DISA_ADDR_LIMIT - ea);
    int f = vm_check_write(c->r, ea, (unsigned)w);
    if (f == VM_FAULT_NONE && ea >= DISA_RB)
        rt_widen(c, ea, w);
    else if (f == VM_FAULT_NONE)        /* straddles: its PR part */
        vm_note_pr_write(c->r, ea, (unsigned)w);
    return f;
}

/* Executes newr with operand values a..d at instruction pc.  Returns 0, or
 * VM_EXIT_FAULT with the fault recorded.  win is passed so the optimiser
 * knows the call reads the window (vm_newr reads the descriptors). */
static int rt_newr(jit_ctx *c, uint8_t *win, uint64_t a, uint64_t b,
                   uint64_t d3, uint64_t d4, uint64_t pc)
{
    assert(win == c->r->win);
    (void)win;
    const uint64_t v[4] = {a, b, d3, d4};
    int f = vm_newr(c->r, v);       /* notes its write of sb in r */
    if (f == VM_FAULT_NONE)
        return 0;
    return vm_raise(c->r, f, pc, c->r->fault_addr);
}

/* True (1) when address a starts an instruction. */
static int rt_isinsn(jit_ctx *c, uint64_t a)
{
    return code_index(c->r->code, a) != VM_NO_INSN;
}

/* Records where translated code exited; returns the exit kind rc. */
static int rt_exit(jit_ctx *c, uint32_t rc, uint64_t pc, uint64_t unused)
{
    (void)unused;
    c->r->exit_pc = pc;
    return (int)rc;
}

/* Records a fault raised by translated code; returns VM_EXIT_FAULT. */
static int rt_raise(jit_ctx *c, uint32_t kind, uint64_t pc, uint64_t addr)
{
    return vm_raise(c->r, (int)kind, pc, addr);
}

/* The helpers by the names translated code calls them (callee): its
 * object code holds no host address, so that another process of the same
 * build may load it (jit_llvm.c and jit_elf.c bind these names). */
const jit_helper jit_helpers[] = {
    {"dvm_rt_raise", (void (*)(void))rt_raise},
    {"dvm_rt_write", (void (*)(void))rt_write},
    {"dvm_rt_fmod", (void (*)(void))fmod},
    {"dvm_rt_isinsn", (void (*)(void))rt_isinsn},
    {"dvm_rt_newr", (void (*)(void))rt_newr},
    {"dvm_rt_exit", (void (*)(void))rt_exit},
};
const size_t jit_nhelpers = sizeof jit_helpers / sizeof jit_helpers[0];
