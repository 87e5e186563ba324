/*
 * roundtrip_test.c -- every program survives asm -> image -> dis -> asm.
 *
 * For each .dasm file under $DVM_SRC/examples, tests/conformance, tests/asm
 * and tests/fuzz/asm (walked at test time, so files added later are
 * covered), plus the examples of DISA.md 10 embedded below: assemble,
 * serialise, parse the image back, disassemble, assemble the listing, and
 * serialise again; the two images must be byte-identical.  A file that does
 * not assemble is a failure, except under tests/conformance and
 * tests/fuzz/asm, which may hold deliberate assembly errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "asm/asm.h"
#include "asm/dis.h"
#include "image/image.h"
#include "util/alloc.h"

/* Checks the round trip of p (assembled from `name`); returns 0 when the
 * images are identical, printing the listing otherwise. */
static int roundtrip(const dvm_program *p, const char *name)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen, blen, tlen;
    dvm_program *q = NULL, *r = NULL;
    char *text = NULL;
    assert_int_equal(image_serialize(p, &a, &alen), DVM_OK);
    assert_int_equal(image_parse(a, alen, &q), DVM_OK);
    FILE *f = open_memstream(&text, &tlen);
    assert_non_null(f);
    assert_int_equal(dis_write(q, f), DVM_OK);
    fclose(f);
    dvm_status st = asm_assemble_string(name, text, tlen, stderr, &r);
    int same = 0;
    if (st == DVM_OK) {
        assert_int_equal(image_serialize(r, &b, &blen), DVM_OK);
        same = alen == blen && memcmp(a, b, alen) == 0;
    }
    if (!same)
        fprintf(stderr, "%s: round trip differs; listing:\n%s\n", name, text);
    free(text);
    dvm_free(a);
    dvm_free(b);
    program_free(q);
    program_free(r);
    return !same;
}

static int failures, files;

/* Round-trips the file at path; may_fail: assembly errors are skipped. */
static void check_file(const char *path, int may_fail)
{
    dvm_program *p = NULL;
    FILE *devnull = fopen("/dev/null", "w");
    dvm_status st = asm_assemble_file(path, may_fail ? devnull : stderr, &p);
    fclose(devnull);
    files++;
    if (st) {
        if (!may_fail) {
            fprintf(stderr, "%s: does not assemble\n", path);
            failures++;
        }
        return;
    }
    failures += roundtrip(p, path);
    program_free(p);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* Walks dir recursively, checking every .dasm file. */
static void walk(const char *dir, int may_fail)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb))
            continue;
        if (S_ISDIR(sb.st_mode))
            walk(path, may_fail);
        else if (ends_with(e->d_name, ".dasm"))
            check_file(path, may_fail);
    }
    closedir(d);
}

static void test_repository_files(void **state)
{
    (void)state;
    const char *src = getenv("DVM_SRC");
    if (!src)
        src = ".";
    static const struct {
        const char *dir;
        int may_fail;
    } dirs[] = {{"examples", 0}, {"tests/asm", 0}, {"tests/conformance", 1},
                {"tests/fuzz/asm", 1}};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", src, dirs[i].dir);
        walk(path, dirs[i].may_fail);
    }
    fprintf(stderr, "round trip: %d files, %d failures\n", files, failures);
    assert_true(files > 0);
    assert_int_equal(failures, 0);
}

static void check_string(const char *src)
{
    dvm_program *p = NULL;
    assert_int_equal(asm_assemble_string("inline.dasm", src, strlen(src),
                                         stderr, &p), DVM_OK);
    assert_int_equal(roundtrip(p, "inline.dasm"), 0);
    program_free(p);
}

static void test_disa_examples(void **state)
{
    (void)state;
    check_string("sum_runner:\n"
                 "    mov (__sb):q, p:q\n"
                 "    mov 8(__sb):q, r:q\n"
                 "    add (p):q, 8(p), (r)\n"
                 "    mov:z $1:q, 8(r):q\n"
                 "    exit:c\n"
                 "    .equ p, 0x100\n"
                 "    .equ r, 0x108\n");
    check_string(".equ pc, 0x100\n.equ addr1, 0x108\n.equ addr2, 0x110\n"
                 ".equ addr3, 0x118\n"
                 "loop:   mov:z (pc):q, addr1:q\n"
                 "        mov:z 8(pc):q, addr2:q\n"
                 "        sub (addr2):q, (addr1), (addr2)\n"
                 "        br:l $0:q, (addr2), next\n"
                 "        mov:z 16(pc):q, addr3:q\n"
                 "        mov addr3:q, pc\n"
                 "        br:j loop\n"
                 "next:   add pc:q, $24, pc\n"
                 "        br:j loop\n");
}

static void test_awkward_programs(void **state)
{
    (void)state;
    check_string("");                                   /* no segments */
    check_string(".data\n.byte 1\n");                   /* only data */
    check_string("a: exit\nb = a + 1\nend:\n");         /* label inside insn,
                                                           label at the end */
    check_string("mov $-0.0:f, 1\nmov $1e300:f, 1\nmov $1e999:f, 1\n"
                 "mov $-1e999:f, 1\nmov $5e-324:f, 1\nmov $0.1:f, 1\n");
    check_string("mov $-9223372036854775808:q, 1\nmov $0x80:b, 1\n"
                 "mov $-1:uq, 1:ub\nbr:j -9223372036854775808(5)\n");
    check_string(".text\nx: .quad 1\n.org 0x40000fff\nexit\n"
                 ".data\n.org 0x40003000\ny: .zero 100\n.byte 0\n");
    check_string(".data\na: .zero 1024*1024*1024\nb: .quad 0, 0, 1\n.zero 8\nc:\n"
                 ".quad 0, 0\n.zero 5000\n.byte 1\n.zero 4095\nd: .byte 2\n"
                 ".text\nexit\n.zero 100\nx: exit\n.zero 4096\ny: exit\n"
                 ".zero 1024*1024\n");
    check_string(".org 0x40001000\n.data\nexit2 = 1\n.heap 0x40000000, 1\n"
                 ".channel z, 0x1ffffff8, out\n.entry 0x123456789\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disa_examples),
        cmocka_unit_test(test_awkward_programs),
        cmocka_unit_test(test_repository_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
