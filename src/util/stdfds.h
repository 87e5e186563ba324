/*
 * stdfds.h -- standard descriptors that are always open.
 *
 * A process started with descriptor 0, 1 or 2 closed (`dvm run p >&-`)
 * would hand that number to the next file it opens -- for the master, the
 * frame store's memfd -- and everything later written to "standard output"
 * or "standard error" would land in shared memory.  So every process of
 * the DVM calls stdfds_ensure first, before it opens anything.
 */
#ifndef DVM_STDFDS_H
#define DVM_STDFDS_H

#include "util/status.h"

/* Opens /dev/null on each of descriptors 0, 1 and 2 that is closed (for
 * reading on 0, for writing on 1 and 2).  Returns DVM_OK, or DVM_ESYS with
 * a message when one could not be opened on its own number. */
dvm_status stdfds_ensure(void);

/* True when stdfds_ensure found descriptor fd (0..2) closed and put
 * /dev/null there: the process was started without it. */
int stdfds_was_closed(int fd);

#endif
