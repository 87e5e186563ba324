/*
 * jit_cache_test.c -- unit tests of jit_cache.c: the entry codec (round
 * trip; every truncation, every flipped byte, and every field of another
 * key refused), the directory (miss, hit, a corrupt entry refused, entries
 * written by concurrent processes read whole or not at all), claims
 * (held, stale when the claimant is gone, given up) and the counters.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "exec/jit_cache.h"
#include "util/alloc.h"

static const jit_cache_key key = {0x1234567890abcdefull, 42, 7, 2000};

/* An object of n bytes, byte i = i * 7 + seed. */
static uint8_t *object(size_t n, unsigned seed)
{
    uint8_t *p = dvm_malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed);
    return p;
}

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t *obj = object(300, 1), *e;
    size_t n, len;
    const uint8_t *o;
    uint32_t insns;
    assert_int_equal(jit_cache_encode(&key, 36, obj, 300, &e, &n), DVM_OK);
    assert_int_equal(n, JIT_CACHE_HEADER + 300);
    assert_int_equal(jit_cache_decode(e, n, &key, &o, &len, &insns), DVM_OK);
    assert_int_equal(len, 300);
    assert_int_equal(insns, 36);
    assert_memory_equal(o, obj, 300);
    jit_cache_key k;
    assert_int_equal(jit_cache_header_key(e, n, &k), 1);
    assert_memory_equal(&k, &key, sizeof k);
    assert_int_equal(jit_cache_header_key(e, JIT_CACHE_HEADER - 1, &k), 0);
    assert_int_equal(jit_cache_encode(&key, 1, obj, 0, &e, &n), DVM_ERANGE);
    dvm_free(e);
    dvm_free(obj);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    uint8_t *obj = object(64, 2), *e;
    size_t n, len;
    const uint8_t *o;
    uint32_t insns;
    assert_int_equal(jit_cache_encode(&key, 5, obj, 64, &e, &n), DVM_OK);
    for (size_t k = 0; k < n; k++)      /* every truncation */
        assert_int_equal(jit_cache_decode(e, k, &key, &o, &len, &insns),
                         DVM_EFORMAT);
    for (size_t k = 0; k < n; k++) {    /* every bit flipped */
        for (unsigned bit = 0; bit < 8; bit++) {
            e[k] ^= (uint8_t)(1u << bit);
            assert_int_equal(jit_cache_decode(e, n, &key, &o, &len, &insns),
                             DVM_EFORMAT);
            e[k] ^= (uint8_t)(1u << bit);
        }
    }
    jit_cache_key other[4] = {key, key, key, key};
    other[0].prog++;
    other[1].host++;
    other[2].entry++;
    other[3].region_max++;
    for (int k = 0; k < 4; k++)
        assert_int_equal(jit_cache_decode(e, n, &other[k], &o, &len,
                                          &insns), DVM_EFORMAT);
    assert_int_equal(jit_cache_decode(e, n, &key, &o, &len, &insns), DVM_OK);
    dvm_free(e);
    dvm_free(obj);
}

/* A new cache directory, opened. */
static jit_cache *fresh(char **dir)
{
    jit_cache *c;
    assert_int_equal(jit_cache_dir_make(dir), DVM_OK);
    assert_int_equal(jit_cache_open(*dir, &c), DVM_OK);
    return c;
}

static void test_hit_miss_corrupt(void **state)
{
    (void)state;
    char *dir;
    jit_cache *c = fresh(&dir);
    uint8_t *got, *obj = object(1000, 3);
    size_t len;
    uint32_t insns;
    assert_int_equal(jit_cache_get(c, &key, &got, &len, &insns), DVM_ENOENT);
    assert_int_equal(jit_cache_put(c, &key, 12, obj, 1000), DVM_OK);
    assert_int_equal(jit_cache_get(c, &key, &got, &len, &insns), DVM_OK);
    assert_int_equal(len, 1000);
    assert_int_equal(insns, 12);
    assert_memory_equal(got, obj, 1000);
    dvm_free(got);
    jit_cache_key k2 = key;
    k2.prog ^= 1;               /* the same file name, another program */
    assert_int_equal(jit_cache_get(c, &k2, &got, &len, &insns),
                     DVM_EFORMAT);
    char path[4200];            /* a byte of the object changed on disk */
    snprintf(path, sizeof path, "%s/%u-%u.o", dir, key.entry,
             key.region_max);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, JIT_CACHE_HEADER + 500, SEEK_SET);
    fputc(0x5a ^ (7 * 500 + 3), f);
    fclose(f);
    assert_int_equal(jit_cache_get(c, &key, &got, &len, &insns),
                     DVM_EFORMAT);
    f = fopen(path, "wb");      /* empty */
    fclose(f);
    assert_int_equal(jit_cache_get(c, &key, &got, &len, &insns),
                     DVM_EFORMAT);
    dvm_free(obj);
    jit_cache_close(c);
    jit_cache_dir_remove(dir);
    assert_int_equal(access(dir, F_OK), -1);
    dvm_free(dir);
}

