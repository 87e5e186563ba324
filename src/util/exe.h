/*
 * exe.h -- the project's other files, found from the running executable.
 *
 * DVM is more than one file: `dvm`, the RComp's own executable
 * `dvm-rcomp`, and the translator's LLVM half `dvm-jit.so`.  They are
 * found where the build puts them (one directory: a build tree) or where
 * `cmake --install` puts them relative to the executable (bin/dvm and
 * LIBDIR/dvm/: DVM_LIBDIR_REL), never through a search path, so that a
 * tree may move whole (a package unpacked elsewhere) and a stray file
 * elsewhere is never picked up.
 */
#ifndef DVM_EXE_H
#define DVM_EXE_H

#include <stddef.h>

/* The file name beside the running executable, else in DVM_LIBDIR_REL
 * from it, that access() grants mode (R_OK, X_OK): its path into buf
 * (cap bytes) and 1; 0 when there is none (buf then undefined). */
int exe_near(const char *name, int mode, char *buf, size_t cap);

/* The path of the running executable into buf; 0 on success, -1 when
 * /proc/self/exe cannot be read or does not fit. */
int exe_self(char *buf, size_t cap);

/* The executable RComps run, as `EXE __rcomp OPTIONS`: dvm-rcomp, found
 * as exe_near finds it, which loads only what an RComp needs (~2 ms to
 * start where dvm's network, HTTP and database libraries cost ~12 ms on
 * a VM); else the running executable itself (`dvm __rcomp`).  0 on
 * success (buf set), -1 as exe_self. */
int exe_rcomp(char *buf, size_t cap);

/* DVM_LIBDIR_REL: where `cmake --install` puts the other files, relative
 * to the directory of bin/dvm. */
const char *exe_libdir_rel(void);

#endif
