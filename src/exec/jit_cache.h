/*
 * jit_cache.h -- translations shared by the RComps of one program on one
 * host: a directory of object files.
 *
 * Every RComp has its own engine (jit.h), and each used to translate the
 * same hot regions for itself: LLVM's optimisation and code generation,
 * 50-250 ms of CPU a region, paid once per RComp.  A region's object code
 * names no host address (the helpers it calls are resolved by name when
 * it is loaded: jit_ir.h, callee), so one RComp's translation is valid in
 * another process of the same build on the same host.  The master makes a
 * directory per program run (jit_cache_dir_make) when its engine is the
 * translator, passes it to its RComps (`--jit-cache`), and removes it at
 * its end (jit_cache_dir_remove).
 *
 * In the directory:
 *
 *   <entry>-<region_max>.o      a region's entry: a header, then the
 *                               object code (written to a temporary name,
 *                               then renamed: readers see a whole entry
 *                               or none)
 *   <entry>-<region_max>.claim  "this RComp is translating it": made with
 *                               O_EXCL, holds the claimant's pid; another
 *                               RComp interprets on and loads the entry
 *                               once it is there.  A claim whose process
 *                               is gone, or older than JIT_CACHE_CLAIM_S,
 *                               is stale and taken over
 *   counts                      shared counters (jit_cache_counts) and
 *                               the heat of each region entry (summed
 *                               over the RComps, JIT_CACHE_HEAT_SLOTS
 *                               slots by entry: two entries may share
 *                               one, which only makes them hot sooner),
 *                               64 KiB every RComp maps and adds to
 *                               atomically
 *
 * Optionally (jit_cache_keep: `DVM_JIT_KEEP=DIR` in the environment of
 * `dvm run` or a node) entries are also kept across runs in a directory
 * of the user's, by build: a later run of the same program loads its hot
 * regions at once instead of translating them.  The directory stays
 * within a bound (`DVM_JIT_KEEP_MAX`, MiB; 256 by default): the least
 * recently used entries go first.
 *
 * An entry is outside input: jit_cache_decode checks its magic, version,
 * program hash, host tag, region key, sizes and checksum, and a bad entry
 * is said once on stderr and translated again, never loaded.
 */
#ifndef DVM_JIT_CACHE_H
#define DVM_JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

enum { JIT_CACHE_VERSION = 1 };
enum { JIT_CACHE_HEADER = 56 };             /* bytes before the object */
enum { JIT_CACHE_CLAIM_S = 10 };            /* a claim older is stale */
enum { JIT_CACHE_HEAT_SLOTS = 8184 };      /* shared heat, by entry */
enum { JIT_CACHE_SWEEP_S = 60 };            /* a dead process's directory
                                               older is removed */
#define JIT_CACHE_OBJ_MAX (64u << 20)       /* object bytes, at most */
#define JIT_CACHE_KEEP_MAX (256ull << 20)   /* kept entries' bytes, at most,
                                               by default */

typedef struct jit_cache jit_cache;

/* What an entry is for: the program, the build and host, the region. */
typedef struct jit_cache_key {
    uint64_t prog;              /* the program's hash (its code and
                                   layout) */
    uint64_t host;              /* the build and host the code is for */
    uint32_t entry;             /* the region's first insn */
    uint32_t region_max;        /* the limit its region was found with */
} jit_cache_key;

/* The shared counters of a directory. */
typedef struct jit_cache_counts {
    uint64_t translated;        /* regions translated (and entries put) */
    uint64_t loaded;            /* regions loaded from an entry */
    uint64_t bad;               /* entries refused by jit_cache_decode */
    uint64_t kept;              /* ... of the loaded: kept from an earlier
                                   run (jit_cache_keep) */
    uint64_t native;            /* ... of the loaded: without LLVM
                                   (jit_elf.c) */
    uint64_t background;        /* ... of the translated: beside the
                                   runner, on an idle CPU (jit.h) */
    uint64_t translate_us;      /* time spent translating, summed over the
                                   engines (LLVM's work: what a first run
                                   pays that a kept one does not) */
} jit_cache_counts;

/* A hash of the n bytes at p (not cryptographic: it tells apart, it does
 * not authenticate). */
uint64_t jit_cache_hash(const void *p, size_t n, uint64_t seed);
struct dvm_program;
/* The hash of what translated code depends on in program p (the prog of
 * a jit_cache_key): its code segments (bytes and instruction starts),
 * every segment's place and size, the channels' addresses and the entry;
 * not the data bytes, which translated code reads as it runs (so that a
 * large image costs no start-up time here). */
uint64_t jit_cache_program_hash(const struct dvm_program *p);

/* Makes a new directory for one program run under $TMPDIR (or /tmp),
 * dvm-jit-<pid>-XXXXXX, with its counters; *out (dvm_free) is its path.
 * Removes on the way those of processes gone (killed before their end)
 * unchanged for JIT_CACHE_SWEEP_S. */
