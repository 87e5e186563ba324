/*
 * shmq_fuzz.c -- libFuzzer target for a conn over a shared-memory queue
 * whose peer misbehaves.
 *
 * The master reads its RComps' queues (net/shmq.h): the peer may write
 * any bytes and any index into the shared pages.  The input is a program
 * for that peer, one operation per byte:
 *
 *   0  write the next n bytes (n: the byte after) as the peer would
 *   1  set the peer's tail to the next 8 bytes
 *   2  set the reader's head (the peer can reach it too) likewise
 *   3  the reader takes every whole frame it can
 *   4  the reader sends a small frame (reads the peer's head)
 *   5  the reader's sleep request and its withdrawal
 *
 * Whatever happens, the reader hands out only whole frames whose header
 * is valid, never reads or writes outside its buffers (ASan), and once it
 * reports an error the program stops, as the master drops such an RComp.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/shmq.h"
#include "util/le.h"

#define CAP SHMQ_CAP_MIN

/* The words of the creator's incoming direction (1) in the header page. */
#define RX_TAIL(h) ((uint64_t *)((h) + SHMQ_TAIL_OFFSET(1)))
#define RX_HEAD(h) ((uint64_t *)((h) + SHMQ_HEAD_OFFSET(1)))

typedef struct peer {
    conn reader;                /* the master's end */
    shmq *writer;               /* the peer's end */
    uint8_t *hdr;               /* the header page, mapped once more */
} peer;

static int peer_open(peer *p)
{
    int sv[2], fd;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    shmq *q;
    if (shmq_create(CAP, &fd, &q))
        abort();
    if (shmq_open(fd, &p->writer))
        abort();
    p->hdr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p->hdr == MAP_FAILED)
        abort();
    close(fd);
    close(sv[1]);               /* doorbells to nobody: never an error */
    conn_init(&p->reader, sv[0]);
    conn_attach_shmq(&p->reader, q, 1);
    return 0;
}

static void peer_close(peer *p)
{
    conn_close(&p->reader);
    shmq_close(p->writer);
    munmap(p->hdr, 4096);
}

/* Takes every whole frame; 0 when the reader may go on, 1 after an error
 * (the channel is dropped). */
static int take_all(conn *c)
{
    uint32_t type;
    const uint8_t *pl;
    size_t len;
    dvm_status st;
    while ((st = conn_take_frame(c, &type, &pl, &len)) == DVM_OK) {
        if (type == 0 || type >= MSG_TYPE_END || len > MSG_MAX_PAYLOAD)
            abort();
        if (len) {              /* readable to its end (ASan) */
            volatile uint8_t first = pl[0], last = pl[len - 1];
            (void)first;
            (void)last;
        }
    }
    return st != DVM_EAGAIN;
}

static int send_small(conn *c)
{
    msg_buf b;
    mb_init(&b);
    msg_encode_u64s(&b, MSG_READY, NULL, 0);
    dvm_status st = conn_send(c, &b);
    mb_free(&b);
    return st != DVM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    peer p;
    if (peer_open(&p))
        return 0;
    int dropped = 0;
    for (size_t i = 0; i < n && !dropped;) {
        uint8_t op = d[i++] % 6;
        size_t k, wrote;
        switch (op) {
        case 0:
            k = i < n ? d[i++] : 0;
            if (k > n - i)
                k = n - i;
            (void)shmq_write(p.writer, d + i, k, &wrote);   /* the peer's
                                                   own index may be bad */
            i += k;
            break;
        case 1:
        case 2:
            if (n - i < 8)
                return peer_close(&p), 0;
            *(op == 1 ? RX_TAIL(p.hdr) : RX_HEAD(p.hdr)) = le_ld64(d + i);
            i += 8;
            break;
        case 3:
            dropped = take_all(&p.reader);
            break;
        case 4:
            dropped = send_small(&p.reader);
            break;
        default:
            if (conn_sleep(&p.reader))
                conn_awake(&p.reader);
            break;
        }
    }
    if (!dropped)
        (void)take_all(&p.reader);
    peer_close(&p);
    return 0;
}
