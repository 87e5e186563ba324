/*
 * auth.c -- cluster secret files and the HELLO/PROOF handshake.
 *
 * The MAC is OpenSSL's HMAC-SHA-256 (EVP_Q_mac) and proofs are compared
 * with CRYPTO_memcmp so the time of a refusal says nothing about how much
 * of a forged proof was right; both come from libcrypto.so.3, loaded at
 * the first proof (util/dynlib.h), so that a process with no secret never
 * loads it.  Nonces come from the kernel's random source (getrandom:
 * AUTH_NONCE_SIZE bytes, which it gives whole and uninterrupted), and
 * secrets are wiped with explicit_bzero, which the compiler may not drop.
 * The permission check on the secret file is made on the opened
 * descriptor (fstat), so it is the file that is read that was checked.
 */
#define _DEFAULT_SOURCE
#include "cluster/auth.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/wire.h"
#include "util/dynlib.h"
#include "util/le.h"

/* OpenSSL's HMAC and constant-time compare, from libcrypto. */
#define CRYPTO_FNS(X) X(EVP_Q_mac) X(CRYPTO_memcmp)
DYNLIB_TABLE(crypto, crypto_load, "libcrypto.so.3", CRYPTO_FNS,
             "the cluster handshake")

#define AUTH_FLAG_SECRET 1u
#define AUTH_LABEL "dvm cluster proof"

/* Checks the opened secret file fd (named path) before it is read. */
static dvm_status auth_check_file(int fd, const char *path)
{
    struct stat sb;
    if (fstat(fd, &sb))
        return status_set_errno(DVM_EIO, "%s: cannot stat cluster secret",
                                path);
    if (!S_ISREG(sb.st_mode))
        return status_set(DVM_EINVAL, "%s: cluster secret is not a regular "
                          "file", path);
    if (sb.st_mode & 077)
        return status_set(DVM_EINVAL, "%s: cluster secret is accessible by "
                          "group or others (mode %04o); run chmod 600 %s",
                          path, (unsigned)(sb.st_mode & 07777), path);
    if (sb.st_size > AUTH_SECRET_MAX + 2)
        return status_set(DVM_EINVAL, "%s: cluster secret longer than %d "
                          "bytes", path, AUTH_SECRET_MAX);
    return DVM_OK;
}

/* Reads all of fd (at most cap bytes) into buf; sets *n. */
static dvm_status auth_read_all(int fd, const char *path, uint8_t *buf,
                                size_t cap, size_t *n)
{
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return status_set_errno(DVM_EIO, "%s: cannot read cluster "
                                    "secret", path);
        if (r == 0 || got + (size_t)r == cap) {
            *n = got + (size_t)r;
            return DVM_OK;
        }
        got += (size_t)r;
    }
}

/* Length of buf[0, n) without one trailing "\n" or "\r\n". */
static size_t auth_trim_newline(const uint8_t *buf, size_t n)
{
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    return n;
}

dvm_status auth_secret_load(const char *path, auth_secret *out)
{
    uint8_t buf[AUTH_SECRET_MAX + 3];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return status_set_errno(DVM_EIO, "%s: cannot open cluster secret",
                                path);
    dvm_status st = auth_check_file(fd, path);
    if (!st)
        st = auth_read_all(fd, path, buf, sizeof buf, &n);
    close(fd);
    size_t len = auth_trim_newline(buf, n);
    if (!st && len > AUTH_SECRET_MAX)
        st = status_set(DVM_EINVAL, "%s: cluster secret longer than %d "
                        "bytes", path, AUTH_SECRET_MAX);
    if (!st && len == 0)
        st = status_set(DVM_EINVAL, "%s: cluster secret is empty", path);
    if (!st)
        st = auth_secret_set(out, buf, len);
    explicit_bzero(buf, sizeof buf);
    return st;
}

dvm_status auth_secret_set(auth_secret *out, const void *key, size_t n)
{
    if (n == 0 || n > AUTH_SECRET_MAX)
        return status_set(DVM_EINVAL, "cluster secret of %zu bytes (1..%d)",
                          n, AUTH_SECRET_MAX);
    memcpy(out->key, key, n);
    out->len = n;
    return DVM_OK;
}

void auth_secret_wipe(auth_secret *s)
{
    explicit_bzero(s, sizeof *s);
}

dvm_status auth_start(auth_session *s, const auth_secret *secret,
                      int initiator)
{
    memset(s, 0, sizeof *s);
    s->secret = secret;
    s->initiator = initiator;
    _Static_assert(AUTH_NONCE_SIZE <= 256, "getrandom gives up to 256 "
                   "bytes whole, uninterrupted");
    if (getrandom(s->nonce_local, AUTH_NONCE_SIZE, 0) != AUTH_NONCE_SIZE)
        return status_set(DVM_EIO, "no random bytes for the handshake nonce");
    return DVM_OK;
}

