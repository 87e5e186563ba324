/*
 * jit_cache.c -- the shared directory of translated regions (jit_cache.h).
 *
 * The directory is named after the process that made it
 * (dvm-jit-<pid>-XXXXXX): one killed before it could remove its directory
 * leaves it behind, and the next one made on the host removes it once
 * it is JIT_CACHE_SWEEP_S old.
 *
 * Plain files and rename: an entry is written whole to a name of its own
 * (<name>.<pid>.tmp) and renamed into place, so a reader opens a complete
 * entry or finds none, and two writers of one region (a stale claim taken
 * over) leave one of two equal entries.  The counters and the heat are
 * one shared file that every engine maps and adds to with atomic
 * operations; the master reads the counters with pread.  Nothing here knows LLVM: an entry's object is
 * bytes, loaded by the backend (jit_backend.h).
 */
#include "exec/jit_cache.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/program.h"
#include "util/alloc.h"

static const char magic[8] = "DVMJITO";
enum { COUNTS_HEAT = 8 };      /* the heat slots' first u64 */
enum { COUNTS_BYTES = (COUNTS_HEAT + JIT_CACHE_HEAT_SLOTS) * 8 };
_Static_assert(sizeof(jit_cache_counts) <= COUNTS_HEAT * 8,
               "the counters overlap the heat slots");
_Static_assert(sizeof(jit_cache_counts) % 8 == 0,
               "the counters are the file's u64 words, one field each");

struct jit_cache {
    char *dir;
    uint64_t *counts;           /* the shared page, or NULL */
    char *keep;                 /* entries kept across runs, or NULL */
    char *keep_root;            /* ... the user's directory above it */
    uint64_t keep_max;          /* bytes kept, at most (all builds) */
};

uint64_t jit_cache_hash(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = seed ^ 0xcbf29ce484222325ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h ^ (h >> 32) ^ n;
}

/* Folds the n u64s at v into h. */
static uint64_t fold(uint64_t h, const uint64_t *v, size_t n)
{
    return jit_cache_hash(v, n * sizeof *v, h);
}

/* The channels' addresses count because the input windows are read
 * only to translated code. */
uint64_t jit_cache_program_hash(const dvm_program *p)
{
    uint64_t h = fold(0, &p->entry, 1);
    for (size_t i = 0; i < p->nsegs; i++) {
        const prog_segment *g = &p->segs[i];
        uint64_t v[5] = {g->addr, g->size, g->flags, g->zero_tail,
                         g->ninsns};
        h = fold(h, v, 5);
        if (g->flags & PROG_SEG_CODE) {
            h = jit_cache_hash(g->bytes, g->bytes ? prog_seg_stored(g) : 0,
                               h);
            h = jit_cache_hash(g->insn_offs, g->ninsns * sizeof(uint32_t),
                               h);
        }
    }
    for (size_t i = 0; i < p->nchans; i++) {
        uint64_t v[2] = {p->chans[i].addr, (uint64_t)p->chans[i].dir};
        h = fold(h, v, 2);
    }
    return h;
}

/* ---- the entry codec ------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The checksum of an entry: its header up to the sum, then its object. */
static uint64_t entry_sum(const uint8_t *hdr, const uint8_t *obj, size_t len)
{
    return jit_cache_hash(obj, len, jit_cache_hash(hdr, 48, 0));
}

dvm_status jit_cache_encode(const jit_cache_key *k, uint32_t insns,
                            const uint8_t *obj, size_t len, uint8_t **out,
                            size_t *n)
{
    assert(k && obj && out && n);
    if (len == 0 || len > JIT_CACHE_OBJ_MAX)
        return status_set(DVM_ERANGE, "translator cache: object of %zu "
                          "bytes", len);
    uint8_t *p = dvm_malloc(JIT_CACHE_HEADER + len);
    if (!p)
        return status_set(DVM_ENOMEM, "translator cache: out of memory");
    memcpy(p, magic, 8);
    put32(p + 8, JIT_CACHE_VERSION);
    put32(p + 12, insns);
    put64(p + 16, k->prog);
    put64(p + 24, k->host);
    put32(p + 32, k->entry);
    put32(p + 36, k->region_max);
    put64(p + 40, len);
    memcpy(p + JIT_CACHE_HEADER, obj, len);
    put64(p + 48, entry_sum(p, obj, len));
    *out = p;
    *n = JIT_CACHE_HEADER + len;
    return DVM_OK;
}

