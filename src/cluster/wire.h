/*
 * wire.h -- the envelope of every cluster message.
 *
 * Between hosts (master, nodes, clients) every message is one UCX active
 * message whose header is this envelope and whose data is the payload:
 *
 *     u32 magic    "DVMC" (0x434d5644)
 *     u16 version  WIRE_VERSION; a peer that speaks another is refused
 *     u16 type     one of WIRE_TYPES
 *     u64 length   payload bytes, equal to the data UCX delivers
 *     u64 seq      0, 1, 2, ... per direction of one endpoint
 *
 * little endian (util/le.h), WIRE_HEADER_SIZE bytes.  The decoder checks
 * every field against what arrived and against the receiver's limit before
 * a byte of payload is accepted, so an oversized or malformed message is
 * refused while its data is still on the sender (a rendezvous transfer is
 * never started).  The sequence number makes any loss or reordering a
 * protocol error instead of a silent misdelivery.
 *
 * The message types are defined once, here.  HELLO and PROOF are the
 * handshake (auth.h); BYE ends an endpoint, empty for an orderly close or
 * with the reason text of a refusal; these three are the only types
 * accepted from a peer that is not yet authenticated.  TAKEN is the
 * transport's flow control (transport.c: u64, the payload bytes of the
 * peer's messages this side's application has taken so far), never
 * handed to an application.  PING and PONG carry opaque bytes (liveness,
 * measurements, tests).  The cluster's own messages follow (their
 * payloads: dist/cmsg.h).
 */
#ifndef DVM_WIRE_H
#define DVM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define WIRE_MAGIC 0x434d5644u      /* "DVMC" little endian */
#define WIRE_VERSION 11    /* 2: a RESULT names its output's frames
                                   (net/msg.h) instead of carrying it;
                                   3: DELTA, APPLY, NEED (dist/cmsg.h);
                                   4: START's flags and dumps, DHELD,
                                   DDROP;
                                   5: DRESEND;
                                   6: TAKEN;
                                   7: START carries no input (the
                                   nodes fetch input pages);
                                   8: START carries no dumps (the
                                   master fetches the dumped pages
                                   from their holders: HFETCH);
                                   9: a node's RESULT relay carries
                                   the input pages it asked for and
                                   its link's time per page;
                                   10: a DISPATCH relay names the
                                   versions of its runners' listed
                                   changed pages too;
                                   11: TAKE_BACK and GIVEN_BACK relays
                                   (net/msg.h) */
#define WIRE_HEADER_SIZE 24

/* X(name, value, text, handshake) */
#define WIRE_TYPES(X)                                   \
    X(WIRE_HELLO, 1, "hello", 1)                        \
    X(WIRE_PROOF, 2, "proof", 1)                        \
    X(WIRE_BYE,   3, "bye",   0)                        \
    X(WIRE_PING,  4, "ping",  0)                        \
    X(WIRE_PONG,  5, "pong",  0) \
    X(WIRE_JOIN, 6, "join", 0) \
    X(WIRE_RELAY, 7, "relay", 0) \
    X(WIRE_START, 8, "start", 0) \
    X(WIRE_STOP, 9, "stop", 0) \
    X(WIRE_KILL, 10, "kill", 0) \
    X(WIRE_SUBMIT, 11, "submit", 0) \
    X(WIRE_OUTPUT, 12, "output", 0) \
    X(WIRE_DONE, 13, "done", 0) \
    X(WIRE_STATUS_REQ, 14, "status request", 0) \
    X(WIRE_STATUS, 15, "status", 0) \
    X(WIRE_FETCH, 16, "fetch", 0) \
    X(WIRE_FETCHED, 17, "fetched", 0) \
    X(WIRE_NODE_STATS, 18, "node stats", 0) \
    X(WIRE_CLOCK_PING, 19, "clock ping", 0) \
    X(WIRE_CLOCK_PONG, 20, "clock pong", 0) \
    X(WIRE_RESUME, 21, "resume", 0) \
    X(WIRE_LEAVE, 22, "leave", 0) \
    X(WIRE_PEERS, 23, "peers", 0) \
    X(WIRE_STORE, 24, "store", 0) \
    X(WIRE_STORED, 25, "stored", 0) \
    X(WIRE_DROP, 26, "drop", 0) \
    X(WIRE_HFETCH, 27, "home fetch", 0) \
    X(WIRE_HFETCHED, 28, "home fetched", 0) \
    X(WIRE_PULL, 29, "pull", 0) \
    X(WIRE_NODE_ADDR, 30, "node address", 0) \
    X(WIRE_DRAIN, 31, "drain", 0) \
    X(WIRE_DELTA, 32, "delta", 0) \
    X(WIRE_APPLY, 33, "apply", 0) \
    X(WIRE_NEED, 34, "need", 0) \
    X(WIRE_DHELD, 35, "dheld", 0) \
    X(WIRE_DDROP, 36, "ddrop", 0) \
    X(WIRE_DRESEND, 37, "dresend", 0) \
    X(WIRE_TAKEN, 38, "taken", 0)

enum wire_type {
#define WIRE_TYPE_ENUM(name, val, text, hs) name = val,
    WIRE_TYPES(WIRE_TYPE_ENUM)
#undef WIRE_TYPE_ENUM
    WIRE_TYPE_END
};

typedef struct wire_header {
    uint16_t version;
    uint16_t type;
    uint64_t length;
    uint64_t seq;
} wire_header;

/* Writes the envelope of a WIRE_VERSION message into out. */
void wire_encode(uint8_t out[WIRE_HEADER_SIZE], uint16_t type, uint64_t length,
                 uint64_t seq);

/* Validates the envelope hdr[0, hdr_len) of a message whose payload is
 * data_len bytes, for a receiver that accepts at most max_len payload
 * bytes.  On success fills *out.  DVM_EPROTO with a message naming the
 * field otherwise (wrong size, magic, version, unknown type, length that
 * disagrees with the data, length above max_len). */
dvm_status wire_decode(const uint8_t *hdr, size_t hdr_len, size_t data_len,
                       size_t max_len, wire_header *out);

/* The name of a type ("hello"), or "unknown". */
const char *wire_type_name(unsigned type);

/* 1 if type is a handshake message (HELLO, PROOF), else 0. */
int wire_type_is_handshake(unsigned type);

#endif
