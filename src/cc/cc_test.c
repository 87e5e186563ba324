/*
 * cc_test.c -- unit tests of the c0 compiler through cc_compile_string:
 * what the generated text holds for small programs (frames, folding,
 * runner statements) and which diagnostic a wrong program gets.  Whole
 * programs are run by the corpus (tests/cmake/c0.cmake).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cc/cc.h"
#include "util/alloc.h"

typedef struct result {
    int status;
    char *text;                /* generated DISA, or NULL */
    char *diag;                /* diagnostics */
} result;

/* Compiles the n bytes at src (which may hold NUL bytes). */
static result compile_n(const char *src, size_t n)
{
    result r = {0};
    size_t dlen, len;
    FILE *d = open_memstream(&r.diag, &dlen);
    assert_non_null(d);
    cc_opts o = {0};
    r.status = cc_compile_string(&o, "t.c0", src, n, d, &r.text, &len);
    fclose(d);
    return r;
}

static result compile(const char *src)
{
    return compile_n(src, strlen(src));
}

static void release(result *r)
{
    dvm_free(r->text);
    free(r->diag);
}

static void expect_text(const char *src, const char *needle)
{
    result r = compile(src);
    assert_int_equal(r.status, 0);
    if (!strstr(r.text, needle))
        fail_msg("'%s' not in:\n%s", needle, r.text);
    release(&r);
}

static void expect_no_text(const char *src, const char *needle)
{
    result r = compile(src);
    assert_int_equal(r.status, 0);
    if (strstr(r.text, needle))
        fail_msg("'%s' in:\n%s", needle, r.text);
    release(&r);
}

static void expect_error(const char *src, const char *diag)
{
    result r = compile(src);
    assert_int_not_equal(r.status, 0);
    assert_null(r.text);
    if (strncmp(r.diag, diag, strlen(diag)))
        fail_msg("expected '%s', got '%s'", diag, r.diag);
    release(&r);
}

static void test_fixed_and_stack_frames(void **state)
{
    (void)state;
    const char *src =
        "long sq(long x) { return x * x; }\n"
        "long f(long n) { return n ? f(n - 1) : 0; }\n"
        "void main() { output_q(sq(3) + f(2)); }\n";
    expect_text(src, "bl sq, c0.f.sq");           /* fixed frame */
    expect_text(src, "bl f, c0.ra");              /* recursive: 6.2 */
    expect_text(src, "br:l c0.sp:q, $c0.stack_limit, c0.trap.stack");
    expect_text(src, ".equ c0.sp, 0x2000");
    expect_text(src, ".entry c0.start");
}

static void test_folding_and_comments(void **state)
{
    (void)state;
    expect_text("long g; void main() { g = 6 * 7 + (1 << 4); }",
                "mov $58:q, g:q");
    expect_text("long g; void main() {\n  g = 1;\n}", "# t.c0:2: g = 1;");
    expect_text("long a[4]; void main() { a[3] = 1; }", "a+24:q");
}

static void test_runner_statement(void **state)
{
    (void)state;
    const char *src =
        "long a[100];\n"
        "void w(long i) { a[i] = i; }\n"
        "void main() { runner w(5) using a[5,,10] watching a[0]; }\n";
    expect_text(src, "newr $c0.nd.stack, $c0.nd.heap, $c0.nd.watch, "
                     "$c0.nd.fi");
    expect_text(src, "mov $0, c0.nd.stack:q");
    expect_text(src, "br:l");                      /* hi < lo traps */
    expect_text(src, "c0.entry.w:");
}

/* Entries set c0.sp only when some code uses the call stack (a frame on
 * it, a call through a pointer, asm), and never store c0.fp (it starts at
 * 0): a runner of fixed frames does not touch the runtime words' page. */
