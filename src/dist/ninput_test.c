/*
 * ninput_test.c -- a node's copy of the input pages: a page and the ones
 * after it asked for once, none again; a page filled is present and reads
 * back from the file an RComp opens by its path; the map an RComp maps
 * sees it; a stopped copy, and an empty one, can be stopped.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "dist/cmsg.h"
#include "dist/ninput.h"
#include "image/inpage.h"
#include "isa/isa.h"

#define PG (DISA_INPUT_BASE / DISA_PAGE)

static void test_ask_once(void **state)
{
    (void)state;
    ninput x;
    assert_int_equal(ninput_start(&x), DVM_OK);
    uint64_t want[2 * NINPUT_AHEAD];
    assert_int_equal(ninput_ask(&x, PG + 10, want), NINPUT_AHEAD);
    assert_int_equal(want[0], PG + 10);
    assert_int_equal(want[1], CMSG_EPOCH_INPUT);
    assert_int_equal(want[2 * (NINPUT_AHEAD - 1)], PG + 10 + NINPUT_AHEAD - 1);
    assert_int_equal(ninput_ask(&x, PG + 10, want), 0);   /* on its way */
    assert_int_equal(ninput_ask(&x, PG + 20, want), 0);
    /* Before them: up to the first asked one, the rest skipped. */
    assert_int_equal(ninput_ask(&x, PG + 5, want), 5);
    assert_int_equal(want[8], PG + 9);
    /* The last page of the windows: nothing after it. */
    uint64_t last = DISA_SYSPAGE / DISA_PAGE - 1;
    assert_int_equal(ninput_ask(&x, last, want), 1);
    assert_false(ninput_present(&x, PG + 10));
    ninput_stop(&x);
    ninput_stop(&x);
    ninput_init(&x);                    /* nothing to free */
    ninput_stop(&x);
}

static void test_fill_reads_back(void **state)
{
    (void)state;
    ninput x;
    assert_int_equal(ninput_start(&x), DVM_OK);
    uint8_t page[DISA_PAGE], back[DISA_PAGE];
    for (size_t i = 0; i < sizeof page; i++)
        page[i] = (uint8_t)(i * 13 + 1);
    int fd = open(x.win_path, O_RDONLY);
    int mfd = open(x.map_path, O_RDONLY);
    assert_true(fd >= 0 && mfd >= 0);
    const uint64_t *map = mmap(NULL, INPAGE_MAP_BYTES, PROT_READ,
                               MAP_SHARED, mfd, 0);
    assert_true(map != MAP_FAILED);
    uint64_t p = PG + 12345;
    assert_false(inpage_present(map, p));
    assert_int_equal(ninput_fill(&x, p, page), DVM_OK);
    assert_true(ninput_present(&x, p));
    assert_true(inpage_present(map, p));        /* the RComp's view */
    assert_false(inpage_present(map, p + 1));
    assert_int_equal(pread(fd, back, sizeof back,
                           (off_t)(inpage_index(p) * DISA_PAGE)),
                     (ssize_t)sizeof back);
    assert_memory_equal(back, page, sizeof page);
    munmap((void *)map, INPAGE_MAP_BYTES);
    close(mfd);
    close(fd);
    ninput_stop(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ask_once),
        cmocka_unit_test(test_fill_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
