/*
 * wire.c -- encoding and validation of the cluster message envelope.
 *
 * The decoder reads fields in order and stops at the first one that is
 * wrong, naming it, so a log line says what a peer got wrong.  It never
 * looks at the payload: the envelope is decided before the payload is
 * received (see wire.h).
 */
#include "cluster/wire.h"

#include <assert.h>
#include <inttypes.h>

#include "util/le.h"

static uint16_t wire_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void wire_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void wire_encode(uint8_t out[WIRE_HEADER_SIZE], uint16_t type, uint64_t length,
                 uint64_t seq)
{
    assert(type > 0 && type < WIRE_TYPE_END);
    le_st32(out, WIRE_MAGIC);
    wire_st16(out + 4, WIRE_VERSION);
    wire_st16(out + 6, type);
    le_st64(out + 8, length);
    le_st64(out + 16, seq);
}

dvm_status wire_decode(const uint8_t *hdr, size_t hdr_len, size_t data_len,
                       size_t max_len, wire_header *out)
{
    if (hdr_len != WIRE_HEADER_SIZE)
        return status_set(DVM_EPROTO, "message envelope of %zu bytes, "
                          "expected %d", hdr_len, WIRE_HEADER_SIZE);
    if (le_ld32(hdr) != WIRE_MAGIC)
        return status_set(DVM_EPROTO, "not a DVM cluster message "
                          "(magic 0x%08x)", le_ld32(hdr));
    uint16_t version = wire_ld16(hdr + 4);
    if (version != WIRE_VERSION)
        return status_set(DVM_EPROTO, "peer speaks cluster protocol version "
                          "%u, this DVM speaks %d", version, WIRE_VERSION);
    uint16_t type = wire_ld16(hdr + 6);
    if (type == 0 || type >= WIRE_TYPE_END)
        return status_set(DVM_EPROTO, "unknown message type %u", type);
    uint64_t length = le_ld64(hdr + 8);
    if (length != data_len)
        return status_set(DVM_EPROTO, "%s message says %" PRIu64 " bytes, "
                          "%zu arrived", wire_type_name(type), length,
                          data_len);
    if (length > max_len)
        return status_set(DVM_EPROTO, "%s message of %" PRIu64 " bytes "
                          "exceeds the limit of %zu", wire_type_name(type),
                          length, max_len);
    out->version = version;
    out->type = type;
    out->length = length;
    out->seq = le_ld64(hdr + 16);
    return DVM_OK;
}

const char *wire_type_name(unsigned type)
{
    switch (type) {
#define WIRE_TYPE_NAME(name, val, text, hs) case name: return text;
    WIRE_TYPES(WIRE_TYPE_NAME)
#undef WIRE_TYPE_NAME
    default:
        return "unknown";
    }
}

int wire_type_is_handshake(unsigned type)
{
    switch (type) {
#define WIRE_TYPE_HS(name, val, text, hs) case name: return hs;
    WIRE_TYPES(WIRE_TYPE_HS)
#undef WIRE_TYPE_HS
    default:
        return 0;
    }
}