/* Writers of different objects for one key in children; a reader meanwhile
 * sees none, or one of them whole. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    char *dir;
    jit_cache *c = fresh(&dir);
    enum { WRITERS = 3, PUTS = 200, SIZE = 20000 };
    pid_t pid[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pid[w] = fork();
        assert_true(pid[w] >= 0);
        if (pid[w] == 0) {
            uint8_t *obj = object(SIZE, (unsigned)w);
            for (int k = 0; k < PUTS; k++)
                if (jit_cache_put(c, &key, (uint32_t)w, obj, SIZE))
                    _exit(1);
            _exit(0);
        }
    }
    int seen = 0;
    for (int k = 0; k < 2000; k++) {
        uint8_t *got;
        size_t len;
        uint32_t insns;
        dvm_status st = jit_cache_get(c, &key, &got, &len, &insns);
        assert_true(st == DVM_OK || st == DVM_ENOENT);
        if (st)
            continue;
        assert_int_equal(len, SIZE);
        assert_true(insns < WRITERS);
        uint8_t *want = object(SIZE, insns);
        assert_memory_equal(got, want, SIZE);
        dvm_free(want);
        dvm_free(got);
        seen++;
    }
    for (int w = 0; w < WRITERS; w++) {
        int ws;
        assert_int_equal(waitpid(pid[w], &ws, 0), pid[w]);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    (void)seen;
    jit_cache_close(c);
    jit_cache_dir_remove(dir);
    dvm_free(dir);
}

static void test_claims_and_counts(void **state)
{
    (void)state;
    char *dir;
    jit_cache *c = fresh(&dir);
    assert_int_equal(jit_cache_claim(c, &key), 1);
    assert_int_equal(jit_cache_claim(c, &key), 0);     /* held: by us */
    jit_cache_unclaim(c, &key);
    assert_int_equal(jit_cache_claim(c, &key), 1);
    jit_cache_unclaim(c, &key);
    pid_t p = fork();           /* a claimant that is gone: stale */
    assert_true(p >= 0);
    if (p == 0)
        _exit(jit_cache_claim(c, &key) == 1 ? 0 : 1);
    int ws;
    assert_int_equal(waitpid(p, &ws, 0), p);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    assert_int_equal(jit_cache_claim(c, &key), 1);
    jit_cache_count(c, offsetof(jit_cache_counts, translated));
    jit_cache_count(c, offsetof(jit_cache_counts, loaded));
    jit_cache_count(c, offsetof(jit_cache_counts, loaded));
    jit_cache_counts n;
    assert_int_equal(jit_cache_counts_read(dir, &n), DVM_OK);
    assert_int_equal(n.translated, 1);
    assert_int_equal(n.loaded, 2);
    assert_int_equal(n.bad, 0);
    jit_cache_close(c);
    jit_cache_dir_remove(dir);
    dvm_free(dir);
}

/* A directory left by a process that is gone is removed by the next
 * jit_cache_dir_make once old enough; one of a live process stays. */
