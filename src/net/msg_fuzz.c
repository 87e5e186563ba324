/*
 * msg_fuzz.c -- libFuzzer target for message decoding.
 *
 * The first byte picks the decoder (DISPATCH, RESULT, FRAMES, u64s); the
 * rest is the payload.  A payload that decodes is re-encoded and decoded
 * again, and both decodings must encode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "net/msg.h"
#include "util/alloc.h"

static void roundtrip_dispatch(const msg_dispatch *d)
{
    msg_buf a, b;
    mb_init(&a);
    mb_init(&b);
    msg_encode_dispatch(&a, d);
    msg_dispatch d2;
    if (msg_decode_dispatch(a.p + MSG_HEADER_SIZE, a.len - MSG_HEADER_SIZE,
                            &d2))
        abort();
    msg_encode_dispatch(&b, &d2);
    if (a.len != b.len || memcmp(a.p, b.p, a.len))
        abort();
    msg_dispatch_free(&d2);
    mb_free(&a);
    mb_free(&b);
}

static void roundtrip_result(const msg_result *r)
{
    msg_buf a, b;
    mb_init(&a);
    mb_init(&b);
    msg_encode_result(&a, r);
    msg_result r2;
    if (msg_decode_result(a.p + MSG_HEADER_SIZE, a.len - MSG_HEADER_SIZE, &r2))
        abort();
    msg_encode_result(&b, &r2);
    if (a.len != b.len || memcmp(a.p, b.p, a.len))
        abort();
    msg_result_free(&r2);
    mb_free(&a);
    mb_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: {
        msg_dispatch d;
        if (!msg_decode_dispatch(p, n, &d)) {
            roundtrip_dispatch(&d);
            msg_dispatch_free(&d);
        }
        break;
    }
    case 1: {
        msg_result r;
        if (!msg_decode_result(p, n, &r)) {
            roundtrip_result(&r);
            msg_result_free(&r);
        }
        break;
    }
    case 2: {
        uint32_t *ids;
        size_t cnt;
        if (!msg_decode_frames(p, n, &ids, &cnt))
            dvm_free(ids);
        break;
    }
    default: {
        uint64_t v[2];
        (void)msg_decode_u64s(p, n, v, 2);
        break;
    }
    }
    return 0;
}
