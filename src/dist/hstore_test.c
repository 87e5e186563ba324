/*
 * hstore_test.c -- a node's homed versions: put keeps a copy under its
 * name (once), find reads it, nothing is evicted however many are held,
 * drop forgets, and every frame is back in the store at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dist/hstore.h"

static void test_put_find_drop(void **state)
{
    (void)state;
    mem_store *st;
    assert_int_equal(store_create(1024, &st), DVM_OK);
    hstore h;
    assert_int_equal(hstore_init(&h, st), DVM_OK);
    uint8_t page[STORE_FRAME_SIZE];
    for (uint64_t i = 0; i < 300; i++) {
        memset(page, (int)i, sizeof page);
        assert_int_equal(hstore_put(&h, i, 7, page), DVM_OK);
    }
    memset(page, 0xee, sizeof page);
    assert_int_equal(hstore_put(&h, 5, 7, page), DVM_OK);  /* kept as is */
    assert_int_equal(hstore_count(&h), 300);
    assert_int_equal(h.stored, 300);
    const uint8_t *p = hstore_find(&h, 5, 7);
    assert_non_null(p);
    assert_int_equal(p[0], 5);
    assert_int_equal(p[STORE_FRAME_SIZE - 1], 5);
    assert_null(hstore_find(&h, 5, 8));
    hstore_drop(&h, 5, 7);
    hstore_drop(&h, 5, 7);                  /* not held: nothing */
    assert_null(hstore_find(&h, 5, 7));
    assert_int_equal(hstore_count(&h), 299);
    assert_int_equal(h.dropped, 1);
    assert_int_equal(store_in_use(st), 299);
    hstore_destroy(&h);
    assert_int_equal(store_in_use(st), 0);
    store_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_find_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
