/*
 * io.c -- channels as the RComp sees them (DISA.md 8).
 *
 * Input: each `--in ADDR=PATH` opens the file read only.  The window content
 * of a channel at ADDR is its 64-bit length at ADDR, its bytes from ADDR+8,
 * zeros elsewhere; a declared channel left unbound is simply absent, so it
 * reads as zeros, that is length 0.  Pages are synthesised on demand by the
 * resolver (handler thread; image/inpage.h); the files never change, so no
 * lock is needed.  On a cluster's node the inputs are not files here: the
 * node keeps the input pages that came from the master in one file and a
 * presence map (--input-window, --input-map: dist/ninput.h), and a page is
 * read from there once present (pages.c asks the node for one that is not;
 * a page's bytes are written before its bit is set).
 *
 * Output: a channel is a window in the PR.  At commit the runner's count at
 * ADDR says how many bytes from ADDR+8 to emit; they are copied from the
 * window into frames the master granted, 4096 a frame, and the RESULT
 * names the frames and the count (net/msg.h), never the bytes: the master
 * streams them from the frames to the sink at commit, so neither side
 * holds a commit's output in a message.  A count larger than the channel's
 * window is a memory fault of the runner (DISA leaves it open; reporting it
 * beats emitting bytes of a neighbouring channel or running past the PR).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isa/isa.h"
#include "rcomp/rcomp_int.h"
#include "util/alloc.h"

/* Opens path read only and sizes it. */
static dvm_status open_input(const char *path, int *fd_out, uint64_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return status_set_errno(DVM_EIO, "input %s", path);
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        dvm_status st = status_set_errno(DVM_EIO, "input %s", path);
        close(fd);
        return st;
    }
    *fd_out = fd;
    *len = (uint64_t)sb.st_size;
    return DVM_OK;
}

/* Reads input bytes for inpage_fill (arg: the file descriptor).  The
 * file is read, not mapped: a mapping would count every page read in the
 * RComp's resident set, and a multi-gigabyte input must not cost its size
 * in memory.  A file that shrank or cannot be read reads as zeros. */
static uint64_t read_file(void *arg, uint64_t off, uint8_t *dst, uint64_t n)
{
    int fd = (int)(intptr_t)arg;
    uint64_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (uint64_t)r;
    }
    return got;
}

dvm_status rc_input_add(rcomp *rc, const char *spec)
{
    char *end;
    errno = 0;
    uint64_t addr = strtoull(spec, &end, 0);
    if (errno || end == spec || *end != '=' || !end[1])
        return status_set(DVM_EINVAL, "--in: expected ADDR=PATH, got '%s'",
                          spec);
    if (addr < DISA_INPUT_BASE || addr >= DISA_SYSPAGE - 8)
        return status_set(DVM_EINVAL, "--in: address 0x%" PRIx64 " is not "
                          "in the input windows", addr);
    rc_input in = { .addr = addr, .read = read_file };
    int fd;
    dvm_status st = open_input(end + 1, &fd, &in.len);
    if (st)
        return st;
    in.arg = (void *)(intptr_t)fd;
    if (in.len > DISA_SYSPAGE - addr - 8) {
        st = status_set(DVM_ERANGE, "--in: %s does not fit its window",
                        end + 1);
        goto err_fd;
    }
    rc_input *a = dvm_realloc(rc->in, (rc->nin + 1) * sizeof *a);
    if (!a) {
        st = status_set(DVM_ENOMEM, "--in");
        goto err_fd;
    }
    rc->in = a;
    rc->in[rc->nin++] = in;
    return DVM_OK;
err_fd:
    close(fd);
    return st;
}

dvm_status rc_inputs_asked(rcomp *rc, const char *window, const char *map)
{
    if (!window || !map)
        return status_set(DVM_EINVAL, "--input-window and --input-map go "
                          "together");
    int mfd = open(map, O_RDONLY | O_CLOEXEC);
    if (mfd < 0)
        return status_set_errno(DVM_EIO, "input map %s", map);
    void *m = mmap(NULL, INPAGE_MAP_BYTES, PROT_READ, MAP_SHARED, mfd, 0);
    close(mfd);
    if (m == MAP_FAILED)
        return status_set_errno(DVM_EIO, "input map %s", map);
    rc->inwin_fd = open(window, O_RDONLY | O_CLOEXEC);
    if (rc->inwin_fd < 0) {
        dvm_status st = status_set_errno(DVM_EIO, "input pages %s", window);
        munmap(m, INPAGE_MAP_BYTES);
        return st;
    }
    rc->inmap = m;
    return DVM_OK;
}

int rc_input_read(const rcomp *rc, uint64_t page, uint8_t *buf)
{
    memset(buf, 0, DISA_PAGE);
    (void)read_file((void *)(intptr_t)rc->inwin_fd,
                    inpage_index(page) * DISA_PAGE, buf, DISA_PAGE);
    return 0;
}

void rc_inputs_free(rcomp *rc)
{
    if (rc->inmap) {
        munmap((void *)rc->inmap, INPAGE_MAP_BYTES);
        close(rc->inwin_fd);
        rc->inmap = NULL;
    }
    for (size_t i = 0; i < rc->nin; i++)
        close((int)(intptr_t)rc->in[i].arg);
    dvm_free(rc->in);
    rc->in = NULL;
    rc->nin = 0;
}

int rc_input_page(const rcomp *rc, uint64_t page, uint8_t *buf)
{
    return inpage_fill(rc->in, rc->nin, page, buf) ? 0 : 1;
}

/* End of the window of the out channel at addr: the next out channel above
 * it, or DISA_OUT. */
