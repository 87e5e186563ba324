/* csmith.h -- the runtime of Csmith-generated programs for the c0 subset:
 * a CRC of the program's globals and the "safe" arithmetic helpers, in C
 * that both gcc and dvm cc compile (no undefined behaviour), so the two
 * builds of one generated program must print the same checksum.
 * (tests/csmith/run.sh; the helpers follow Csmith's names, not its exact
 * fallback values, which only need to agree between the two builds.) */
#ifndef C0_CSMITH_H
#define C0_CSMITH_H
#include <stdint.h>

static uint32_t crc32_tab[256];
static uint32_t crc32_context = 0xFFFFFFFFUL;

static void crc32_gentab(void)
{
    for (int i = 0; i < 256; i++) {
        uint32_t crc = (uint32_t)i;
        for (int j = 8; j > 0; j--)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320UL : crc >> 1;
        crc32_tab[i] = crc;
    }
}

static void crc32_byte(uint8_t b)
{
    crc32_context = ((crc32_context >> 8) & 0x00FFFFFF) ^
                    crc32_tab[(crc32_context ^ b) & 0xFF];
}

static void transparent_crc(uint64_t val, char *vname, int flag)
{
    for (int i = 0; i < 8; i++)
        crc32_byte((uint8_t)((val >> (i * 8)) & 0xFF));
    if (flag) {
        output_str(vname);
        output_char(' ');
        output_uq(crc32_context ^ 0xFFFFFFFFUL);
        output_char('\n');
    }
}

static void transparent_crc_bytes(char *ptr, int nbytes, char *vname, int flag)
{
    for (int i = 0; i < nbytes; i++)
        crc32_byte((uint8_t)ptr[i]);
    if (flag) {
        output_str(vname);
        output_char('\n');
    }
}

static void platform_main_begin(void) {}

static void platform_main_end(uint32_t crc, int flag)
{
    (void)flag;
    output_str("checksum = ");
    output_uq(crc);
    output_char('\n');
}

#define C0_SIGNED(T, MIN, MAX, W)                                            \
static T safe_unary_minus_func_##T##_s(T si)                                 \
{ return si == MIN ? si : (T)-si; }                                          \
static T safe_add_func_##T##_s_s(T a, T b)                                   \
{ return ((a > 0 && b > 0 && a > MAX - b) || (a < 0 && b < 0 && a < MIN - b)) ? a : (T)(a + b); } \
static T safe_sub_func_##T##_s_s(T a, T b)                                   \
{ return ((a ^ b) < 0 && (((a ^ ((a ^ b) & (~MAX))) - b) ^ b) < 0) ? a : (T)(a - b); } \
static T safe_mul_func_##T##_s_s(T a, T b)                                   \
{ return (((a > 0) && (b > 0) && (a > (MAX / b))) ||                         \
          ((a > 0) && (b <= 0) && (b < (MIN / a))) ||                        \
          ((a <= 0) && (b > 0) && (a < (MIN / b))) ||                        \
          ((a <= 0) && (b <= 0) && (a != 0) && (b < (MAX / a)))) ? a : (T)(a * b); } \
static T safe_mod_func_##T##_s_s(T a, T b)                                   \
{ return (b == 0 || (a == MIN && b == -1)) ? a : (T)(a % b); }               \
static T safe_div_func_##T##_s_s(T a, T b)                                   \
{ return (b == 0 || (a == MIN && b == -1)) ? a : (T)(a / b); }               \
static T safe_lshift_func_##T##_s_s(T a, int b)                              \
{ return (a < 0 || b < 0 || b >= W || a > (MAX >> b)) ? a : (T)(a << b); }   \
static T safe_lshift_func_##T##_s_u(T a, unsigned int b)                     \
{ return (a < 0 || b >= W || a > (MAX >> b)) ? a : (T)(a << b); }            \
static T safe_rshift_func_##T##_s_s(T a, int b)                              \
{ return (a < 0 || b < 0 || b >= W) ? a : (T)(a >> b); }                     \
static T safe_rshift_func_##T##_s_u(T a, unsigned int b)                     \
{ return (a < 0 || b >= W) ? a : (T)(a >> b); }

#define C0_UNSIGNED(T, MAX, W)                                               \
static T safe_unary_minus_func_##T##_u(T ui)                                 \
{ return (T)(0 - (uint64_t)ui); }                                            \
static T safe_add_func_##T##_u_u(T a, T b)                                   \
{ return (T)((uint64_t)a + (uint64_t)b); }                                   \
static T safe_sub_func_##T##_u_u(T a, T b)                                   \
{ return (T)((uint64_t)a - (uint64_t)b); }                                   \
static T safe_mul_func_##T##_u_u(T a, T b)                                   \
{ return (T)((uint64_t)a * (uint64_t)b); }                                   \
static T safe_mod_func_##T##_u_u(T a, T b)                                   \
{ return b == 0 ? a : (T)(a % b); }                                          \
static T safe_div_func_##T##_u_u(T a, T b)                                   \
{ return b == 0 ? a : (T)(a / b); }                                          \
static T safe_lshift_func_##T##_u_s(T a, int b)                              \
{ return (b < 0 || b >= W || a > (MAX >> b)) ? a : (T)((uint64_t)a << b); }  \
static T safe_lshift_func_##T##_u_u(T a, unsigned int b)                     \
{ return (b >= W || a > (MAX >> b)) ? a : (T)((uint64_t)a << b); }           \
static T safe_rshift_func_##T##_u_s(T a, int b)                              \
{ return (b < 0 || b >= W) ? a : (T)(a >> b); }                              \
static T safe_rshift_func_##T##_u_u(T a, unsigned int b)                     \
{ return (b >= W) ? a : (T)(a >> b); }

C0_SIGNED(int8_t, (-127 - 1), 127, 32)
C0_SIGNED(int16_t, (-32767 - 1), 32767, 32)
C0_SIGNED(int32_t, (-2147483647 - 1), 2147483647, 32)
C0_SIGNED(int64_t, (-9223372036854775807L - 1), 9223372036854775807L, 64)
C0_UNSIGNED(uint8_t, 255, 32)
C0_UNSIGNED(uint16_t, 65535, 32)
C0_UNSIGNED(uint32_t, 4294967295U, 32)
C0_UNSIGNED(uint64_t, 18446744073709551615UL, 64)
#endif
