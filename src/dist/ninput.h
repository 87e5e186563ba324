/*
 * ninput.h -- a node's copy of the input pages its RComps read.
 *
 * A cluster's inputs stay with the master (docs/cluster.md, "Inputs"):
 * START carries none, and a node fetches the pages of the input windows
 * that its RComps touch, a few at a time, when they touch them.  The
 * pages land in one sparse memfd the size of the input windows, and a
 * shared presence map (image/inpage.h) says which are there; the node's
 * RComps open both (by their /proc paths) and read a present page straight
 * from the file, as an RComp of dvm run reads its input files, asking the
 * node (PAGE_REQ) only for a page not there yet.  So every page crosses the
 * network once per node at most, and RComps on one node share it.
 *
 * The node alone writes: a page's bytes first, then its bit (release).
 * A private map marks the pages asked of the master, so that a page is
 * asked for once, with the pages after it that nobody asked for yet
 * (NINPUT_AHEAD in all: inputs are mostly read in order).
 */
#ifndef DVM_DIST_NINPUT_H
#define DVM_DIST_NINPUT_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* Input pages asked of the master at a time (128 KiB; at most
 * CMSG_MAX_INPUT_FETCH). */
#define NINPUT_AHEAD 32u

typedef struct ninput {
    int win_fd, map_fd;         /* memfds: the pages, the presence map */
    uint64_t *map;              /* shared presence map (mapped) */
    uint64_t *asked;            /* private: asked of the master */
    char win_path[64], map_path[64];    /* /proc paths for the RComps */
} ninput;

/* An empty copy, with nothing to free: ninput_stop does nothing on it. */
void ninput_init(ninput *x);
/* Makes empty files and maps.  On failure nothing is left and *x is
 * unusable; on success ninput_stop frees it. */
dvm_status ninput_start(ninput *x);
/* Frees what ninput_start made; again on a stopped one, or on one whose
 * ninput_start failed, does nothing. */
void ninput_stop(ninput *x);

/* 1 when input page `page` is in the file. */
int ninput_present(const ninput *x, uint64_t page);

/* The pages to ask the master for when an RComp wants input page `page`:
 * page itself unless asked before, and the pages after it (in the input
 * windows, not asked before) up to NINPUT_AHEAD in all, into want[2 * k]
 * (page, CMSG_EPOCH_INPUT) pairs, each marked asked.  Returns k (0: all
 * asked before). */
size_t ninput_ask(ninput *x, uint64_t page, uint64_t *want);

/* Page `page`'s bytes (DISA_PAGE) arrived: written to the file, then
 * marked present.  DVM_EIO when the write fails (no page marked). */
dvm_status ninput_fill(ninput *x, uint64_t page, const uint8_t *data);

#endif
