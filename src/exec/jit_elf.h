/*
 * jit_elf.h -- a loader of the translator's object code without LLVM.
 *
 * A region's object code (jit_backend.h, jit_object) is an ELF64 x86-64
 * relocatable object: its text, constants and unwind tables, and
 * relocations against the runtime helpers it calls by name (jit_rt.h) and
 * against its own sections.  jit_elf_load maps such an object into this
 * process, relocates it and returns the entry of one function, so that a
 * process that only loads regions another translated (jit_cache.h) never
 * loads LLVM.  It handles what the translator emits and answers
 * DVM_EUNSUPP for anything else, so that the caller can hand the object
 * to LLVM instead; jit_elf.c says exactly what.
 */
#ifndef DVM_JIT_ELF_H
#define DVM_JIT_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "exec/jit_backend.h"
#include "exec/jit_rt.h"
#include "util/status.h"

typedef struct jit_elf_image jit_elf_image;    /* a loaded object */

/* Loads the object of len bytes at obj (outside input: every field is
 * checked; obj need not be aligned and is not kept), binding its
 * undefined symbols to imp's nimp names, and sets *out to the image
 * (owned by the caller, jit_elf_free) and *fn to its defined function
 * `name`, valid until then.  Returns DVM_EFORMAT (message set) for a
 * malformed object or one without `name`, DVM_EUNSUPP for a well-formed
 * one this loader does not handle (a relocation type, a section kind, an
 * unknown import, a value out of a relocation's range), DVM_ENOMEM or
 * DVM_ESYS; *out and *fn are set only on success. */
dvm_status jit_elf_load(const uint8_t *obj, size_t len,
                        const jit_helper *imp, size_t nimp, const char *name,
                        jit_elf_image **out, jit_fn *fn);

/* Unmaps img's code and frees img (NULL: nothing). */
void jit_elf_free(jit_elf_image *img);

#endif