int jit_cache_header_key(const uint8_t *p, size_t n, jit_cache_key *k)
{
    assert((p || n == 0) && k);
    if (n < JIT_CACHE_HEADER)
        return 0;
    *k = (jit_cache_key){get64(p + 16), get64(p + 24), get32(p + 32),
                         get32(p + 36)};
    return 1;
}

dvm_status jit_cache_decode(const uint8_t *p, size_t n,
                            const jit_cache_key *k, const uint8_t **obj,
                            size_t *len, uint32_t *insns)
{
    assert(p || n == 0);
    assert(k && obj && len && insns);
    const char *why = NULL;
    uint64_t olen = n >= JIT_CACHE_HEADER ? get64(p + 40) : 0;
    if (n < JIT_CACHE_HEADER)
        why = "shorter than its header";
    else if (memcmp(p, magic, 8))
        why = "not an entry (bad magic)";
    else if (get32(p + 8) != JIT_CACHE_VERSION)
        why = "another version";
    else if (get64(p + 16) != k->prog)
        why = "another program";
    else if (get64(p + 24) != k->host)
        why = "another build or host";
    else if (get32(p + 32) != k->entry || get32(p + 36) != k->region_max)
        why = "another region";
    else if (olen == 0 || olen > JIT_CACHE_OBJ_MAX ||
             olen != n - JIT_CACHE_HEADER)
        why = "wrong size";
    else if (get64(p + 48) != entry_sum(p, p + JIT_CACHE_HEADER, olen))
        why = "bad checksum";
    if (why)
        return status_set(DVM_EFORMAT, "translator cache: entry of insn %u:"
                          " %s", k->entry, why);
    *obj = p + JIT_CACHE_HEADER;
    *len = (size_t)olen;
    *insns = get32(p + 12);
    return DVM_OK;
}

/* ---- the directory --------------------------------------------------------- */

/* Writes into buf dir's file for k with suffix sfx; 0 when it does not
 * fit. */
static int key_path(const jit_cache *c, const jit_cache_key *k,
                    const char *sfx, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%u-%u.%s", c->dir, k->entry,
                     k->region_max, sfx);
    return n > 0 && (size_t)n < cap;
}

