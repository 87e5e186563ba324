/*
 * le.h -- little-endian loads and stores at any alignment.
 *
 * Every byte format of the project (instruction encoding, images, messages)
 * is little endian; these are the one definition of reading and writing it.
 * Written byte by byte, which compilers turn into single moves on
 * little-endian hosts.
 */
#ifndef DVM_LE_H
#define DVM_LE_H

#include <stdint.h>

static inline uint32_t le_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t le_ld64(const uint8_t *p)
{
    return (uint64_t)le_ld32(p) | (uint64_t)le_ld32(p + 4) << 32;
}

static inline void le_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_st64(uint8_t *p, uint64_t v)
{
    le_st32(p, (uint32_t)v);
    le_st32(p + 4, (uint32_t)(v >> 32));
}

#endif
