/*
 * bits.h -- counting the bits of a word without a library call.
 *
 * GCC's __builtin_popcountll becomes a call to libgcc's __popcountdi2 (a
 * table walk) unless the build targets a CPU with POPCNT, which a binary
 * meant for any x86-64 host does not.  The changed-byte masks of commits
 * are counted on every DELTA a home receives and every dense diff; the
 * call was 7% of a homing node's CPU (bench/recovery, replication).  The
 * SWAR count below is a dozen instructions, no branch, no table.
 */
#ifndef DVM_BITS_H
#define DVM_BITS_H

#include <stdint.h>

/* The number of bits set in x. */
static inline unsigned bits_count64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

#endif