/* Writes all n bytes at p to fd; 0 or -1 (errno). */
static int write_all(int fd, const void *p, size_t n)
{
    for (const char *q = p; n;) {
        ssize_t w = write(fd, q, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Removes the directories under tmp that a process now gone made
 * (dvm-jit-<pid>-*: a master or node killed before its end), unchanged
 * for JIT_CACHE_SWEEP_S (a pid of another pid namespace sharing tmp may
 * look gone).  Only real directories of this user: tmp is shared, and a
 * name there that is a link to somewhere else, or another user's, must
 * never make this process (often root) delete what it points to. */
static void sweep(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        long pid = 0;
        if (strncmp(e->d_name, "dvm-jit-", 8) ||
            sscanf(e->d_name + 8, "%ld-", &pid) != 1 || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", tmp, e->d_name) <
                (int)sizeof path && lstat(path, &sb) == 0 &&
            S_ISDIR(sb.st_mode) && sb.st_uid == getuid() &&
            time(NULL) - sb.st_mtime > JIT_CACHE_SWEEP_S)
            jit_cache_dir_remove(path);
    }
    closedir(d);
}

dvm_status jit_cache_dir_make(char **out)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    tmp = tmp && *tmp ? tmp : "/tmp";
    sweep(tmp);
    int n = snprintf(path, sizeof path, "%s/dvm-jit-%ld-XXXXXX", tmp,
                     (long)getpid());
    if (n <= 0 || (size_t)n >= sizeof path - 16)
        return status_set(DVM_EINVAL, "translator cache: TMPDIR too long");
    if (!mkdtemp(path))
        return status_set_errno(DVM_ESYS, "translator cache: mkdtemp %s",
                                path);
    char *dir = dvm_strdup(path);
    strcat(path, "/counts");
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (!dir || fd < 0 || ftruncate(fd, COUNTS_BYTES) < 0) {
        dvm_status st = status_set_errno(dir ? DVM_ESYS : DVM_ENOMEM,
                                         "translator cache: %s", path);
        if (fd >= 0)
            close(fd);
        jit_cache_dir_remove(dir);
        dvm_free(dir);
        return st;
    }
    close(fd);
    *out = dir;
    return DVM_OK;
}

/* The directory's entries are unlinked relative to the directory opened
 * without following a link, so a link put in dir's place removes nothing
 * it points to (its own name is not a directory: rmdir fails too). */
void jit_cache_dir_remove(const char *dir)
{
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
    rmdir(dir);
}

dvm_status jit_cache_counts_read(const char *dir, jit_cache_counts *out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/counts", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    jit_cache_counts v;         /* the file's first words, in its order */
    ssize_t n = fd < 0 ? -1 : pread(fd, &v, sizeof v, 0);
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof v)
        return status_set_errno(DVM_EIO, "translator cache: %s", path);
    *out = v;
    return DVM_OK;
}

dvm_status jit_cache_open(const char *dir, jit_cache **out)
{
    assert(dir && out);
    jit_cache *c = dvm_calloc(1, sizeof *c);
    if (!c || !(c->dir = dvm_strdup(dir))) {
        dvm_free(c);
        return status_set(DVM_ENOMEM, "translator cache: out of memory");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/counts", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat sb;
    void *m = MAP_FAILED;
    if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size >= COUNTS_BYTES)
        m = mmap(NULL, COUNTS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 0);
    dvm_status st = m == MAP_FAILED ? status_set_errno(DVM_EIO,
        "translator cache: %s", path) : DVM_OK;
    if (fd >= 0)
        close(fd);
    if (st) {
        jit_cache_close(c);
        return st;
    }
    c->counts = m;
    *out = c;
    return DVM_OK;
}

void jit_cache_close(jit_cache *c)
{
    if (!c)
        return;
    if (c->counts)
        munmap(c->counts, COUNTS_BYTES);
    dvm_free(c->dir);
    dvm_free(c->keep);
    dvm_free(c->keep_root);
    dvm_free(c);
}

void jit_cache_add(jit_cache *c, size_t field, uint64_t n)
{
    assert(c && field % 8 == 0 && field < sizeof(jit_cache_counts));
    __atomic_fetch_add(&c->counts[field / 8], n, __ATOMIC_RELAXED);
}

void jit_cache_count(jit_cache *c, size_t field)
{
    jit_cache_add(c, field, 1);
}

uint64_t jit_cache_heat(jit_cache *c, uint32_t entry, uint64_t run)
{
    assert(c);
    uint64_t *slot = &c->counts[COUNTS_HEAT + entry % JIT_CACHE_HEAT_SLOTS];
    return __atomic_add_fetch(slot, run, __ATOMIC_RELAXED);
}

/* Reads the whole file at path into *out (dvm_free), *n bytes: DVM_OK,
 * DVM_ENOENT (none), or DVM_EIO / DVM_EFORMAT (message set). */
