/*
 * crc32.h -- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the
 * checksum of the image format (docs/image-format.md).
 *
 * Every process of a run checks the image it loads: the master when it
 * reads the file and again when it writes the copy its RComps read, and
 * every RComp at its start.  So the checksum lies on each RComp's way to
 * its first runner, and for a program of a few hundred kilobytes it was
 * most of the image's parse (4 ns a byte with a nibble table).  This one
 * reads eight bytes a step through eight tables ("slicing by 8", ~0.4 ns
 * a byte), built once per process at the first call (~6 us).
 */
#ifndef DVM_CRC32_H
#define DVM_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of p[0..n) (crc32_ieee("123456789", 9) == 0xCBF43926).  p may be
 * NULL when n is 0.  Thread safe. */
uint32_t crc32_ieee(const void *p, size_t n);

#endif