static uint64_t out_window_end(const dvm_program *p, uint64_t addr)
{
    uint64_t end = DISA_OUT;
    for (size_t i = 0; i < p->nchans; i++)
        if (p->chans[i].dir == PROG_CHAN_OUT && p->chans[i].addr > addr &&
            p->chans[i].addr < end)
            end = p->chans[i].addr;
    return end;
}

dvm_status rc_outputs_init(rcomp *rc)
{
    const dvm_program *p = rc->prog;
    rc->out = dvm_calloc(p->nchans + 1, sizeof *rc->out);
    rc->outs = dvm_calloc(p->nchans + 1, sizeof *rc->outs);
    if (!rc->out || !rc->outs)
        return status_set(DVM_ENOMEM, "output channels");
    rc->out[0] = (rc_output){ DISA_OUT, DISA_RB - DISA_OUT - 8 };
    rc->nout = 1;
    for (size_t i = 0; i < p->nchans; i++) {
        if (p->chans[i].dir != PROG_CHAN_OUT)
            continue;
        uint64_t a = p->chans[i].addr, end = out_window_end(p, a);
        if (a + 8 > end)
            return status_set(DVM_EFORMAT, "channel %s: no room at 0x%"
                              PRIx64, p->chans[i].name, a);
        rc->out[rc->nout++] = (rc_output){ a, end - a - 8 };
    }
    return DVM_OK;
}

/* True when the code names page `page` directly: every runner may write
 * it, as far as the reset knows (run.c, rc_pr_init). */
static int named_directly(const rcomp *rc, uint64_t page)
{
    const vm_code *c = rc->code;
    for (size_t i = 0; i < c->npr_pages; i++)
        if (c->pr_pages[i] == page)
            return 1;
    return 0;
}

void rc_outputs_keep(rcomp *rc)
{
    for (size_t i = 0; i < rc->nout; i++) {
        uint64_t lo = rc->out[i].addr / DISA_PAGE;
        uint64_t hi = (rc->out[i].addr + 7) / DISA_PAGE;
        for (uint64_t p = lo; p <= hi; p++)
            if (p >= RC_PR_RESIDENT && named_directly(rc, p))
                window_plain_keep_page(rc->win, p);
    }
}

/* The runner's count at addr.  A page never touched holds zeros: mincore
 * tells without faulting it in (cheaper than a fault on every runner);
 * a count page the window keeps resident (rc_outputs_keep: the code names
 * it, so every reset would otherwise drop it and every commit ask) is
 * read as it is. */
static uint64_t out_count(const rcomp *rc, uint64_t addr)
{
    uint8_t *win = window_base(rc->win);
    unsigned char vec[2] = { 0, 0 };
    uint64_t lo = addr & ~(DISA_PAGE - 1);
    uint64_t hi = (addr + 7) & ~(DISA_PAGE - 1);    /* may straddle */
    if (!rc_pr_maybe_written(rc, lo / DISA_PAGE) &&
        !rc_pr_maybe_written(rc, hi / DISA_PAGE))
        return 0;               /* not written: zeros, no system call */
    int kept = window_plain_kept_page(rc->win, lo / DISA_PAGE) &&
               window_plain_kept_page(rc->win, hi / DISA_PAGE);
    if (!kept && mincore(win + lo, hi - lo + DISA_PAGE, vec) == 0 &&
        !((vec[0] | vec[1]) & 1))
        return 0;
    uint64_t n;
    memcpy(&n, win + addr, 8);
    return n;
}

int rc_outputs_collect(rcomp *rc, msg_result *res, uint64_t *bad)
{
    res->nout = 0;
    res->out = rc->outs;
    for (size_t i = 0; i < rc->nout; i++) {
        uint64_t n = out_count(rc, rc->out[i].addr);
        if (!n)
            continue;
        if (n > rc->out[i].max) {
            *bad = rc->out[i].addr;
            res->nout = 0;
            return VM_FAULT_MEMORY;
        }
        rc->outs[res->nout++] = (msg_output){ (uint32_t)i, n,
                                              (uint32_t)MSG_OUTPUT_FRAMES(n),
                                              NULL };
    }
    return VM_FAULT_NONE;
}

size_t rc_outputs_nframes(const msg_result *res)
{
    size_t n = 0;
    for (uint32_t i = 0; i < res->nout; i++)
        n += res->out[i].nframes;
    return n;
}

/* Copies output o (from the window at src) into frames taken from the
 * pool, their ids into ids[0 .. o->nframes). */
static void output_to_frames(rcomp *rc, const msg_output *o,
                             const uint8_t *src, uint32_t *ids)
{
    for (uint32_t k = 0; k < o->nframes; k++) {
        assert(rc->npool > 0);
        uint32_t f = rc->pool[--rc->npool];
        uint64_t at = (uint64_t)k * STORE_FRAME_SIZE;
        uint64_t n = o->len - at < STORE_FRAME_SIZE ? o->len - at
                                                    : STORE_FRAME_SIZE;
        memcpy(store_frame(rc->store, f), src + at, n);
        ids[k] = f;
    }
}

dvm_status rc_outputs_write(rcomp *rc, msg_result *res)
{
    size_t need = rc_outputs_nframes(res), at = 0;
    if (need > rc->capofr) {
        uint32_t *a = dvm_grow(rc->ofr, &rc->capofr, need, sizeof *a);
        if (!a)
            return status_set(DVM_ENOMEM, "output frames");
        rc->ofr = a;
    }
    assert(rc->npool >= need);
    uint8_t *win = window_base(rc->win);
    for (uint32_t i = 0; i < res->nout; i++) {
        msg_output *o = &res->out[i];
        output_to_frames(rc, o, win + rc->out[o->chan].addr + 8,
                         rc->ofr + at);
        o->frames = rc->ofr + at;
        at += o->nframes;
    }
    return DVM_OK;
}