static dvm_status read_file(const char *path, uint8_t **out, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? DVM_ENOENT
               : status_set_errno(DVM_EIO, "translator cache: %s", path);
    struct stat sb;
    dvm_status st = DVM_OK;
    uint8_t *p = NULL;
    if (fstat(fd, &sb) < 0)
        st = status_set_errno(DVM_EIO, "translator cache: %s", path);
    else if (sb.st_size <= 0 ||
             (uint64_t)sb.st_size > JIT_CACHE_HEADER + JIT_CACHE_OBJ_MAX)
        st = status_set(DVM_EFORMAT, "translator cache: %s: %lld bytes",
                        path, (long long)sb.st_size);
    else if (!(p = dvm_malloc((size_t)sb.st_size)))
        st = status_set(DVM_ENOMEM, "translator cache: out of memory");
    else if (pread(fd, p, (size_t)sb.st_size, 0) != sb.st_size)
        st = status_set_errno(DVM_EIO, "translator cache: %s: short read",
                              path);
    close(fd);
    if (st) {
        dvm_free(p);
        return st;
    }
    *out = p;
    *n = (size_t)sb.st_size;
    return DVM_OK;
}

/* Writes into buf the kept entry of k (jit_cache_keep); 0 when there is
 * no keeping or it does not fit. */
static int kept_path(const jit_cache *c, const jit_cache_key *k, char *buf,
                     size_t cap)
{
    int n = c->keep ? snprintf(buf, cap, "%s/%016llx-%016llx-%u-%u.o",
                               c->keep, (unsigned long long)k->prog,
                               (unsigned long long)k->host, k->entry,
                               k->region_max) : -1;
    return n > 0 && (size_t)n < cap;
}

/* A directory of this user that no one else may write, made (0700) if
 * missing: 0, or -1 with the reason in why.  Another process may make it
 * between the look and the mkdir (RComps start together): EEXIST is that,
 * and what it made is checked like any other. */
static int own_dir(const char *dir, const char **why)
{
    struct stat sb;
    if (lstat(dir, &sb) < 0 &&
        (errno != ENOENT || (mkdir(dir, 0700) < 0 && errno != EEXIST) ||
         lstat(dir, &sb) < 0)) {
        *why = strerror(errno);
        return -1;
    }
    *why = !S_ISDIR(sb.st_mode) ? "not a directory"
           : sb.st_uid != getuid() ? "not the user's"
           : (sb.st_mode & 022) ? "others may write it" : NULL;
    return *why ? -1 : 0;
}

dvm_status jit_cache_keep(jit_cache *c, const char *dir, uint64_t tag)
{
    assert(c && dir);
    char path[4096];
    const char *why = "no build tag";
    int n = snprintf(path, sizeof path, "%s/%016llx", dir,
                     (unsigned long long)tag);
    if (n <= 0 || (size_t)n >= sizeof path - 64)
        why = "path too long";
    else if (tag && own_dir(dir, &why) == 0 && own_dir(path, &why) == 0)
        why = NULL;
    if (why)
        return status_set(DVM_EINVAL, "kept translations: %s: %s", dir, why);
    char *keep = dvm_strdup(path), *root = dvm_strdup(dir);
    if (!keep || !root) {
        dvm_free(keep);
        dvm_free(root);
        return status_set(DVM_ENOMEM, "kept translations: out of memory");
    }
    c->keep = keep;
    c->keep_root = root;
    if (!c->keep_max)
        c->keep_max = JIT_CACHE_KEEP_MAX;
    return DVM_OK;
}

/* 1 when the environment value v says "keep nothing". */
static int keep_off(const char *v)
{
    return !*v || !strcmp(v, "off") || !strcmp(v, "0");
}

int jit_cache_keep_where(const char *keep, const char *xdg, const char *home,
                         char *buf, size_t cap, int *is_default)
{
    assert(buf && cap && is_default);
    int n = -1;
    if (keep)
        n = keep_off(keep) ? -1 : snprintf(buf, cap, "%s", keep);
    else if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/dvm/jit", xdg);
    else if (home && home[0] == '/')
        n = snprintf(buf, cap, "%s/.cache/dvm/jit", home);
    if (n <= 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = 0;
        return 0;
    }
    *is_default = keep == NULL;
    return 1;
}