static void test_entries_touch_what_they_need(void **state)
{
    (void)state;
    const char *fixed =
        "long a[100];\n"
        "void w(long i) { a[i] = i; }\n"
        "void main() { runner w(5) using a[5]; }\n";
    expect_text(fixed, "c0.entry.w:\n    mov 0(__sb):q, c0.f.w+8:q\n");
    expect_no_text(fixed, "c0.stack_top, c0.sp");
    expect_no_text(fixed, "c0.fp:q");
    expect_text("long f(long n) { return n ? f(n - 1) : 0; }\n"
                "void main() { output_q(f(3)); }",
                "c0.start:\n    mov $c0.stack_top, c0.sp:q\n");
    expect_text("long g(long n) { return n; }\n"
                "void main() { long (*p)(long) = g; output_q(p(3)); }",
                "c0.start:\n    mov $c0.stack_top, c0.sp:q\n");
    expect_text("void main() { asm(\"mov $1, c0.x0:q\"); }",
                "c0.start:\n    mov $c0.stack_top, c0.sp:q\n");
}

static void test_mnemonic_names(void **state)
{
    (void)state;
    expect_text("long add(long a, long b) { return a + b; }\n"
                "void main() { output_q(add(1, 2)); }", "c0.g.add:");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("void main() { float f; }",
                 "t.c0:1:15: error: 'float' is not supported");
    expect_error("void main() { long x; runner main() using x; }",
                 "t.c0:1:43: error: 'x' is local to this runner");
    expect_error("void f(long a, ...) {}", "t.c0:1:16: error: variadic");
    expect_error("long f() { return 1; }", "dvm cc: error: the program has "
                 "no 'main' function");
    expect_error("#if 1 +\n#endif\n", "t.c0:1:");
    expect_error("#define F(x) F(x)\nvoid main() { F(1); }",
                 "t.c0:2:15: error: implicit declaration of function 'F'");
    /* '##' at an end used to run past the list when the argument was
     * empty (found by cc_fuzz). */
    expect_error("#define S(x) x##\nvoid main() { S(); }",
                 "t.c0:1:15: error: '##' cannot appear at either end");
    expect_error("#define P ## x\nvoid main() {}",
                 "t.c0:1:11: error: '##' cannot appear at either end");
}

/* An error found while generating code ends the compilation with text
 * buffers in use (data, constants, every function's code); they must all
 * be released.  The ASan build's leak check fails this test otherwise. */
static void test_errors_in_code_generation(void **state)
{
    (void)state;
    expect_error("int f(int);\nint g[3] = {1};\nchar *s = \"str\";\n"
                 "int main() { return f(1) + g[0] + s[0]; }",
                 "t.c0:1:5: error: function 'f' is used but never defined");
    expect_error("struct s;\nextern struct s a;\nlong b[2] = {1, 2};\n"
                 "struct s a;\nvoid main() {}",
                 "t.c0:2:17: error: 'a' has an incomplete type");
}

static void test_warnings(void **state)
{
    (void)state;
    result r = compile("void main() { int x = 64 * 1024 * 1024 * 32; "
                       "commitd; }");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.diag, "warning: integer overflow"));
    assert_non_null(strstr(r.diag, "warning: 'commitd'"));
    release(&r);
}

static void test_hostile_input_never_crashes(void **state)
{
    (void)state;
    /* '##' between NUL bytes pasted nothing into no token and then read
     * past the end of the list (found by cc_fuzz). */
    static const char nul_paste[] = "#define CAT(a, b) a\0##\0b\n"
                                    "long CAT(x,v) = 1;\nvoid main() {}\n";
    result n = compile_n(nul_paste, sizeof nul_paste - 1);
    assert_int_not_equal(n.status, 0);
    assert_non_null(strstr(n.diag, "an invalid token"));
    release(&n);
    char deep[4096];
    memset(deep, '(', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    result r = compile(deep);
    assert_int_not_equal(r.status, 0);
    release(&r);
    r = compile("#define A A A\n#define B(x) B(x) B(x)\nA B(1)");
    assert_int_not_equal(r.status, 0);
    release(&r);
    r = compile("\xff\xfe");
    assert_int_not_equal(r.status, 0);
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_and_stack_frames),
        cmocka_unit_test(test_folding_and_comments),
        cmocka_unit_test(test_runner_statement),
        cmocka_unit_test(test_entries_touch_what_they_need),
        cmocka_unit_test(test_mnemonic_names),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_errors_in_code_generation),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_hostile_input_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
