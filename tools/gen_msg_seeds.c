/*
 * gen_msg_seeds.c -- writes the seed corpus of the message fuzz target
 * (src/net/msg_fuzz.c) into a directory: valid encodings made by the
 * project's own encoders, each prefixed with the byte that selects the
 * decoder (0 DISPATCH, 1 RESULT, 2 FRAMES, 3 u64s, 4 STACK_REQ, 5 STACKS);
 * result seeds carry page changes as runs and as a bitmap, and children
 * with stacks of their own and stacks the DVM chose, and output in
 * frames.  Not part of the
 * build; built by hand against the libraries of a build tree:
 *
 *   cc -std=gnu11 -Isrc tools/gen_msg_seeds.c build/libdvm_net.a \
 *      build/libdvm_exec.a build/libdvm_mem.a build/libdvm_image.a \
 *      build/libdvm_isa.a build/libdvm_util.a -lm -lpthread -o gen_msg_seeds
 *   ./gen_msg_seeds tests/fuzz/msg
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "net/msg.h"

static const char *dir;
static int nseeds;

/* Writes selector + the payload of b (the header is not part of it). */
static void seed(const char *name, int sel, const msg_buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || b->oom) {
        perror(path);
        exit(1);
    }
    fputc(sel, f);
    fwrite(b->p + MSG_HEADER_SIZE, 1, b->len - MSG_HEADER_SIZE, f);
    fclose(f);
    nseeds++;
}

static void dispatches(void)
{
    dvm_range heap[3] = { { 0x40001000, 0x40002000 },
                         { 0x50000000, 0x50000008 },
                         { 0x3e0000000000, 0x3e0000010000 } };
    msg_prefetch pre[3] = { { 0x40001, 1 }, { 0x50000, 7 }, { 0x3e0000000, 9 } };
    msg_runner r[3] = {
        { .rid = 1, .attempt = 0, .snap = 1,
          .d = { .sb = 0x3e0000000000, .ss = 0x10000, .fi = 0x40000000,
                 .nheap = 1, .heap = heap } },
        { .rid = 2, .attempt = 3, .snap = 17,
          .flags = MSG_RUNNER_PREFETCH_COMPLETE,
          .d = { .sb = 0x50001000, .ss = 0x1000, .fi = 0x40000010,
                 .nheap = 3, .heap = heap }, .npre = 3, .pre = pre },
        { .rid = 99, .attempt = 1, .snap = 5,
          .d = { .sb = 0x50002000, .ss = 0x1000, .fi = 0x40000020 },
          .npre = 1, .pre = pre } };
    const char *names[] = { "", "dispatch-one", "dispatch-two",
                            "dispatch-three" };
    for (uint32_t n = 1; n <= 3; n++) {
        msg_buf b;
        mb_init(&b);
        msg_dispatch d = { n, r };
        msg_encode_dispatch(&b, &d);
        seed(names[n], 0, &b);
        mb_free(&b);
    }
}