int jit_cache_make_parents(const char *path)
{
    char p[4096];
    size_t n = strlen(path);
    if (n >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(p, path, n + 1);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        int rc = mkdir(p, 0700);
        *s = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

int jit_cache_keeps(const jit_cache *c)
{
    assert(c);
    return c->keep != NULL;
}

void jit_cache_keep_bound(jit_cache *c, uint64_t bytes)
{
    assert(c);
    c->keep_max = bytes ? bytes : JIT_CACHE_KEEP_MAX;
}

/* ---- the bound on kept entries -------------------------------------------- */

/* A file of the keeping directory: its path, size and last use. */
typedef struct kept_file {
    char *path;
    uint64_t bytes;
    struct timespec used;       /* mtime: written, or last loaded */
} kept_file;

typedef struct kept_list {
    kept_file *f;
    size_t n, cap;
    uint64_t bytes;
} kept_list;

/* 1 when name is a build's directory under the keeping root: 16 hex
 * digits, as jit_cache_keep names it. */
static int build_name(const char *name)
{
    size_t i = 0;
    while (name[i] && ((name[i] >= '0' && name[i] <= '9') ||
                       (name[i] >= 'a' && name[i] <= 'f')))
        i++;
    return i == 16 && !name[i];
}

/* 1 when name ends with suffix. */
static int ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && !strcmp(name + n - k, suffix);
}

/* Adds the entries (*.o) of the build directory dir to l; a temporary
 * file (*.tmp) older than JIT_CACHE_SWEEP_S, a writer's that died, is
 * removed.  -1 when out of memory. */
static int kept_scan_build(kept_list *l, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;
    while (d && rc == 0 && (e = readdir(d))) {
        int obj = ends_with(e->d_name, ".o"), tmp = ends_with(e->d_name, ".tmp");
        char path[4096];
        struct stat sb;
        if ((!obj && !tmp) ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
                (int)sizeof path ||
            lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
            continue;
        if (tmp) {
            if (time(NULL) - sb.st_mtime > JIT_CACHE_SWEEP_S)
                unlink(path);
            continue;
        }
        kept_file *g = dvm_grow(l->f, &l->cap, l->n + 1, sizeof *g);
        char *copy = g ? dvm_strdup(path) : NULL;
        if (g)
            l->f = g;
        if (!copy) {
            rc = -1;
            break;
        }
        l->f[l->n++] = (kept_file){copy, (uint64_t)sb.st_size, sb.st_mtim};
        l->bytes += (uint64_t)sb.st_size;
    }
    if (d)
        closedir(d);
    return rc;
}

/* Lists the entries of every build under the keeping root into l.  -1
 * when out of memory (l holds what was listed). */
static int kept_scan(const jit_cache *c, kept_list *l)
{
    DIR *d = opendir(c->keep_root);
    struct dirent *e;
    int rc = 0;
    while (d && rc == 0 && (e = readdir(d))) {
        char path[4096];
        struct stat sb;
        if (build_name(e->d_name) &&
            snprintf(path, sizeof path, "%s/%s", c->keep_root, e->d_name) <
                (int)sizeof path &&
            lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) &&
            sb.st_uid == getuid())
            rc = kept_scan_build(l, path);
    }
    if (d)
        closedir(d);
    return rc;
}

static int used_earlier(const void *a, const void *b)
{
    const struct timespec *x = &((const kept_file *)a)->used;
    const struct timespec *y = &((const kept_file *)b)->used;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Keeps the entries of every build within c->keep_max bytes: when they
 * exceed it, the least recently used go (written, or loaded: jit_cache_get
 * touches what it loads) until three quarters are left, so that a full
 * directory is not scanned at every put.  Other processes may trim at
 * the same time: a file gone already is no error, and a reader that has
 * an entry open keeps its data. */
static void keep_trim(jit_cache *c)
{
    kept_list l = {0};
    if (kept_scan(c, &l) == 0 && l.bytes > c->keep_max) {
        qsort(l.f, l.n, sizeof *l.f, used_earlier);
        uint64_t goal = c->keep_max - c->keep_max / 4;
        for (size_t i = 0; i < l.n && l.bytes > goal; i++)
            if (unlink(l.f[i].path) == 0 || errno == ENOENT)
                l.bytes -= l.f[i].bytes;
    }
    for (size_t i = 0; i < l.n; i++)
        dvm_free(l.f[i].path);
    dvm_free(l.f);
}

dvm_status jit_cache_get(jit_cache *c, const jit_cache_key *k,
                         uint8_t **obj, size_t *len, uint32_t *insns)
{
    assert(c && k && obj && len && insns);
    char path[4096];
    if (!key_path(c, k, "o", path, sizeof path))
        return status_set(DVM_EINVAL, "translator cache: path too long");
    uint8_t *p;
    size_t n;
    dvm_status st = read_file(path, &p, &n);
    if (st == DVM_ENOENT && kept_path(c, k, path, sizeof path) &&
        (st = read_file(path, &p, &n)) == DVM_OK) {
        jit_cache_count(c, offsetof(jit_cache_counts, kept));
        (void)utimensat(AT_FDCWD, path, NULL, 0);  /* used now (trim) */
    }
    if (st)
        return st;
    const uint8_t *o;
    size_t olen;
    uint32_t ni;
    if ((st = jit_cache_decode(p, n, k, &o, &olen, &ni))) {
        dvm_free(p);
        return st;
    }
    memmove(p, o, olen);        /* the object alone, at the start */
    *obj = p;
    *len = olen;
    *insns = ni;
    return DVM_OK;
}

/* Writes the n bytes at e to path whole: to a name of its own, then
 * renamed. */
static dvm_status put_file(const char *path, const uint8_t *e, size_t n)
{
    char tmp[4128];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, e, n) < 0 || close(fd) < 0 ||
        rename(tmp, path) < 0) {
        dvm_status st = status_set_errno(DVM_EIO, "translator cache: %s",
                                         tmp);
        if (fd >= 0)
            close(fd);          /* EBADF when closed above: harmless */
        unlink(tmp);
        return st;
    }
    return DVM_OK;
}

