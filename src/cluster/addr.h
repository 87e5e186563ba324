/*
 * addr.h -- cluster addresses: "HOST:PORT" text and socket addresses.
 *
 * Every address a user gives (--listen, --master) is HOST:PORT, with an
 * IPv6 host in brackets ("[::1]:7000").  HOST may be a name; it is
 * resolved once, to its first address.  addr_is_loopback answers the
 * question the master asks before listening without a cluster secret:
 * only loopback addresses (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) are
 * reachable from this host alone.
 */
#ifndef DVM_ADDR_H
#define DVM_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/status.h"

/* Longest text addr_format writes, NUL included. */
#define ADDR_TEXT_MAX 64

typedef struct addr {
    struct sockaddr_storage ss;
    socklen_t len;
} addr;

/* Parses "HOST:PORT" (port 0..65535; 0 = any free port when listening)
 * and resolves HOST.  DVM_EINVAL with a message naming the text on a
 * malformed address, DVM_ENOENT when HOST does not resolve. */
dvm_status addr_parse(const char *text, addr *out);

/* 1 if a is a loopback address, else 0. */
int addr_is_loopback(const struct sockaddr *a);

/* The port of a (host order), 0 for other families. */
uint16_t addr_port(const struct sockaddr *a);

/* Writes "HOST:PORT" ("[v6]:PORT") of a into buf (ADDR_TEXT_MAX bytes);
 * returns buf.  "?" for an unknown family. */
char *addr_format(const struct sockaddr *a, char buf[ADDR_TEXT_MAX]);

#endif
