/*
 * window.h -- a runner's address space inside an RComp.
 *
 * One 2^46-byte anonymous mapping (MAP_NORESERVE), registered once with
 * userfaultfd in MISSING mode.  DISA address a is window + a.  A page enters
 * the window either eagerly (window_fill: UFFDIO_COPY, in bulk, for the
 * runner context and declared stack/heap pages) or on first touch: the
 * faulting engine thread sleeps in the kernel while the window's handler
 * thread asks the resolver for the page's content and copies it in.  The
 * mapping is never split (no per-page mmap/mprotect), so a runner may touch
 * millions of pages.  Every page that entered is recorded; window_reset()
 * drops exactly those (MADV_DONTNEED), so the next runner starts from an
 * all-missing window, and window_reset_keep() lets the caller keep the ones
 * it knows are still right for the next runner.
 */
#ifndef DVM_WINDOW_H
#define DVM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "isa/runner.h"
#include "util/status.h"

typedef struct mem_window mem_window;

/* Fills buf (4096 bytes) with the content of page for the current runner,
 * or returns 1 leaving buf alone to mean "zeros", 0 when buf was filled,
 * negative dvm_status to fail the fault (the handler then maps zeros and
 * records the failure for window_failed()).  Called on the handler thread. */
typedef int (*window_resolve_fn)(void *arg, uint64_t page, uint8_t *buf);

/* Maps the window and starts the handler thread.  On success *out owns
 * both. */
dvm_status window_open(window_resolve_fn resolve, void *arg,
                       mem_window **out);
/* The same with a window of `size` bytes (a power of two, at most 2^46):
 * only for tests of the window itself under sanitizers whose address
 * space layout cannot hold 2^46 bytes (ThreadSanitizer). */
dvm_status window_open_sized(window_resolve_fn resolve, void *arg,
                             uint64_t size, mem_window **out);
void window_close(mem_window *w);
uint8_t *window_base(const mem_window *w);

/* Copies 4096 bytes from src (NULL: zeros) into missing page `page`.  A page
 * already present is overwritten.  Records it as touched.  DVM_ERANGE,
 * recording nothing, for a page beyond a window smaller than 2^46
 * (window_open_sized; a ThreadSanitizer build's window_open). */
dvm_status window_fill(mem_window *w, uint64_t page, const uint8_t *src);
/* window_fill of a page the caller kept resident (window_reset_keep
 * handed it over and it was not dropped since): a plain copy over it, no
 * system call.  Records it as touched, as window_fill does (so it is the
 * window's again, dropped or handed over at the next reset). */
dvm_status window_refill(mem_window *w, uint64_t page, const uint8_t *src);
/* A plain copy of src (NULL: zeros) over a page the caller kept resident,
 * recorded nowhere: it stays the caller's (window_overwrite in window.c). */
void window_overwrite(mem_window *w, uint64_t page, const uint8_t *src);
/* True when page entered the window since the last reset. */
int window_touched(const mem_window *w, uint64_t page);
/* Calls fn for each touched page (in no particular order). */
void window_each_touched(const mem_window *w,
                         void (*fn)(void *arg, uint64_t page), void *arg);
/* Makes pages [page, page + n) a zero span until the next reset: they are
 * taken out of userfaultfd, so touching one costs a kernel zero-fill
 * instead of a resolver round trip.  Call before any of them is touched;
 * fills into the span copy plainly; window_touched and
 * window_each_touched see its resident pages.  Spans must not overlap.
 * Returns DVM_EAGAIN (no message) when the runner has too many spans. */
dvm_status window_zero_span(mem_window *w, uint64_t page, uint64_t n);
/* Backs zero span [page, page + n) (exactly one made by window_zero_span
 * and not touched yet) with the n pages of the shared file fd from byte
 * offset off (a run of zero frames of the store): the runner's writes land
 * in the file itself, and a touched page is a page of the file.  Until
 * window_span_unmap or the next reset.  DVM_ESYS with a message; on
 * failure the span is anonymous memory as before. */
dvm_status window_span_map(mem_window *w, uint64_t page, uint64_t n, int fd,
                           uint64_t off);
/* Puts anonymous memory back under the mapped span at page: the window no
 * longer maps any of the file (its bytes stay in the file), and the span
 * reads as zeros again until the reset.  DVM_ESYS with a message. */
dvm_status window_span_unmap(mem_window *w, uint64_t page);
/* True when page lies in a zero span of the current runner. */
int window_in_zero_span(const mem_window *w, uint64_t page);
/* Drops every touched page and every zero span (unmapping a mapped one);
 * the window is all-missing again. */
dvm_status window_reset(mem_window *w);
/* window_reset, except that each touched page for which keep(arg, page)
 * returns 1 stays mapped with its bytes and leaves the window's records:
 * from then on it is the caller's, who drops it with window_drop when it is
 * stale (window_reset does not see it).  Zero spans and the plain prefix
 * go as with window_reset.  Input pages under the cap
 * (window_set_input_cap) all stay, in the window's ring: their content
 * never changes (uncapped ones are touched pages like any other).  keep is
 * asked about neither.
 * keep runs on the engine thread with the window's lock held: it must not
 * touch the window. */
