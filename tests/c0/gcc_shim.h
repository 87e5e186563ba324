/* gcc_shim.h -- the c0 library functions for a gcc build of a runner-free
 * c0 program (tests/c0/*.c0 compared with gcc: gcc -include gcc_shim.h). */
#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#define standalone
static void output_char(long c) { putchar((int)(c & 0xFF)); }
static void output_q(long n) { printf("%ld", n); }
static void output_uq(unsigned long n) { printf("%lu", n); }
static void output_q_hex(long n) { printf("0x%016lX", (unsigned long)n); }
static void output_str(char *s) { fputs(s, stdout); }
static void wrln(void) { putchar('\n'); }
static void output_double_digits(double d, long k)
{
    if (d != d) { fputs("nan", stdout); return; }
    if (d < 0) { putchar('-'); d = -d; }
    if (d > 1.7976931348623157e308) { fputs("inf", stdout); return; }
    if (d >= 9223372036854775808.0) {
        int e;
        double f = frexp(d, &e);
        printf("%ld*2^%d", (long)ldexp(f, 53), e - 53);
        return;
    }
    long ip = (long)d, p = 1;
    for (long i = 0; i < k; i++) p *= 10;
    long r = (long)((d - (double)ip) * (double)p + 0.5);
    if (r >= p) { ip += 1; r -= p; }
    printf("%ld", ip);
    if (k > 0) printf(".%0*ld", (int)k, r);
}