static void test_sweep(void **state)
{
    (void)state;
    char *mine, *dead, *next;
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {               /* makes one and leaves it behind */
        char *d;
        if (jit_cache_dir_make(&d))
            _exit(1);
        _exit(0);
    }
    int ws;
    assert_int_equal(waitpid(p, &ws, 0), p);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    const char *tmp = getenv("TMPDIR");
    dead = dvm_malloc(4096);
    snprintf(dead, 4096, "%s/dvm-jit-%ld-", tmp && *tmp ? tmp : "/tmp",
             (long)p);
    char cmd[4200];             /* made long ago */
    snprintf(cmd, sizeof cmd, "touch -d '-%d seconds' %s*",
             JIT_CACHE_SWEEP_S + 5, dead);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(jit_cache_dir_make(&mine), DVM_OK);
    assert_int_equal(jit_cache_dir_make(&next), DVM_OK);
    assert_int_equal(access(mine, F_OK), 0);    /* ours: kept */
    snprintf(cmd, sizeof cmd, "ls -d %s* >/dev/null 2>&1", dead);
    assert_int_not_equal(system(cmd), 0);
    jit_cache_dir_remove(mine);
    jit_cache_dir_remove(next);
    dvm_free(mine);
    dvm_free(next);
    dvm_free(dead);
}

/* A name of the sweep's form that is a link to another directory (or
 * another user's) is left alone: the directory it points to keeps its
 * files, whatever its age and however dead its "pid". */
static void test_sweep_link(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    char target[4096], victim[4200], link[4096], cmd[8500], *mine;
    snprintf(target, sizeof target, "%s/dvm-sweep-target-XXXXXX", tmp);
    assert_non_null(mkdtemp(target));
    snprintf(victim, sizeof victim, "%s/precious", target);
    int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    pid_t p = fork();           /* a pid that is gone */
    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    assert_int_equal(waitpid(p, NULL, 0), p);
    snprintf(link, sizeof link, "%s/dvm-jit-%ld-link", tmp, (long)p);
    assert_int_equal(symlink(target, link), 0);
    snprintf(cmd, sizeof cmd, "touch -h -d '-%d seconds' %s %s",
             JIT_CACHE_SWEEP_S + 5, link, target);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(jit_cache_dir_make(&mine), DVM_OK);
    assert_int_equal(access(victim, F_OK), 0);  /* still there */
    jit_cache_dir_remove(link);                  /* a link: nothing */
    assert_int_equal(access(victim, F_OK), 0);
    unlink(link);
    unlink(victim);
    rmdir(target);
    jit_cache_dir_remove(mine);
    dvm_free(mine);
}

/* Entries kept across runs: put through one run's directory, found
 * through another's (counted as kept) with the same build tag, not with
 * another; a keeping directory others may write, or no tag, refused. */
static void test_keep(void **state)
{
    (void)state;
    char *d1, *d2, *d3, keep[4096];
    jit_cache *c1 = fresh(&d1), *c2 = fresh(&d2), *c3 = fresh(&d3);
    snprintf(keep, sizeof keep, "%s/keep", d3);  /* made by the first */
    assert_int_equal(jit_cache_keep(c1, keep, 0x77), DVM_OK);
    assert_int_equal(jit_cache_keep(c2, keep, 0x77), DVM_OK);
    assert_int_equal(jit_cache_keep(c3, keep, 0x78), DVM_OK);
    uint8_t *got, *obj = object(100, 9);
    size_t len;
    uint32_t insns;
    assert_int_equal(jit_cache_put(c1, &key, 3, obj, 100), DVM_OK);
    assert_int_equal(jit_cache_get(c2, &key, &got, &len, &insns), DVM_OK);
    assert_memory_equal(got, obj, 100);
    dvm_free(got);
    jit_cache_counts n;
    assert_int_equal(jit_cache_counts_read(d2, &n), DVM_OK);
    assert_int_equal(n.kept, 1);
    assert_int_equal(jit_cache_get(c3, &key, &got, &len, &insns),
                     DVM_ENOENT);       /* another build */
    jit_cache_key k2 = key;
    k2.prog++;                  /* another program */
    assert_int_equal(jit_cache_get(c2, &k2, &got, &len, &insns), DVM_ENOENT);
    jit_cache *c4;
    assert_int_equal(jit_cache_open(d3, &c4), DVM_OK);
    assert_int_equal(jit_cache_keep(c4, keep, 0), DVM_EINVAL);
    assert_int_equal(chmod(keep, 0777), 0);
    assert_int_equal(jit_cache_keep(c4, keep, 0x77), DVM_EINVAL);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", keep);
    assert_int_equal(system(cmd), 0);
    dvm_free(obj);
    jit_cache *cs[] = {c1, c2, c3, c4};
    for (int i = 0; i < 4; i++)
        jit_cache_close(cs[i]);
    char *ds[] = {d1, d2, d3};
    for (int i = 0; i < 3; i++) {
        jit_cache_dir_remove(ds[i]);
        dvm_free(ds[i]);
    }
}

