/*
 * shmq_test.c -- unit tests of the shared-memory queues and of conn over
 * them: bytes across the wrap, a full queue, indices a peer corrupted,
 * the flags that decide who rings, descriptors that hold no queue, and
 * the master's and the RComp's ends talking for real in two threads --
 * frames larger than the queue both ways, the event loop's end never
 * blocking, each side sleeping whenever nothing comes (part of the TSan
 * stage: every byte crosses through the atomics under test).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/conn.h"
#include "net/shmq.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/le.h"
#include "util/spin.h"

#define CAP SHMQ_CAP_MIN

/* A pair of ends of a CAP-byte queue: *a the creator's, *b the peer's. */
static void pair(shmq **a, shmq **b)
{
    int fd;
    assert_int_equal(shmq_create(CAP, &fd, a), DVM_OK);
    assert_int_equal(shmq_open(fd, b), DVM_OK);
    close(fd);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7);
}

static void test_bytes_across_the_wrap(void **state)
{
    (void)state;
    shmq *a, *b;
    pair(&a, &b);
    uint8_t out[3000], in[3000];
    for (unsigned round = 0; round < 5; round++) {   /* 15,000 bytes: the
                                                        wrap 3 times */
        fill(out, sizeof out, round);
        size_t n;
        assert_int_equal(shmq_write(a, out, sizeof out, &n), DVM_OK);
        assert_int_equal(n, sizeof out);
        assert_int_equal(shmq_readable(b), sizeof out);
        assert_int_equal(shmq_readable(a), 0);       /* the other way */
        assert_int_equal(shmq_read(b, in, sizeof in, &n), DVM_OK);
        assert_int_equal(n, sizeof in);
        assert_memory_equal(in, out, sizeof out);
    }
    size_t n;                   /* and back the other way */
    assert_int_equal(shmq_write(b, "pong", 4, &n), DVM_OK);
    assert_int_equal(shmq_read(a, in, sizeof in, &n), DVM_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(in, "pong", 4);
    shmq_close(a);
    shmq_close(b);
}

static void test_full_queue(void **state)
{
    (void)state;
    shmq *a, *b;
    pair(&a, &b);
    static uint8_t big[CAP + 100], got[CAP + 100];
    fill(big, sizeof big, 9);
    size_t n;
    assert_int_equal(shmq_write(a, big, sizeof big, &n), DVM_OK);
    assert_int_equal(n, CAP);                       /* what fits */
    assert_int_equal(shmq_room(a), 0);
    assert_int_equal(shmq_write(a, big, 1, &n), DVM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(shmq_read(b, got, 10, &n), DVM_OK);
    assert_int_equal(n, 10);
    assert_int_equal(shmq_room(a), 10);
    assert_int_equal(shmq_write(a, big + CAP, 100, &n), DVM_OK);
    assert_int_equal(n, 10);
    assert_int_equal(shmq_read(b, got + 10, sizeof got, &n), DVM_OK);
    assert_int_equal(n, CAP);
    assert_memory_equal(got, big, CAP + 10);
    shmq_close(a);
    shmq_close(b);
}

/* The header page's words, as a peer sees them. */
#define TAIL(h, dir) ((uint64_t *)((h) + SHMQ_TAIL_OFFSET(dir)))
#define HEAD(h, dir) ((uint64_t *)((h) + SHMQ_HEAD_OFFSET(dir)))

static void test_corrupt_index(void **state)
{
    (void)state;
    int fd;
    shmq *a, *b;
    assert_int_equal(shmq_create(CAP, &fd, &a), DVM_OK);
    assert_int_equal(shmq_open(fd, &b), DVM_OK);
    uint8_t *h = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(h != MAP_FAILED);
    *TAIL(h, 1) = CAP + 1;      /* b claims more than the queue holds */
    uint8_t buf[16];
    size_t n = 77;
    assert_int_equal(shmq_readable(a), 1);          /* read to report it */
    assert_int_equal(shmq_read(a, buf, sizeof buf, &n), DVM_EPROTO);
    assert_int_equal(n, 77);                        /* untouched */
    *HEAD(h, 0) = 5;            /* b consumed bytes never written */
    assert_int_equal(shmq_room(a), 0);
    assert_int_equal(shmq_write(a, buf, 1, &n), DVM_EPROTO);
    *TAIL(h, 1) = (uint64_t)-3; /* huge indices: masked, never followed */
    *HEAD(h, 1) = (uint64_t)-4;
    assert_int_equal(shmq_readable(a), 1);
    assert_int_equal(shmq_read(a, buf, sizeof buf, &n), DVM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(*HEAD(h, 1), (uint64_t)-3);
    munmap(h, 4096);
    shmq_close(a);
    shmq_close(b);
    close(fd);
}

static void test_who_rings(void **state)
{
    (void)state;
    shmq *a, *b;
    pair(&a, &b);
    size_t n;
    uint8_t c = 1, buf[CAP];
    assert_int_equal(shmq_reader_to_wake(a), 0);    /* nobody sleeps */
    assert_int_equal(shmq_sleep_for_data(b), 1);    /* b may sleep */
    assert_int_equal(shmq_write(a, &c, 1, &n), DVM_OK);
    assert_int_equal(shmq_reader_to_wake(a), 1);    /* ring once */
    assert_int_equal(shmq_reader_to_wake(a), 0);
    assert_int_equal(shmq_sleep_for_data(b), 0);    /* data: no sleep */
    assert_int_equal(shmq_reader_to_wake(a), 0);    /* and no request */
    assert_int_equal(shmq_read(b, buf, 1, &n), DVM_OK);
    /* Room: a fills the queue, asks to be rung, b reads. */
    static uint8_t big[CAP];
    assert_int_equal(shmq_write(a, big, CAP, &n), DVM_OK);
    assert_int_equal(shmq_sleep_for_room(a, 1), 1);
    assert_int_equal(shmq_read(b, buf, 1, &n), DVM_OK);
    assert_int_equal(shmq_writer_to_wake(b), 1);
    assert_int_equal(shmq_sleep_for_room(a, 1), 0);
    assert_int_equal(shmq_sleep_for_room(a, 2), 1);
    shmq_awake(a);              /* woken for another reason */
    assert_int_equal(shmq_read(b, buf, 1, &n), DVM_OK);
    assert_int_equal(shmq_writer_to_wake(b), 0);
    shmq_close(a);
    shmq_close(b);
}

static void test_not_a_queue(void **state)
{
    (void)state;
    int fd = memfd_create("x", MFD_CLOEXEC);
    shmq *q = NULL;
    assert_int_equal(shmq_open(fd, &q), DVM_EINVAL);        /* empty */
    assert_int_equal(ftruncate(fd, 4096 + 2 * 5000), 0);
    assert_int_equal(shmq_open(fd, &q), DVM_EINVAL);        /* not 2^k */
    assert_int_equal(ftruncate(fd, 4096 + 2 * 4096 + 1), 0);
    assert_int_equal(shmq_open(fd, &q), DVM_EINVAL);        /* odd */
    assert_null(q);
    close(fd);
    assert_int_equal(shmq_open(-1, &q), DVM_EINVAL);
}

/* ---- conn over a queue, two threads -------------------------------------- */

#define FRAMES 300

/* The payload of frame i: up to 3 queues long, so that big ones go in
 * pieces; its first word is i. */
static size_t frame_len(unsigned i)
{
    return i % 50 == 7 ? 3 * CAP + i : 8 + (i * 37) % 700;
}

static void encode_frame(msg_buf *b, unsigned i)
{
    size_t n = frame_len(i);
    uint8_t *p = dvm_malloc(n);
    assert_non_null(p);
    fill(p, n, i);
    le_st64(p, i);
    size_t at = mb_begin(b, MSG_PAGE_RESP);
    mb_bytes(b, p, n);
    mb_end(b, at);
    dvm_free(p);
}

static void check_frame(unsigned i, uint32_t type, const uint8_t *p,
                        size_t len)
{
    assert_int_equal(type, MSG_PAGE_RESP);
    assert_int_equal(len, frame_len(i));
    assert_int_equal(le_ld64(p), i);
    uint8_t *want = dvm_malloc(len);
    fill(want, len, i);
    assert_memory_equal(p + 8, want + 8, len - 8);
    dvm_free(want);
}

typedef struct echo_arg {
    int fd;
    shmq *q;
} echo_arg;

/* The RComp's end: receives FRAMES frames and sends each back. */
static void *echo_main(void *p)
{
    echo_arg *a = p;
    conn c;
    conn_init(&c, a->fd);
    conn_attach_shmq(&c, a->q, 0);
    msg_buf b;
    mb_init(&b);
    for (unsigned i = 0; i < FRAMES; i++) {
        uint32_t type;
        const uint8_t *pl;
        size_t len;
        if (conn_recv(&c, &type, &pl, &len) != DVM_OK)
            break;
        size_t at = mb_begin(&b, type);
        mb_bytes(&b, pl, len);
        mb_end(&b, at);
        if (conn_send(&c, &b) != DVM_OK)
            break;
        mb_reset(&b);
    }
    mb_free(&b);
    conn_close(&c);
    return NULL;
}

/* A conn_group of the conns in v[0..n) (NULL: a dead slot). */
typedef struct conns {
    conn *v[4];
    int n;
} conns;

static conn *conns_at(void *arg, int i) { return ((conns *)arg)->v[i]; }
static int conns_count(void *arg) { return ((conns *)arg)->n; }

/* The master's end: sends every frame at once (most wait in its out
 * buffer), then serves the conn as the master's loop does -- flush,
 * frames, and a wait that sleeps when nothing comes -- until every echo
 * is back, in order. */
static void test_conn_both_ways(void **state)
{
    (void)state;
    int sv[2], fd;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    echo_arg a = { sv[1], NULL };
    shmq *q;
    assert_int_equal(shmq_create(CAP, &fd, &q), DVM_OK);
    assert_int_equal(shmq_open(fd, &a.q), DVM_OK);
    close(fd);
    conn c;
    conn_init(&c, sv[0]);
    conn_attach_shmq(&c, q, 1);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, echo_main, &a), 0);
    msg_buf b;
    mb_init(&b);
    for (unsigned i = 0; i < FRAMES; i++) {
        encode_frame(&b, i);
        assert_int_equal(conn_send(&c, &b), DVM_OK);    /* never waits */
        mb_reset(&b);
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev), 0);
    conns one = { { &c }, 1 };
    conn_group g = { conns_at, conns_count, &one };
    spin_mem mem = { conn_group_ready, conn_group_sleep, conn_group_awake,
                     &g };
    unsigned got = 0;
    uint64_t t_end = clock_now_ns() + 30000000000ull;
    while (got < FRAMES && clock_now_ns() < t_end) {
        struct epoll_event out[4];
        int n = spin_epoll_wait(ep, out, 4, 5000, 1, &mem);
        /* Woken by a doorbell, or by what shared memory holds: a timeout
         * would mean a wake-up was lost. */
        assert_true(n > 0 || (n == 0 && conn_ready(&c)));
        uint32_t type;
        const uint8_t *p;
        size_t len;
        dvm_status st = n ? conn_poll_frame(&c, &type, &p, &len)
                          : conn_take_frame(&c, &type, &p, &len);
        for (; st == DVM_OK; st = conn_take_frame(&c, &type, &p, &len))
            check_frame(got++, type, p, len);
        if (st == DVM_ECLOSED)  /* the echo thread is done and gone */
            break;
        assert_int_equal(st, DVM_EAGAIN);
        assert_int_equal(conn_flush(&c), DVM_OK);
    }
    assert_int_equal(got, FRAMES);
    pthread_join(t, NULL);      /* it closed its end: end of file */
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_poll_frame(&c, &type, &p, &len), DVM_ECLOSED);
    assert_int_equal(conn_poll_frame(&c, &type, &p, &len), DVM_ECLOSED);
    mb_free(&b);
    conn_close(&c);
    close(ep);
}

