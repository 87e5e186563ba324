/*
 * rcomp.h -- the RComp process: a runner compartment, reused for many
 * runners (the paper's RComp, DESIGN.md section 2).
 *
 * The master starts each RComp as `dvm __rcomp OPTIONS` with inherited file
 * descriptors; the RComp loads the program image, builds the engine once,
 * maps the frame store and its window, and then serves DISPATCH batches
 * until SHUTDOWN or end of stream.  See rcomp.c for the life of one runner.
 *
 * Options (all required unless marked):
 *   --index K          this RComp's number (for messages)
 *   --ctl FD           control socket (DISPATCH/RESULT/FRAMES)
 *   --page FD          page socket (PAGE_REQ/PAGE_RESP), used by the
 *                      window's fault handler thread
 *   --store FD         frame store memfd, --frames N its frame count
 *   --image FD         the program image (a memfd holding image bytes)
 *   --engine interp|jit
 *   --adopt PAGES      (optional) zero spans of at least PAGES pages are
 *                      written straight into runs of frames (adopt.c)
 *   --in ADDR=PATH     (repeatable, optional) an input channel bound to a
 *                      file: its window at ADDR
 *   --jit-cache DIR    (optional, engine jit) the directory the program's
 *                      RComps share their translations in
 *                      (exec/jit_cache.h); unusable: said, translated alone
 *   --claim FD         (optional) the host's claim boards (net/claim.h)
 *   --ctl-queue FD     (optional) the ctl channel's queue in shared memory
 *                      (net/shmq.h); the socket then only rings
 *   --input-window P, --input-map P
 *                      (optional) a cluster node's input pages
 *   --yield 0|1        (optional, with --ctl-queue) 1: the master shares
 *                      this host's CPUs; give it the CPU after a result
 *                      that creates runners (run.c, yield_to_master)
 */
#ifndef DVM_RCOMP_H
#define DVM_RCOMP_H

/* Runs the RComp; returns the process exit status (0 clean shutdown). */
int rcomp_main(int argc, char **argv);

#endif