/* The path of k's kept entry in build dir b of keep (as jit_cache.c
 * names it), into buf. */
static void kept_name(char *buf, size_t cap, const char *keep, uint64_t b,
                      const jit_cache_key *k)
{
    snprintf(buf, cap, "%s/%016llx/%016llx-%016llx-%u-%u.o", keep,
             (unsigned long long)b, (unsigned long long)k->prog,
             (unsigned long long)k->host, k->entry, k->region_max);
}

/* Sets the last use of the file at path to t seconds after the epoch. */
static void used_at(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Kept entries stay within the bound, over every build: past it, the
 * least recently used go -- written, or loaded by a later run (which
 * makes an entry recent) -- down to three quarters; a dead writer's old
 * temporary file goes too; what is not a build's directory is left
 * alone. */
static void test_keep_bound(void **state)
{
    (void)state;
    char *d1, *d2, *d3, keep[4096], path[8][4200], other[4200], tmp[4200];
    jit_cache *c1 = fresh(&d1), *c2 = fresh(&d2), *c3 = fresh(&d3);
    snprintf(keep, sizeof keep, "%s/keep", d3);
    assert_int_equal(jit_cache_keep(c1, keep, 0x77), DVM_OK);
    assert_int_equal(jit_cache_keep(c2, keep, 0x78), DVM_OK);
    assert_int_equal(jit_cache_keep(c3, keep, 0x77), DVM_OK);
    size_t entry = JIT_CACHE_HEADER + 1000;
    jit_cache *w[] = {c1, c2, c1, c1};
    uint64_t build[] = {0x77, 0x78, 0x77, 0x77};
    for (int i = 0; i < 4; i++)
        jit_cache_keep_bound(w[i], 3 * entry + entry / 2);
    snprintf(other, sizeof other, "%s/other.o", keep);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(tmp, sizeof tmp, "%s/%016llx/dead.o.1.tmp", keep, 0x77ull);
    assert_non_null(f = fopen(tmp, "w"));
    fclose(f);
    used_at(tmp, 1000);
    uint8_t *obj = object(1000, 3), *got;
    size_t len;
    uint32_t insns;
    jit_cache_key k[4];
    for (int i = 0; i < 3; i++) {       /* three fit: none goes */
        k[i] = key;
        k[i].entry = 100 + (uint32_t)i;
        assert_int_equal(jit_cache_put(w[i], &k[i], 3, obj, 1000), DVM_OK);
        kept_name(path[i], sizeof path[i], keep, build[i], &k[i]);
        used_at(path[i], 1000 + i);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(access(path[i], F_OK), 0);
    /* A later run of build 0x77 loads the oldest: it is recent now. */
    assert_int_equal(jit_cache_get(c3, &k[0], &got, &len, &insns), DVM_OK);
    dvm_free(got);
    k[3] = key;
    k[3].entry = 103;
    assert_int_equal(jit_cache_put(w[3], &k[3], 3, obj, 1000), DVM_OK);
    kept_name(path[3], sizeof path[3], keep, build[3], &k[3]);
    int left[] = {1, 0, 0, 1};          /* 4 over 3.5: down to 2.625 */
    for (int i = 0; i < 4; i++)
        assert_int_equal(access(path[i], F_OK), left[i] ? 0 : -1);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    dvm_free(obj);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", keep);
    assert_int_equal(system(cmd), 0);
    jit_cache *cs[] = {c1, c2, c3};
    char *ds[] = {d1, d2, d3};
    for (int i = 0; i < 3; i++) {
        jit_cache_close(cs[i]);
        jit_cache_dir_remove(ds[i]);
        dvm_free(ds[i]);
    }
}

/* Two RComps that keep translations in a directory not made yet race to
 * make it: the one that loses the mkdir must use the winner's directory,
 * not give up keeping ("File exists").  Each round releases two
 * processes at once on a fresh path. */
/* Where translations are kept: DVM_JIT_KEEP's directory, nowhere when
 * it says so, else the XDG cache directory, else ~/.cache; relative or
 * overlong paths are no directory. */
static void test_keep_where(void **state)
{
    (void)state;
    char b[64];
    int d = 7;
    assert_int_equal(jit_cache_keep_where("/k", "/x", "/h", b, sizeof b, &d), 1);
    assert_string_equal(b, "/k");
    assert_int_equal(d, 0);
    assert_int_equal(jit_cache_keep_where(NULL, "/x", "/h", b, sizeof b, &d), 1);
    assert_string_equal(b, "/x/dvm/jit");
    assert_int_equal(d, 1);
    d = 7;
    assert_int_equal(jit_cache_keep_where(NULL, "rel", "/h", b, sizeof b, &d), 1);
    assert_string_equal(b, "/h/.cache/dvm/jit");
    assert_int_equal(d, 1);
    assert_int_equal(jit_cache_keep_where(NULL, NULL, "/h", b, sizeof b, &d), 1);
    assert_string_equal(b, "/h/.cache/dvm/jit");
    d = 7;
    static const char *off[] = { "off", "0", "" };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jit_cache_keep_where(off[i], "/x", "/h", b, sizeof b,
                                              &d), 0);
        assert_string_equal(b, "");
    }
    assert_int_equal(jit_cache_keep_where(NULL, NULL, NULL, b, sizeof b, &d), 0);
    assert_int_equal(jit_cache_keep_where(NULL, "", "h", b, sizeof b, &d), 0);
    assert_int_equal(jit_cache_keep_where(NULL, NULL, "/home/someone", b, 16,
                                          &d), 0);
    assert_int_equal(d, 7);
}