static void results(void)
{
    mem_run runs[3] = { { 0, 8 }, { 100, 1 }, { 4000, 96 } };
    uint64_t bits[DIFF_WORDS];
    for (unsigned w = 0; w < DIFF_WORDS; w++)
        bits[w] = 0x0101010101010101ull;    /* a page of small words */
    mem_change ch[3] = { space_change(0x40001, 5, diff_of_runs(runs, 1)),
                         space_change(0x50000, 6, diff_of_runs(runs, 3)),
                         space_change(0x50001, 8, diff_of_bits(bits)) };
    dvm_range hr[2] = { { 0x40001000, 0x40001008 }, { 0x50000000, 0x50001000 } };
    runner_desc kids[3] = {
        { .sb = 0x50001000, .ss = 0x1000, .fi = 0x40000000, .nheap = 2,
          .heap = hr },
        { .sb = 0x50002000, .ss = 0x1000, .fi = 0x40000010, .nheap = 1,
          .nwatch = 1, .heap = hr, .watch = hr },
        { .sb = DISA_STACK_BASE + 0x20000, .ss = 0x3000, .fi = 0x40000000,
          .flags = RUNNER_STACK_CHOSEN, .nheap = 1, .heap = hr } };
    static const uint32_t oframes[3] = { 11, 12, 13 };
    msg_output out[2] = { { 0, 13, 1, oframes },
                          { 1, 5000, 2, oframes + 1 } };
    msg_result base = { .rid = 7, .attempt = 0, .snap = 3,
                        .exit = MSG_EXIT_COMMIT, .t_start_ns = 1000,
                        .t_end_ns = 2000, .pages_prefetched = 2 };
    struct { const char *name; uint32_t nch, nkids, nout, exit; } v[] = {
        { "result-commit-empty", 0, 0, 0, MSG_EXIT_COMMIT },
        { "result-commit-change", 1, 0, 0, MSG_EXIT_COMMIT },
        { "result-commit-changes", 2, 0, 0, MSG_EXIT_COMMIT },
        { "result-commit-kid", 1, 1, 0, MSG_EXIT_COMMIT },
        { "result-commit-watcher", 2, 2, 0, MSG_EXIT_COMMIT },
        { "result-commit-output", 1, 0, 1, MSG_EXIT_COMMIT },
        { "result-commit-all", 2, 2, 2, MSG_EXIT_COMMIT },
        { "result-commit-chosen-stack", 1, 3, 0, MSG_EXIT_COMMIT },
        { "result-commit-dense", 3, 1, 0, MSG_EXIT_COMMIT },
        { "result-abort", 0, 0, 0, MSG_EXIT_ABORT },
        { "result-fault", 0, 0, 0, MSG_EXIT_FAULT } };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        msg_result r = base;
        r.nchanges = v[i].nch;
        r.changes = ch;
        r.nkids = v[i].nkids;
        r.kids = kids;
        r.nout = v[i].nout;
        r.out = out;
        r.exit = v[i].exit;
        if (r.exit == MSG_EXIT_FAULT) {
            r.fault = 1;
            r.fault_pc = 0x40000000;
            r.fault_addr = 0x12345;
        }
        msg_buf b;
        mb_init(&b);
        msg_encode_result(&b, &r);
        seed(v[i].name, 1, &b);
        mb_free(&b);
    }
}

static void stack_grants(void)
{
    uint64_t base[3] = { DISA_STACK_BASE, DISA_STACK_BASE + 0x40000,
                         DISA_STACK_BASE + 0x80000 };
    msg_buf b;
    mb_init(&b);
    msg_encode_stack_req(&b, 4, 16);
    seed("stack-req", 4, &b);
    mb_reset(&b);
    msg_encode_stacks(&b, 6, base, 3);
    seed("stacks-three", 5, &b);
    mb_reset(&b);
    msg_encode_stacks(&b, 2, NULL, 0);
    seed("stacks-none", 5, &b);
    mb_free(&b);
}

static void smalls(void)
{
    uint32_t ids[5] = { 1, 2, 3, 1000, 65535 };
    uint64_t u[2] = { 0x40001, 12 };
    for (size_t n = 1; n <= 5; n += 4) {
        msg_buf b;
        mb_init(&b);
        msg_encode_frames(&b, ids, n);
        seed(n == 5 ? "frames-five" : "frames-one", 2, &b);
        mb_free(&b);
    }
    for (size_t n = 1; n <= 2; n++) {
        msg_buf b;
        mb_init(&b);
        msg_encode_u64s(&b, MSG_PAGE_REQ, u, n);
        seed(n == 1 ? "u64s-one" : "u64s-two", 3, &b);
        mb_free(&b);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_msg_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    dispatches();
    results();
    stack_grants();
    smalls();
    printf("gen_msg_seeds: %d seeds in %s\n", nseeds, dir);
    return 0;
}
