/*
 * sigstop.h -- SIGINT and SIGTERM as a request to stop.
 *
 * The long-lived processes (dvm master, dvm node) and the cluster's
 * client (dvm submit, status, drain) wait in blocking calls (epoll_wait,
 * poll) and look at a flag between waits.  The handler only sets the
 * flag; it is installed without SA_RESTART, so a wait in progress ends
 * with EINTR and the loop sees the flag at once instead of after its
 * timeout.
 */
#ifndef DVM_SIGSTOP_H
#define DVM_SIGSTOP_H

/* Installs fn as the handler of SIGINT and SIGTERM, without SA_RESTART
 * (fn must be async-signal-safe: set a volatile sig_atomic_t). */
void sigstop_install(void (*fn)(int));

#endif
