/*
 * lex_test.c -- unit tests of the line lexer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "asm/lex.h"

static lex_buf lex_str(const char *s)
{
    lex_buf b = {0};
    assert_int_equal(lex_line(&b, s, strlen(s)), DVM_OK);
    return b;
}

static void test_instruction_line(void **state)
{
    (void)state;
    lex_buf b = lex_str("loop:\tmov:z $1:q, -8(r):q # comment");
    int kinds[] = {TK_LABEL, TK_IDENT, TK_PUNCT, TK_IDENT, TK_PUNCT, TK_INT,
                   TK_PUNCT, TK_IDENT, TK_PUNCT, TK_PUNCT, TK_INT,
                   TK_PUNCT, TK_IDENT, TK_PUNCT, TK_PUNCT, TK_IDENT, TK_EOL};
    assert_int_equal(b.n, sizeof kinds / sizeof kinds[0]);
    for (size_t i = 0; i < b.n; i++)
        assert_int_equal(b.t[i].kind, kinds[i]);
    assert_int_equal(b.t[0].len, 4);
    assert_int_equal(b.t[1].col, 7);
    assert_int_equal(b.t[5].ival, 1);
    lex_buf_free(&b);
}

static void test_not_a_label(void **state)
{
    (void)state;
    lex_buf b = lex_str("mov:z x, y");
    assert_int_equal(b.t[0].kind, TK_IDENT);
    lex_buf_free(&b);
    b = lex_str("a: b: exit:c");
    assert_int_equal(b.t[0].kind, TK_LABEL);
    assert_int_equal(b.t[1].kind, TK_LABEL);
    assert_int_equal(b.t[2].kind, TK_IDENT);
    lex_buf_free(&b);
}

static void test_numbers(void **state)
{
    (void)state;
    lex_buf b = lex_str("0x1F 18446744073709551615 'a' '\\n' '\\x41' 1.5 "
                        "2e-3 0x1p4");
    assert_int_equal(b.t[0].ival, 0x1f);
    assert_true(b.t[1].ival == UINT64_MAX);
    assert_int_equal(b.t[2].ival, 'a');
    assert_int_equal(b.t[3].ival, '\n');
    assert_int_equal(b.t[4].ival, 'A');
    assert_int_equal(b.t[5].kind, TK_FLOAT);
    assert_true(b.t[5].fval == 1.5);
    assert_true(b.t[6].fval == 2e-3);
    assert_true(b.t[7].fval == 16.0);
    lex_buf_free(&b);
}

static void test_errors(void **state)
{
    (void)state;
    const char *bad[] = {"18446744073709551616", "12ab", "'ab'", "\"abc",
                         "\"\\q\"", "mov @", "0x"};
    const int cols[] = {1, 1, 1, 1, 2, 5, 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lex_buf b = lex_str(bad[i]);
        assert_int_equal(b.t[b.n - 1].kind, TK_ERROR);
        assert_int_equal(b.t[b.n - 1].col, cols[i]);
        lex_buf_free(&b);
    }
}

static void test_strings(void **state)
{
    (void)state;
    lex_buf b = lex_str(".ascii \"a\\tb\\\"#\\101\\0\"  # c");
    assert_int_equal(b.t[1].kind, TK_STRING);
    uint8_t out[32];
    size_t n = lex_string_decode(&b.t[1], out);
    assert_int_equal(n, 7);
    assert_memory_equal(out, "a\tb\"#A\0", 7);
    assert_int_equal(b.t[2].kind, TK_EOL);
    lex_buf_free(&b);
    assert_true(lex_valid_symbol("_a.b9", 5));
    assert_false(lex_valid_symbol("9a", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instruction_line),
        cmocka_unit_test(test_not_a_label),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
