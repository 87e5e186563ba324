/*
 * wire_fuzz.c -- libFuzzer target for what a peer sends before anyone
 * trusts it: the envelope and the handshake messages.
 *
 * The first byte picks the decoder (envelope, HELLO, PROOF), the second
 * the receiver's side (secret or not, initiator or acceptor) or, for the
 * envelope, the payload length the receiver saw; the rest is the input.
 * An envelope that decodes must encode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/auth.h"
#include "cluster/wire.h"

static void fuzz_envelope(const uint8_t *p, size_t n, uint8_t len_sel)
{
    size_t data_len = len_sel < 128 ? len_sel : (size_t)len_sel << 12;
    wire_header h;
    if (wire_decode(p, n, data_len, 1u << 20, &h))
        return;
    uint8_t again[WIRE_HEADER_SIZE];
    wire_encode(again, h.type, h.length, h.seq);
    if (n != WIRE_HEADER_SIZE || memcmp(again, p, n))
        abort();
}

static void fuzz_handshake(const uint8_t *p, size_t n, int proof,
                           uint8_t side)
{
    static auth_secret secret;
    if (!secret.len && auth_secret_set(&secret, "fuzz", 4))
        abort();
    auth_session s;
    if (auth_start(&s, side & 1 ? &secret : NULL, side >> 1 & 1))
        return;
    if (!proof) {
        if (!auth_on_hello(&s, p, n) && !s.secret && !auth_done(&s))
            abort();
        return;
    }
    uint8_t hello[AUTH_HELLO_SIZE] = {WIRE_VERSION, 0, 0, 0,
                                      (uint8_t)(side & 1)};
    uint8_t mine[AUTH_PROOF_SIZE];
    if (auth_on_hello(&s, hello, sizeof hello))
        return;
    if (auth_proof_due(&s) && auth_proof(&s, mine))
        abort();
    if (!auth_on_proof(&s, p, n))
        abort();                /* a forged proof must never pass */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_envelope(data + 2, size - 2, data[1]);
        break;
    case 1:
        fuzz_handshake(data + 2, size - 2, 0, data[1]);
        break;
    default:
        fuzz_handshake(data + 2, size - 2, 1, data[1]);
        break;
    }
    return 0;
}