/* Two conns over a socketpair and a queue: *a the event loop's end
 * (nonblocking, the creator's), *b the RComp's. */
static void conn_pair(conn *a, conn *b)
{
    int sv[2], fd;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
    shmq *qa, *qb;
    assert_int_equal(shmq_create(CAP, &fd, &qa), DVM_OK);
    assert_int_equal(shmq_open(fd, &qb), DVM_OK);
    close(fd);
    conn_init(a, sv[0]);
    conn_attach_shmq(a, qa, 1);
    conn_init(b, sv[1]);
    conn_attach_shmq(b, qb, 0);
}

/* Frames written before the peer closed are all read before end of
 * file. */
static void test_frames_before_eof(void **state)
{
    (void)state;
    conn a, b;
    conn_pair(&a, &b);
    msg_buf m;
    mb_init(&m);
    encode_frame(&m, 1);
    encode_frame(&m, 2);
    assert_int_equal(conn_send(&b, &m), DVM_OK);
    conn_close(&b);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_poll_frame(&a, &type, &p, &len), DVM_OK);
    check_frame(1, type, p, len);
    assert_int_equal(conn_poll_frame(&a, &type, &p, &len), DVM_OK);
    check_frame(2, type, p, len);
    assert_int_equal(conn_poll_frame(&a, &type, &p, &len), DVM_ECLOSED);
    mb_free(&m);
    conn_close(&a);
}