void auth_hello(const auth_session *s, uint8_t out[AUTH_HELLO_SIZE])
{
    le_st32(out, WIRE_VERSION);
    le_st32(out + 4, s->secret ? AUTH_FLAG_SECRET : 0);
    memcpy(out + 8, s->nonce_local, AUTH_NONCE_SIZE);
}

dvm_status auth_on_hello(auth_session *s, const uint8_t *p, size_t n)
{
    if (s->have_hello)
        return status_set(DVM_EPROTO, "second hello in one handshake");
    if (n != AUTH_HELLO_SIZE)
        return status_set(DVM_EPROTO, "hello of %zu bytes, expected %d", n,
                          AUTH_HELLO_SIZE);
    uint32_t version = le_ld32(p), flags = le_ld32(p + 4);
    if (version != WIRE_VERSION)
        return status_set(DVM_EPROTO, "peer speaks cluster protocol version "
                          "%u, this DVM speaks %d", version, WIRE_VERSION);
    if (flags & ~AUTH_FLAG_SECRET)
        return status_set(DVM_EPROTO, "hello with unknown flags 0x%x", flags);
    if (s->secret && !(flags & AUTH_FLAG_SECRET))
        return status_set(DVM_EPROTO, "peer has no cluster secret, this side "
                          "requires one");
    if (!s->secret && (flags & AUTH_FLAG_SECRET))
        return status_set(DVM_EPROTO, "peer requires a cluster secret, this "
                          "side has none");
    memcpy(s->nonce_peer, p + 8, AUTH_NONCE_SIZE);
    s->have_hello = 1;
    s->done = !s->secret;
    return DVM_OK;
}

int auth_proof_due(const auth_session *s)
{
    return s->secret && s->have_hello && !s->proof_sent &&
           (s->initiator || s->done);
}

/* The proof of the side whose role is initiator (1) or acceptor (0). */
static dvm_status auth_mac(const auth_session *s, int prover_initiator,
                           uint8_t out[AUTH_PROOF_SIZE])
{
    uint8_t msg[sizeof AUTH_LABEL + 1 + 2 * AUTH_NONCE_SIZE + 4];
    const uint8_t *ni = s->initiator ? s->nonce_local : s->nonce_peer;
    const uint8_t *na = s->initiator ? s->nonce_peer : s->nonce_local;
    uint8_t *m = msg;
    memcpy(m, AUTH_LABEL, sizeof AUTH_LABEL);   /* with its NUL */
    m += sizeof AUTH_LABEL;
    *m++ = (uint8_t)prover_initiator;
    memcpy(m, ni, AUTH_NONCE_SIZE);
    memcpy(m + AUTH_NONCE_SIZE, na, AUTH_NONCE_SIZE);
    le_st32(m + 2 * AUTH_NONCE_SIZE, WIRE_VERSION);
    dvm_status st = crypto_load();
    if (st)
        return st;
    size_t outlen = 0;
    if (!crypto.EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->secret->key,
                           s->secret->len, msg, sizeof msg, out,
                           AUTH_PROOF_SIZE, &outlen) ||
        outlen != AUTH_PROOF_SIZE)
        return status_set(DVM_EIO, "cannot compute HMAC-SHA-256");
    return DVM_OK;
}

dvm_status auth_proof(auth_session *s, uint8_t out[AUTH_PROOF_SIZE])
{
    assert(auth_proof_due(s));
    dvm_status st = auth_mac(s, s->initiator, out);
    if (!st)
        s->proof_sent = 1;
    return st;
}

dvm_status auth_on_proof(auth_session *s, const uint8_t *p, size_t n)
{
    uint8_t want[AUTH_PROOF_SIZE];
    if (!s->secret || !s->have_hello || s->done ||
        (s->initiator && !s->proof_sent))
        return status_set(DVM_EPROTO, "proof out of turn");
    if (n != AUTH_PROOF_SIZE)
        return status_set(DVM_EPROTO, "proof of %zu bytes, expected %d", n,
                          AUTH_PROOF_SIZE);
    dvm_status st = auth_mac(s, !s->initiator, want);
    if (st)
        return st;
    int differ = crypto.CRYPTO_memcmp(want, p, AUTH_PROOF_SIZE);
    explicit_bzero(want, sizeof want);
    if (differ)
        return status_set(DVM_EPROTO, "wrong cluster secret (proof does not "
                          "match)");
    s->done = 1;
    return DVM_OK;
}

int auth_done(const auth_session *s)
{
    return s->done;
}
