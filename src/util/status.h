/*
 * status.h -- the one status type of the project.
 *
 * Every fallible function returns a dvm_status: 0 (DVM_OK) on success, a
 * negative code on failure.  Output parameters are written only on success.
 * The message that explains a failure is recorded once, where the failure is
 * decided, with status_set(); callers that merely pass a failure up do not
 * log it again.  status_message() returns the last recorded message of the
 * calling thread.
 */
#ifndef DVM_STATUS_H
#define DVM_STATUS_H

#include <stdarg.h>

typedef int dvm_status;

#define DVM_STATUS_CODES(X)                                   \
    X(DVM_OK,        0,   "ok")                               \
    X(DVM_ENOMEM,   -1,   "out of memory")                    \
    X(DVM_EINVAL,   -2,   "invalid argument")                 \
    X(DVM_EIO,      -3,   "input/output error")               \
    X(DVM_EFORMAT,  -4,   "malformed input")                  \
    X(DVM_ESYNTAX,  -5,   "assembly error")                   \
    X(DVM_ERANGE,   -6,   "value out of range")               \
    X(DVM_ENOENT,   -7,   "not found")                        \
    X(DVM_ESYS,     -8,   "system call failed")               \
    X(DVM_ECONFLICT,-9,   "commit conflict")                  \
    X(DVM_EPROTO,   -10,  "protocol error")                   \
    X(DVM_ECLOSED,  -11,  "peer closed")                      \
    X(DVM_EAGAIN,   -12,  "try again")                        \
    X(DVM_EUNSUPP,  -13,  "not supported")

enum {
#define DVM_STATUS_ENUM(name, val, text) name = val,
    DVM_STATUS_CODES(DVM_STATUS_ENUM)
#undef DVM_STATUS_ENUM
};

/* The fixed text of a code ("out of memory"); never NULL. */
const char *status_name(dvm_status st);

/* Records a printf-style message for the calling thread and returns st, so
 * that `return status_set(DVM_EINVAL, "bad %s", x);` decides and explains a
 * failure in one place. */
dvm_status status_set(dvm_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like status_set, with the message of errno appended (": strerror"). */
dvm_status status_set_errno(dvm_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message recorded by this thread, or status_name of nothing. */
const char *status_message(void);

/* Clears the message of the calling thread. */
void status_clear(void);

/* The first error of a loop that goes on for a while after it (a server
 * turning its event loop until it can stop): its status and its message,
 * kept while later calls record other messages. */
typedef struct status_first {
    dvm_status st;              /* DVM_OK: none yet */
    char msg[256];
} status_first;

/* Records st (an error) with the calling thread's message in f, unless f
 * holds an error already. */
void status_first_set(status_first *f, dvm_status st);

/* f's error, its message recorded again for the calling thread
 * (status_set); DVM_OK when f holds none. */
dvm_status status_first_get(const status_first *f);

#endif