/* A header that claims a huge frame gets a buffer as large as the bytes
 * that came, over a queue and over a socket: the 16 GiB a peer may claim
 * were allocated at once before. */
static void test_claimed_length_not_allocated(void **state)
{
    (void)state;
    uint8_t hdr[MSG_HEADER_SIZE];
    le_st32(hdr, MSG_DISPATCH);
    le_st32(hdr + 4, 0);
    le_st64(hdr + 8, (uint64_t)1 << 33);
    conn a, b;
    conn_pair(&a, &b);
    size_t n;
    assert_int_equal(shmq_write(b.q, hdr, sizeof hdr, &n), DVM_OK);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_take_frame(&a, &type, &p, &len), DVM_EAGAIN);
    assert_int_equal(shmq_write(b.q, hdr, sizeof hdr, &n), DVM_OK);
    assert_int_equal(conn_take_frame(&a, &type, &p, &len), DVM_EAGAIN);
    assert_true(a.rcap < ((size_t)1 << 24));
    conn_close(&a);
    conn_close(&b);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
                                SOCK_NONBLOCK, 0, sv), 0);
    conn s;
    conn_init(&s, sv[0]);
    assert_int_equal(write(sv[1], hdr, sizeof hdr), (ssize_t)sizeof hdr);
    static uint8_t more[1 << 16];
    size_t sent = 0;
    while (sent < ((size_t)4 << 20)) {  /* 4 MiB of the frame's bytes */
        ssize_t k = write(sv[1], more, sizeof more);
        if (k > 0)
            sent += (size_t)k;
        assert_int_equal(conn_poll_frame(&s, &type, &p, &len), DVM_EAGAIN);
    }
    assert_true(s.rcap <= ((size_t)32 << 20));  /* grows with the bytes */
    conn_close(&s);
    close(sv[1]);
}