dvm_status jit_cache_put(jit_cache *c, const jit_cache_key *k,
                         uint32_t insns, const uint8_t *obj, size_t len)
{
    assert(c && k && obj);
    char path[4096];
    if (!key_path(c, k, "o", path, sizeof path))
        return status_set(DVM_EINVAL, "translator cache: path too long");
    uint8_t *e = NULL;
    size_t n = 0;
    dvm_status st = jit_cache_encode(k, insns, obj, len, &e, &n);
    if (!st)
        st = put_file(path, e, n);
    if (!st && kept_path(c, k, path, sizeof path) &&
        !(st = put_file(path, e, n)))
        keep_trim(c);
    dvm_free(e);
    return st;
}

/* True when the claim at path is stale: its process is gone, or it is
 * older than JIT_CACHE_CLAIM_S (or unreadable). */
static int claim_stale(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int ok = fstat(fd, &sb) == 0;
    close(fd);
    long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
    if (!ok || pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
        return 1;
    return time(NULL) - sb.st_mtime > JIT_CACHE_CLAIM_S;
}

/* Makes the claim at path holding this process's pid, whole or not at
 * all: written to a name of its own, then linked (EEXIST when there is
 * one).  Returns 0, or -1 with errno. */
static int claim_make(const char *path)
{
    char tmp[4128], pid[24];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, pid, (size_t)n);
    close(fd);
    if (rc == 0)
        rc = link(tmp, path);
    int e = errno;
    unlink(tmp);
    errno = e;
    return rc;
}

int jit_cache_claim(jit_cache *c, const jit_cache_key *k)
{
    assert(c && k);
    char path[4096];
    if (!key_path(c, k, "claim", path, sizeof path))
        return 1;
    for (int tries = 0; tries < 2; tries++) {
        if (claim_make(path) == 0)
            return 1;
        if (errno != EEXIST)
            return 1;           /* no claims here: translate */
        if (!claim_stale(path))
            return 0;
        unlink(path);           /* stale: take it over */
    }
    return 0;
}

void jit_cache_unclaim(jit_cache *c, const jit_cache_key *k)
{
    assert(c && k);
    char path[4096];
    if (key_path(c, k, "claim", path, sizeof path))
        unlink(path);
}