/* The default directory's parents are made (0700), existing ones kept;
 * a parent that is a file stops it. */
static void test_make_parents(void **state)
{
    (void)state;
    char root[] = "/tmp/jit-parents-XXXXXX", p[256];
    struct stat sb;
    assert_non_null(mkdtemp(root));
    snprintf(p, sizeof p, "%s/a/b/jit", root);
    assert_int_equal(jit_cache_make_parents(p), 0);
    snprintf(p, sizeof p, "%s/a/b", root);
    assert_int_equal(stat(p, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(p, sizeof p, "%s/a/b/jit", root);
    assert_int_equal(stat(p, &sb), -1);           /* not the last one */
    assert_int_equal(jit_cache_make_parents(p), 0);   /* again: nothing */
    snprintf(p, sizeof p, "%s/f", root);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(p, sizeof p, "%s/f/x/jit", root);
    assert_int_equal(jit_cache_make_parents(p), -1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_keep_race(void **state)
{
    (void)state;
    char *dir;
    jit_cache *c = fresh(&dir);
    enum { ROUNDS = 500 };
    int lost = 0;
    for (int r = 0; r < ROUNDS && !lost; r++) {
        char keep[4096];
        snprintf(keep, sizeof keep, "%s/keep%d", dir, r);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pid[2];
        for (int w = 0; w < 2; w++) {
            pid[w] = fork();
            assert_true(pid[w] >= 0);
            if (pid[w] == 0) {
                char b;
                close(go[1]);
                if (read(go[0], &b, 1) != 1)
                    _exit(2);
                _exit(jit_cache_keep(c, keep, 0x77) ? 1 : 0);
            }
        }
        close(go[0]);
        assert_int_equal(write(go[1], "xx", 2), 2);
        close(go[1]);
        for (int w = 0; w < 2; w++) {
            int ws;
            assert_int_equal(waitpid(pid[w], &ws, 0), pid[w]);
            assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) != 2);
            lost |= WEXITSTATUS(ws) != 0;
        }
    }
    assert_int_equal(lost, 0);
    jit_cache_close(c);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    dvm_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_hit_miss_corrupt),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_claims_and_counts),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_sweep_link),
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_keep_race),
        cmocka_unit_test(test_keep_where),
        cmocka_unit_test(test_make_parents),
        cmocka_unit_test(test_keep_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
