/*
 * auth.h -- the cluster secret and the handshake that proves it.
 *
 * A cluster is the set of processes that know one secret, read from a file
 * that only its owner can read.  Every new endpoint starts with a mutual
 * challenge-response, the first messages on it in both directions:
 *
 *     both sides    HELLO  u32 version, u32 flags (bit 0: has a secret),
 *                          32-byte random nonce
 *     initiator ->  PROOF  HMAC-SHA-256(secret, "dvm cluster proof" 0,
 *                          role of the prover (1 initiator, 0 acceptor),
 *                          initiator's nonce, acceptor's nonce, version)
 *     acceptor  ->  PROOF  the same with its own role byte, sent only
 *                          after the initiator's PROOF was right
 *
 * The initiator (the side that connected) proves first, once it has the
 * acceptor's HELLO; the acceptor (the listener) checks that proof and only
 * then proves itself, so a listener never hands a MAC to a stranger.  A
 * side accepts the peer once the peer's PROOF equals the one it computes
 * itself (compared in constant time).  Both nonces are fresh, so a
 * recorded proof is useless later; the role byte makes a side's own proof
 * wrong when reflected back at it.  The handshake authenticates the
 * endpoint; it does not encrypt or sign the traffic that follows
 * (docs/transport.md).
 *
 * Without a secret both sides send only HELLO, with flag bit 0 clear, and
 * accept each other on it; a side with a secret refuses a side without one
 * and the other way round, each with a message saying which side lacks
 * it.  A HELLO of another protocol version is refused with a message
 * naming both versions.
 *
 * This module is the handshake as a state machine over byte strings; the
 * transport (transport.h) carries the messages.
 */
#ifndef DVM_AUTH_H
#define DVM_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

#define AUTH_SECRET_MAX 4096
#define AUTH_NONCE_SIZE 32
#define AUTH_HELLO_SIZE (8 + AUTH_NONCE_SIZE)
#define AUTH_PROOF_SIZE 32

typedef struct auth_secret {
    uint8_t key[AUTH_SECRET_MAX];
    size_t len;
} auth_secret;

/* Reads the secret from the file at path.  The file must be a regular
 * file that neither group nor others may read or write, not empty, at
 * most AUTH_SECRET_MAX bytes; one trailing newline ("\n" or "\r\n") is
 * not part of the secret, so `echo WORD > file` works.  DVM_EINVAL with a
 * message saying what to fix, DVM_EIO when it cannot be read. */
dvm_status auth_secret_load(const char *path, auth_secret *out);

/* Sets *out to the n bytes of key (1..AUTH_SECRET_MAX); DVM_EINVAL
 * otherwise. */
dvm_status auth_secret_set(auth_secret *out, const void *key, size_t n);

/* Erases the key. */
void auth_secret_wipe(auth_secret *s);

typedef struct auth_session {
    const auth_secret *secret;      /* not owned; NULL: no authentication */
    int initiator;                  /* 1: this side connected */
    uint8_t nonce_local[AUTH_NONCE_SIZE];
    uint8_t nonce_peer[AUTH_NONCE_SIZE];
    int have_hello;                 /* the peer's HELLO was accepted */
    int proof_sent;                 /* auth_proof was taken */
    int done;                       /* the peer is authenticated */
} auth_session;

/* Starts a handshake on a new endpoint: draws the local nonce.  secret
 * (may be NULL) must outlive s.  DVM_EIO if no random bytes. */
dvm_status auth_start(auth_session *s, const auth_secret *secret,
                      int initiator);

/* The HELLO payload of this side. */
void auth_hello(const auth_session *s, uint8_t out[AUTH_HELLO_SIZE]);

/* Takes the peer's HELLO.  DVM_EPROTO with a message on a malformed one, a
 * second one, another version, or a secret on one side only.  Without a
 * secret the peer is authenticated afterwards (auth_done). */
dvm_status auth_on_hello(auth_session *s, const uint8_t *p, size_t n);

/* 1 if this side owes the peer its PROOF now: there is a secret, the
 * peer's HELLO arrived, auth_proof was not called yet, and (acceptor) the
 * peer's PROOF was right. */
int auth_proof_due(const auth_session *s);

/* This side's PROOF, once, when auth_proof_due.  DVM_EIO if the MAC
 * cannot be computed. */
dvm_status auth_proof(auth_session *s, uint8_t out[AUTH_PROOF_SIZE]);

/* Takes the peer's PROOF and checks it.  DVM_EPROTO if it arrives out of
 * turn (before the peer's HELLO; at the initiator, before its own PROOF)
 * or is malformed, and "wrong cluster secret" if it does not match. */
dvm_status auth_on_proof(auth_session *s, const uint8_t *p, size_t n);

/* 1 once the peer is authenticated. */
int auth_done(const auth_session *s);

#endif