dvm_status window_reset_keep(mem_window *w,
                             int (*keep)(void *arg, uint64_t page),
                             void *arg);
/* Drops pages [page, page + n): missing again, the next touch faults.  For
 * pages a caller kept (window_reset_keep); none of them may be touched
 * pages or lie in a zero span or the plain prefix. */
void window_drop(mem_window *w, uint64_t page, uint64_t n);
/* First resolver failure since the last reset (0 if none). */
dvm_status window_failed(const mem_window *w);

/* Bounds the pages of the read-only input windows (DISA_INPUT_BASE up to
 * the system page) that stay mapped: beyond max_pages, the oldest input
 * page is dropped again (it faults back in if read once more), so reading
 * a file of many gigabytes keeps memory bounded.  0 (the default): no cap.
 * Call before the first runner. */
void window_set_input_cap(mem_window *w, size_t max_pages);
/* Gives the input page `page` that follows a faulting one into buf
 * (DISA_PAGE bytes): 0 when it has its bytes at once, else nonzero, which
 * ends the read-ahead.  Runs on the handler thread. */
typedef int (*window_ahead_fn)(void *arg, uint64_t page, uint8_t *buf);
/* Read-ahead of input pages: after a fault on an input page the resolver
 * gave bytes for, up to npages following input pages that are missing and
 * that ahead gives (arg: the resolver's) are installed with it in one copy,
 * which wakes the faulting thread once all are in.  Needs the input cap
 * (whose ring records every input page present), npages below half of it;
 * without memory for its buffer the window faults a page at a time, as
 * with npages 0.  Call before the first runner. */
void window_set_input_ahead(mem_window *w, window_ahead_fn ahead,
                            uint32_t npages);
/* Pages touched since the last reset, input pages included. */
size_t window_touched_count(const mem_window *w);
/* Makes pages [0, npages) plain zero-fill memory: their first touch is an
 * ordinary kernel fault (no handler thread, no resolver), they are not
 * recorded (window_touched says 0), and window_reset drops the whole range
 * with one madvise.  For the private region, where a resolver round trip
 * per page would cost far more than the kernel's zero fill.  Call before the
 * first runner. */
dvm_status window_plain(mem_window *w, uint64_t npages);
/* Keeps pages [0, npages) of the plain prefix resident across resets:
 * reset zeroes them in place (a memset) instead of dropping them, so the
 * next runner does not pay a fault (and a page clear) to write them again,
 * and the drop of the rest is one madvise.  For the pages most runners
 * write, like the runner context; npages < the plain prefix, at most 64. */
void window_plain_keep(mem_window *w, uint64_t npages);
/* Ranges window_plain_written takes at most. */
#define WINDOW_PLAIN_RANGES 8

/* For the next reset only: pages of the plain prefix past the kept ones
 * that the last runner may have written, as n ranges of page numbers
 * [lo, hi) (at most WINDOW_PLAIN_RANGES: more, and the reset drops the
 * whole prefix).  The reset then drops those alone, one madvise each,
 * instead of the whole prefix.  The caller vouches that every written page is named: one that
 * is not keeps its bytes into the next runner.  Without this call the
 * reset drops the whole prefix. */
void window_plain_written(mem_window *w, const dvm_range *pages, size_t n);
/* For the next reset only: which of the kept pages (window_plain_keep) the
 * last runner may have written, bit p for page p; the reset zeroes those
 * alone (a runner that wrote one word costs one page's memset, not all of
 * them).  The same promise as window_plain_written: a written page left
 * out keeps its bytes.  Without this call the reset zeroes them all. */
void window_plain_kept_written(mem_window *w, uint64_t mask);
/* Plain pages [nkeep, npages) (npages >= the kept prefix, within the plain
 * one) are soft-kept: a reset told they may have been written
 * (window_plain_written) zeroes them in place instead of dropping them,
 * when they number at most 16 in that reset, so the next runner writes
 * them without a fault.  A page zeroed so for the first time costs the
 * fault then, once.  More named, or a reset told nothing, and they are
 * dropped as before.  For the frames a program's functions keep at fixed
 * places, which most of its runners write. */
void window_plain_soft(mem_window *w, uint64_t npages);
/* Keeps plain page `page` (past the kept prefix) resident too: a reset
 * that is told it may have been written (window_plain_written) zeroes it
 * in place instead of dropping it, as for a page that one instruction of
 * every runner names (an output count) but few runners write.  A reset
 * told nothing drops it with the rest.  4 pages at most; more are ignored
 * (dropped as before). */
void window_plain_keep_page(mem_window *w, uint64_t page);
/* 1 when `page` is one of those and the last reset kept it: reading it
 * then needs no system call to know whether it was written (it holds the
 * runner's bytes or zeros; a fault only the first time). */
int window_plain_kept_page(const mem_window *w, uint64_t page);

#endif
