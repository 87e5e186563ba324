/*
 * store.h -- the frame store: immutable page contents shared by processes.
 *
 * A frame is 4 KiB in one big sparse memfd that the master (memory service)
 * and every RComp map MAP_SHARED.  Page versions (space.h) name frames by a
 * 32-bit id; id 0 is never allocated and means "the zero page".  Frames are
 * allocated only by the master: it grants batches of free frames to an RComp,
 * which writes a runner's new page contents into them and names them in its
 * commit.  Once a frame holds a page version nobody writes it again until the
 * version is garbage-collected and the frame freed.  Besides single frames
 * the master grants runs of consecutive frames known to read as zeros, for
 * large spans an RComp maps into its window (store_alloc_run).
 */
#ifndef DVM_STORE_H
#define DVM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define STORE_FRAME_SIZE 4096u

typedef struct mem_store mem_store;

/* Creates a store able to hold max_frames frames (sparse: memory is used
 * only by frames written).  On success *out owns it. */
dvm_status store_create(uint32_t max_frames, mem_store **out);
/* Maps an existing store from fd (in an RComp).  fd stays owned by the
 * caller; max_frames must match the creator's. */
dvm_status store_attach(int fd, uint32_t max_frames, mem_store **out);
void store_destroy(mem_store *s);
int store_fd(const mem_store *s);
uint32_t store_max_frames(const mem_store *s);

/* Address of frame id (1 <= id < max_frames). */
uint8_t *store_frame(const mem_store *s, uint32_t id);

/* Copies the first n bytes (n <= 4096) of frame id into buf through the
 * file, not the mapping, so the caller's resident set does not grow by the
 * frame (the master streaming committed output).  Returns DVM_OK or
 * DVM_EIO with a message. */
dvm_status store_read(const mem_store *s, uint32_t id, void *buf, size_t n);

/* Copies n bytes (n <= 4096) from buf into the start of frame id through
 * the file, not the mapping (the cluster master filling frames with data
 * a node shipped: its resident set does not grow by them).  DVM_OK or
 * DVM_EIO with a message. */
dvm_status store_write(const mem_store *s, uint32_t id, const void *buf,
                       size_t n);

/* Allocates a frame (master only).  Contents are unspecified.  Returns
 * DVM_ENOMEM when the store is full. */
dvm_status store_alloc(mem_store *s, uint32_t *id);
/* Returns a frame to the free list (master only). */
void store_release(mem_store *s, uint32_t id);
/* Allocates n consecutive frames [*first, *first + n) that read as zeros
 * (master only): never used, or punched since.  For a runner whose pages
 * are written straight into frames (an RComp maps the run over a zero
 * span of its window).  Returns DVM_ENOMEM, *first untouched, when no such
 * run is free. */
dvm_status store_alloc_run(mem_store *s, uint32_t n, uint32_t *first);
/* Returns frames [first, first + n), allocated and unused, punched (their
 * memory goes back and they read as zeros again): the part of a run that
 * did not become versions, or the frames of an RComp that died (master
 * only). */
void store_release_run(mem_store *s, uint32_t first, uint32_t n);
/* Frames in use (allocated and not released). */
size_t store_in_use(const mem_store *s);
/* Released frames that store_alloc hands out before any other: those on
 * the free stack (written before, so mapped and likely cached where they
 * were used), not the known-zero extents nor ids never allocated. */
uint32_t store_free_count(const mem_store *s);
/* Distinct frames handed out since the store was made (ids are taken
 * from the bottom: ids 1 .. n): the most memory its frames took at once,
 * in frames, and how many first-touch page faults they cost a process
 * that wrote them all. */
uint32_t store_frames_touched(const mem_store *s);

#endif
