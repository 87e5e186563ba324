/*
 * jit_elf_fuzz.c -- libFuzzer target for the loader of translated object
 * code (jit_elf_load): any bytes are refused with a status or loaded,
 * relocated and protected within the loader's own mapping, and freed.
 * The imports carry the runtime helpers' names, bound to a function that
 * is never called: nothing loaded is run.
 */
#include <stdint.h>
#include <stdlib.h>

#include "exec/jit_elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static const jit_helper imps[] = {
    {"dvm_rt_raise", (void (*)(void))abort},
    {"dvm_rt_write", (void (*)(void))abort},
    {"dvm_rt_fmod", (void (*)(void))abort},
    {"dvm_rt_isinsn", (void (*)(void))abort},
    {"dvm_rt_newr", (void (*)(void))abort},
    {"dvm_rt_exit", (void (*)(void))abort},
};

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    jit_elf_image *img = NULL;
    jit_fn fn = NULL;
    dvm_status st = jit_elf_load(p, n, imps, sizeof imps / sizeof imps[0],
                                 "dvm_region_0", &img, &fn);
    if (st == DVM_OK) {
        if (!img || !fn)
            abort();
        jit_elf_free(img);
    } else if (img || fn) {
        abort();
    }
    return 0;
}
