/*
 * jit_backend.h -- the translator's LLVM half, behind one table.
 *
 * The engine (jit.c: counts, tiers, the cache of native entries, jit_run)
 * needs LLVM only when a region is hot.  Loading libLLVM costs every
 * process that links it some 30 ms before main (its relocations and
 * constructors), so the build keeps LLVM out of the dvm binary: what
 * touches it -- finding and building a region (jit_region.c, jit_lower.c,
 * jit_promote.c), optimising, ORC (jit_llvm.c) -- is the module
 * dvm-jit.so, loaded at the first hot region by jit_backend_load.  A
 * master, a node, `dvm asm`, or an RComp whose program never gets hot
 * never loads it.  With DVM_LLVM_STATIC the same files are linked in and
 * jit_backend_load returns them at once.
 *
 * The engine and the module share the types of translated code (jit_ctx,
 * jit_fn) from here; only the module's files include LLVM's headers.
 *
 * The module calls back into the binary for the project's own functions
 * (status, allocation, the code's index, the runtime helpers translated
 * code calls): executables export their symbols for it.
 */
#ifndef DVM_JIT_BACKEND_H
#define DVM_JIT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "exec/vm.h"
#include "util/status.h"

/* Bumped whenever the table or the types it passes change: a module of
 * another build is refused rather than called wrongly. */
#define JIT_BACKEND_ABI 4u

typedef struct jit_backend jit_backend;     /* per engine: ORC and target */

enum { JIT_CONTINUE = 3 };      /* native return: go on at ctx->next */

/* What translated code sees of a run: its first argument. */
typedef struct jit_ctx {
    vm_runner *r;
    uint64_t ok_lo, ok_hi;      /* SR bytes known writable, not read only */
    uint64_t next;              /* JIT_CONTINUE: the address to go on at */
    uint64_t from;              /* ... and the address of the jump there */
    uint64_t prw_lo, prw_hi;    /* PR bytes translated code wrote through
                                   a computed address, as vm_runner's
                                   (empty: DISA_RB, 0; jit.c merges them
                                   into it after each call) */
} jit_ctx;

/* A translated region's entry. */
typedef int (*jit_fn)(jit_ctx *ctx, uint8_t *win);

/* One region to translate. */
typedef struct jit_request {
    const vm_code *code;
    uint32_t entry;             /* its first insn */
    size_t region_max;          /* insns, at most */
    uint64_t nan_bits;          /* the host's default NaN */
    const char *name;           /* its symbol, unique per backend */
} jit_request;

/* A region's object code (ELF bytes, dvm_free): it names no host address,
 * so any process of this build on this host may load it (jit_cache.h). */
typedef struct jit_object {
    uint8_t *p;
    size_t len;
} jit_object;

typedef struct jit_backend_ops {
    uint32_t abi;               /* JIT_BACKEND_ABI */
    /* Makes a backend (LLVM's native target, the host's target machine,
     * an LLJIT); *out owned by the caller, freed by destroy. */
    dvm_status (*create)(jit_backend **out);
    void (*destroy)(jit_backend *b);
    /* Translates q's region; sets *out to its native code (valid until
     * destroy) and *size to its insns on success, and, when obj is not
     * NULL, *obj to a copy of its object code. */
    dvm_status (*translate)(jit_backend *b, const jit_request *q,
                            jit_fn *out, size_t *size, jit_object *obj);
    /* Loads object code of len bytes at obj (made by translate, here or
     * in another process of this build) and sets *out to its symbol
     * name, valid until destroy. */
    dvm_status (*load)(jit_backend *b, const uint8_t *obj, size_t len,
                       const char *name, jit_fn *out);
} jit_backend_ops;

/* The table the module exports (jit_llvm.c). */
extern const jit_backend_ops jit_llvm_backend;

/* True when a backend can be had: linked in, or its module found. */
int jit_backend_present(void);

/* A tag of this build of the translator, from the files it is (the
 * RComp's executable, util/exe.h, and the module: device, inode, size,
 * modification time):
 * translations kept across runs (jit_cache_keep) are used only by a
 * build of the same tag.  0 when they cannot be read. */
uint64_t jit_backend_tag(void);

/* The backend, loading its module the first time (thread-safe); sets
 * *out on success, else returns DVM_EUNSUPP with why it cannot load. */
dvm_status jit_backend_load(const jit_backend_ops **out);

#endif
