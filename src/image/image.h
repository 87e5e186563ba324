/*
 * image.h -- the versioned binary image of a program (docs/image-format.md).
 *
 * image_serialize/image_parse convert between a dvm_program and bytes;
 * image_parse validates every field and refuses a truncated, corrupted or
 * hostile file with a clear message (never a crash, never an allocation
 * larger than the file justifies).  The loaded program is also checked for
 * what the DVM relies on: segments in the SR, sorted, not overlapping,
 * instruction offsets inside their segment and decodable, names valid.
 */
#ifndef DVM_IMAGE_H
#define DVM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "image/program.h"
#include "util/status.h"

#define IMAGE_MAGIC "DVMIMG\r\n"   /* 8 bytes */
#define IMAGE_VERSION 2       /* written; 1 and 2 are read */
#define IMAGE_VERSION_MIN 1

/* On success *buf (owned, dvm_free) holds *len bytes. */
dvm_status image_serialize(const dvm_program *p, uint8_t **buf, size_t *len);
/* On success *out owns the program. */
dvm_status image_parse(const uint8_t *buf, size_t len, dvm_program **out);
/* Writes the image to path.  A regular file (or none) is written atomically
 * (path.tmp.<pid>.<k> in the same directory, fsync, rename over path): on
 * failure no file is left behind.  A symbolic link is followed, and the
 * file it names written the same way, so the link stays a link.  An
 * existing file that is not regular (a device such as /dev/null, a FIFO)
 * is written in place, never replaced; a directory is refused. */
dvm_status image_save(const dvm_program *p, const char *path);
/* Reads and parses the image at path. */
dvm_status image_load(const char *path, dvm_program **out);
/* True when buf starts with the image magic. */
int image_has_magic(const uint8_t *buf, size_t len);



#endif