dvm_status jit_cache_dir_make(char **out);
/* Removes directory dir and the files in it (NULL: nothing). */
void jit_cache_dir_remove(const char *dir);
/* Reads dir's counters into *out. */
dvm_status jit_cache_counts_read(const char *dir, jit_cache_counts *out);

/* Opens the directory dir (made by jit_cache_dir_make) for one engine;
 * *out owned by the caller, closed by jit_cache_close. */
dvm_status jit_cache_open(const char *dir, jit_cache **out);
void jit_cache_close(jit_cache *c);

/* Keeps c's entries across runs too, in dir/<tag> (made mode 0700 when
 * missing; dir and it must be directories of this user that no one else
 * may write): what jit_cache_get does not find in c's directory it looks
 * for there, and jit_cache_put writes there too, by program, region and
 * build (tag: jit_backend_tag, 0 refused).  The entries of every build
 * under dir stay within a bound (jit_cache_keep_bound; JIT_CACHE_KEEP_MAX
 * unless set): after each put that passes it, the least recently used
 * (written or loaded) are removed down to three quarters of it, as
 * ccache bounds its cache.  Returns DVM_EINVAL or DVM_EIO (message set)
 * when dir cannot be used. */
dvm_status jit_cache_keep(jit_cache *c, const char *dir, uint64_t tag);
/* Where translations are kept across runs, from the environment's
 * values (NULL: unset): keep (DVM_JIT_KEEP) when it names a directory;
 * none when it is "off", "0" or empty; when it is unset, the user's cache
 * directory as the XDG base directories place it, xdg/dvm/jit when xdg
 * ($XDG_CACHE_HOME) is an absolute path, else home/.cache/dvm/jit when
 * home ($HOME) is one, else none.  Writes the directory into buf (cap
 * bytes) and returns 1, with *is_default 1 when it is the default one;
 * returns 0, buf empty and *is_default untouched, when there is none or
 * it does not fit. */
int jit_cache_keep_where(const char *keep, const char *xdg, const char *home,
                         char *buf, size_t cap, int *is_default);
/* Makes the directories above path that are missing (mode 0700), as
 * `mkdir -p` would, for the default keeping directory.  Returns 0, or -1
 * (errno set) at the first that cannot be made; jit_cache_keep then says
 * why the directory cannot be used. */
int jit_cache_make_parents(const char *path);
/* True when c keeps its entries across runs (jit_cache_keep succeeded). */
int jit_cache_keeps(const jit_cache *c);
/* Sets the bound on the bytes kept under the keeping directory (0: the
 * default, JIT_CACHE_KEEP_MAX). */
void jit_cache_keep_bound(jit_cache *c, uint64_t bytes);

/* Reads k's entry: DVM_OK with *obj (dvm_free) of *len bytes and the
 * region's *insns; DVM_ENOENT (no message) when there is none; DVM_EFORMAT
 * or DVM_EIO (message set) when it cannot be used. */
dvm_status jit_cache_get(jit_cache *c, const jit_cache_key *k,
                         uint8_t **obj, size_t *len, uint32_t *insns);
/* Writes k's entry: object obj of len bytes, a region of insns. */
dvm_status jit_cache_put(jit_cache *c, const jit_cache_key *k,
                         uint32_t insns, const uint8_t *obj, size_t len);
/* Claims k for translation: 1 when this process may translate it (its
 * claim made, or a stale one taken over), 0 when another holds it. */
int jit_cache_claim(jit_cache *c, const jit_cache_key *k);
/* Gives up this process's claim on k (its translation failed). */
void jit_cache_unclaim(jit_cache *c, const jit_cache_key *k);
/* Adds one to the shared counter at offsetof(jit_cache_counts, field). */
void jit_cache_count(jit_cache *c, size_t field);
/* Adds n to the shared counter at offset field of jit_cache_counts. */
void jit_cache_add(jit_cache *c, size_t field, uint64_t n);
/* Adds run to the shared heat of the region entry; returns the sum. */
uint64_t jit_cache_heat(jit_cache *c, uint32_t entry, uint64_t run);

/* Encodes an entry (header and object) into *out (dvm_free), *n bytes. */
dvm_status jit_cache_encode(const jit_cache_key *k, uint32_t insns,
                            const uint8_t *obj, size_t len, uint8_t **out,
                            size_t *n);
/* Sets *k to the key the header of the n bytes at p claims, unchecked
 * (for a reader that knows no key: a test, the fuzzer); returns 0 when n
 * is shorter than a header. */
int jit_cache_header_key(const uint8_t *p, size_t n, jit_cache_key *k);
/* Decodes the n bytes at p as k's entry: *obj points into p, *len and
 * *insns set.  Returns DVM_EFORMAT (message set) for anything else. */
dvm_status jit_cache_decode(const uint8_t *p, size_t n,
                            const jit_cache_key *k, const uint8_t **obj,
                            size_t *len, uint32_t *insns);

#endif
