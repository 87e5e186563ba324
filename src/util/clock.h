/*
 * clock.h -- the one clock of the DVM: CLOCK_MONOTONIC in nanoseconds.
 * Every duration, trace timestamp and timeout of every process is read
 * from it, so times taken in an RComp and in the master compare.
 */
#ifndef DVM_CLOCK_H
#define DVM_CLOCK_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
uint64_t clock_now_ns(void);

#endif