/* conn_pair, and *a sends frame 7 (3 queues long: most of it waits in
 * a's out buffer); *m is initialised and holds it. */
static void pair_sending_big(conn *a, conn *b, msg_buf *m)
{
    conn_pair(a, b);
    mb_init(m);
    encode_frame(m, 7);
    assert_int_equal(conn_send(a, m), DVM_OK);
}

/* The event loop's out buffer drops what the queue took before it grows
 * (a queue drained slowly would otherwise keep every byte ever sent). */
static void test_out_buffer_compacts(void **state)
{
    (void)state;
    conn a, b;
    msg_buf m;
    pair_sending_big(&a, &b, &m);
    size_t kept = a.wlen - a.wpos;
    assert_true(kept > 2 * CAP);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    for (int i = 0; i < 2; i++) {               /* the peer takes 2 queues */
        assert_int_equal(conn_take_frame(&b, &type, &p, &len), DVM_EAGAIN);
        assert_int_equal(conn_flush(&a), DVM_OK);
    }
    assert_true(a.wpos < a.wlen);               /* some left, in a full */
    assert_true(a.wpos >= a.wlen - a.wpos);     /* queue; more taken */
    mb_reset(&m);
    encode_frame(&m, 8);
    assert_int_equal(conn_send(&a, &m), DVM_OK);
    assert_int_equal(a.wpos, 0);                /* compacted */
    dvm_status st;
    unsigned got = 0;
    while ((st = conn_take_frame(&b, &type, &p, &len)) != DVM_OK ||
           got++ == 0) {
        if (st == DVM_OK) {
            check_frame(7, type, p, len);
            continue;
        }
        assert_int_equal(st, DVM_EAGAIN);
        assert_int_equal(conn_flush(&a), DVM_OK);
    }
    check_frame(8, type, p, len);
    mb_free(&m);
    conn_close(&a);
    conn_close(&b);
}

