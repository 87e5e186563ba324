#!/usr/bin/python3
"""run.py DVM SRC KIND N -- the translator never costs much more than it saves.

Generates a program with bench/gen_KIND.sh N (calls: N return points of
c0-style functions reached once each through `br:j (c0.ra)`; straight: N
straight-line instructions run once), runs it with `dvm run -n 1` on the
interpreter and on the jit engine, and checks that

  * both print the value the generator expects;
  * the jit engine's peak resident memory (the largest process of the run,
    getrusage of the children) stays below 1 GiB;
  * its CPU time stays below 3 times the interpreter's plus one second,
    a bound generous enough for any load on the machine, which the
    translator broke by a factor of ten or more before it was tiered.

Exit status 0 on success, 1 on a failed check, 2 on a usage error.
"""
import os
import resource
import subprocess
import sys
import tempfile

RSS_LIMIT_KB = 1 << 20


def run(dvm, engine, prog):
    """Runs prog on engine; returns (stdout, cpu seconds, peak RSS in KB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([dvm, "run", "-n", "1", "--engine", engine,
                          "--dump", "result:1:uq", prog],
                         capture_output=True, text=True, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"{engine}: dvm run failed ({out.returncode}): {out.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out.stdout.strip(), cpu, after.ru_maxrss


def main():
    if len(sys.argv) != 5:
        print("usage: run.py DVM SRC KIND N", file=sys.stderr)
        return 2
    dvm, src, kind, n = sys.argv[1:]
    gen = os.path.join(src, "bench", f"gen_{kind}.sh")
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, f"{kind}.dasm")
        with open(prog, "w") as f:
            subprocess.run(["sh", gen, n], stdout=f, check=True)
        want = subprocess.run(["sh", gen, n, "expect"], capture_output=True,
                              text=True, check=True).stdout.strip()
        # The interpreter first: ru_maxrss of the children is a maximum
        # over all of them, so it only grows with the jit run after it.
        got_i, cpu_i, _ = run(dvm, "interp", prog)
        got_j, cpu_j, rss_j = run(dvm, "jit", prog)
    print(f"{kind} {n}: interp {got_i} {cpu_i:.2f} s cpu; "
          f"jit {got_j} {cpu_j:.2f} s cpu, peak {rss_j} KB")
    fail = 0
    for engine, got in (("interp", got_i), ("jit", got_j)):
        if got != want:
            print(f"{engine}: result {got!r}, expected {want!r}")
            fail = 1
    if rss_j >= RSS_LIMIT_KB:
        print(f"jit: peak resident memory {rss_j} KB >= {RSS_LIMIT_KB} KB")
        fail = 1
    if cpu_j > 3 * cpu_i + 1.0:
        print(f"jit: {cpu_j:.2f} s of CPU, interpreter {cpu_i:.2f} s")
        fail = 1
    return fail


if __name__ == "__main__":
    sys.exit(main())
