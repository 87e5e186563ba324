/*
 * tail.h -- the last bytes of the program's output, for the dashboard.
 *
 * The master appends each committed output as it emits it; the HTTP
 * thread copies the newest bytes.  A mutex guards the buffer: it is taken
 * once per output (outputs are committed one at a time on the master's
 * thread, far rarer than runners) and held for a memcpy.
 */
#ifndef DVM_OBS_TAIL_H
#define DVM_OBS_TAIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TAIL_BYTES 8192

typedef struct obs_tail {
    pthread_mutex_t mu;
    char buf[TAIL_BYTES];       /* a ring; byte k of the output at k % size */
    uint64_t total;             /* bytes appended so far */
} obs_tail;

void tail_init(obs_tail *t);
void tail_fini(obs_tail *t);
/* Appends n bytes (only the last TAIL_BYTES of them matter). */
void tail_append(obs_tail *t, const void *p, size_t n);
/* Forgets everything appended (a new program's output begins). */
void tail_reset(obs_tail *t);
/* Copies the newest bytes, at most cap, into dst, oldest first; returns
 * how many.  *total gets the count of bytes ever appended. */
size_t tail_read(obs_tail *t, char *dst, size_t cap, uint64_t *total);

#endif