static int readable_now(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1;
}

/* The event loop's end asks to be rung before it sleeps: for data, and
 * for room while its output waits; each request gets exactly one
 * doorbell, and the peer that polls gets none. */
static void test_sleeper_is_rung(void **state)
{
    (void)state;
    conn a, b;
    msg_buf m;
    pair_sending_big(&a, &b, &m);                   /* most of it waits */
    assert_int_equal(conn_ready(&a), 0);            /* no room, no data */
    assert_int_equal(conn_sleep(&a), 1);
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_take_frame(&b, &type, &p, &len), DVM_EAGAIN);
    assert_int_equal(readable_now(a.fd), 1);       /* room: rung */
    assert_int_equal(conn_poll_frame(&a, &type, &p, &len), DVM_EAGAIN);
    assert_int_equal(readable_now(a.fd), 0);       /* the bell read */
    conn_awake(&a);
    dvm_status st;
    while ((st = conn_take_frame(&b, &type, &p, &len)) == DVM_EAGAIN)
        assert_int_equal(conn_flush(&a), DVM_OK);   /* no request: */
    assert_int_equal(readable_now(a.fd), 0);       /* no bell */
    assert_int_equal(st, DVM_OK);
    check_frame(7, type, p, len);
    assert_int_equal(conn_sleep(&a), 1);            /* for data */
    mb_reset(&m);
    encode_frame(&m, 8);
    assert_int_equal(conn_send(&b, &m), DVM_OK);
    assert_int_equal(readable_now(a.fd), 1);       /* rung */
    assert_int_equal(conn_sleep(&a), 0);            /* data: no sleep */
    assert_int_equal(conn_poll_frame(&a, &type, &p, &len), DVM_OK);
    check_frame(8, type, p, len);
    assert_int_equal(conn_send(&b, &m), DVM_OK);
    assert_int_equal(readable_now(a.fd), 0);       /* awake: no bell */
    mb_free(&m);
    conn_close(&a);
    conn_close(&b);
}

/* A group of event-loop ends, one slot dead: ready when one has a frame;
 * sleeping asks each live one to be rung, and a sleep refused because one
 * had data withdraws every request, so that the others ring no more. */
static void test_group(void **state)
{
    (void)state;
    conn a1, b1, a2, b2;
    conn_pair(&a1, &b1);
    conn_pair(&a2, &b2);
    conns c = { { &a1, NULL, &a2 }, 3 };
    conn_group g = { conns_at, conns_count, &c };
    msg_buf m;
    mb_init(&m);
    encode_frame(&m, 3);
    assert_int_equal(conn_group_ready(&g), 0);
    assert_int_equal(conn_group_sleep(&g), 1);
    assert_int_equal(conn_send(&b2, &m), DVM_OK);
    assert_int_equal(readable_now(a2.fd), 1);      /* asked: rung */
    assert_int_equal(conn_group_ready(&g), 1);
    conn_group_awake(&g);
    assert_int_equal(conn_group_sleep(&g), 0);     /* a2 has data */
    assert_int_equal(conn_send(&b1, &m), DVM_OK);
    assert_int_equal(readable_now(a1.fd), 0);      /* withdrawn: no bell */
    uint32_t type;
    const uint8_t *p;
    size_t len;
    assert_int_equal(conn_poll_frame(&a1, &type, &p, &len), DVM_OK);
    check_frame(3, type, p, len);
    mb_free(&m);
    conn_close(&a1);
    conn_close(&b1);
    conn_close(&a2);
    conn_close(&b2);
}

int main(void)
{
    /* Every wait sleeps at once: each hand-off then depends on the
     * doorbells, so a lost one hangs test_conn_both_ways (and fails its
     * check that no wait times out). */
    setenv("DVM_SPIN_US", "0", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_across_the_wrap),
        cmocka_unit_test(test_full_queue),
        cmocka_unit_test(test_corrupt_index),
        cmocka_unit_test(test_who_rings),
        cmocka_unit_test(test_not_a_queue),
        cmocka_unit_test(test_conn_both_ways),
        cmocka_unit_test(test_frames_before_eof),
        cmocka_unit_test(test_sleeper_is_rung),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_claimed_length_not_allocated),
        cmocka_unit_test(test_out_buffer_compacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
