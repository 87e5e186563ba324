/*
 * crc32.c -- CRC-32 by slicing by 8 (crc32.h).
 *
 * Table k maps a byte to the CRC contribution of that byte followed by k
 * zero bytes, so eight table lookups fold eight input bytes at once:
 * the eight lookups are independent (one dependency chain a step, not one
 * a byte as with a single table).  Table 0 is the classic byte table.
 * The bytes are read little-endian whatever the host: the reflected CRC
 * consumes the lowest byte first.
 */
#include "util/crc32.h"

#include <assert.h>
#include <pthread.h>

#include "util/le.h"

#define CRC32_POLY 0xEDB88320u

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Fills crc_table (once per process). */
static void crc_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32_POLY & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++)
            crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
                              crc_table[0][crc_table[k - 1][i] & 0xFF];
}

/* Folds eight bytes at p into crc. */
static uint32_t crc_step8(uint32_t crc, const uint8_t *p)
{
    uint32_t lo = le_ld32(p) ^ crc, hi = le_ld32(p + 4);
    return crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
           crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
           crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
           crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
}

uint32_t crc32_ieee(const void *buf, size_t n)
{
    assert(buf || !n);
    pthread_once(&crc_once, crc_build);
    const uint8_t *p = buf;
    uint32_t crc = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8)
        crc = crc_step8(crc, p);
    for (; n; p++, n--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p) & 0xFF];
    return ~crc;
}
