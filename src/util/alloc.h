/*
 * alloc.h -- the project's allocator front end.
 *
 * All heap memory goes through dvm_malloc/dvm_calloc/dvm_realloc/dvm_free.
 * In a build with DVM_ALLOC_FAILPOINTS defined, the environment variable
 * DVM_FAIL_ALLOC=N makes the N-th allocation (counting from 1) and every
 * later one fail, so tests can prove that each failure path cleans up and
 * reports DVM_ENOMEM instead of crashing (the SQLite idea).  In a normal build
 * these are thin wrappers.
 *
 * dvm_xalloc-style aborting helpers do not exist on purpose: every caller
 * handles NULL.
 */
#ifndef DVM_ALLOC_H
#define DVM_ALLOC_H

#include <stddef.h>

/* Returns n bytes or NULL. */
void *dvm_malloc(size_t n);
/* Returns n*size zeroed bytes or NULL (also NULL on overflow of n*size). */
void *dvm_calloc(size_t n, size_t size);
/* Resizes p to n bytes; on failure returns NULL and leaves p valid. */
void *dvm_realloc(void *p, size_t n);
/* Grows an array p of *cap elements of esize bytes so that it holds at least
 * need elements (doubling).  Returns the (possibly moved) array and updates
 * *cap, or returns NULL leaving p and *cap untouched. */
void *dvm_grow(void *p, size_t *cap, size_t need, size_t esize);
/* Duplicates a NUL-terminated string or returns NULL. */
char *dvm_strdup(const char *s);
/* Duplicates n bytes of s and terminates them, or returns NULL. */
char *dvm_strndup(const char *s, size_t n);
void dvm_free(void *p);

/* Test hook: from now on the n-th allocation (counting from 1) and every
 * later one fail; 0 turns failures off.  Returns 1, or 0 (and does nothing)
 * in a build without DVM_ALLOC_FAILPOINTS, where a test must skip. */
int dvm_alloc_fail_from(long n);

#endif
