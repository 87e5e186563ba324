"""benchlib.py -- what bench/prime, bench/kmeans and bench/tasks share:
paths, building the peers into bench/out/, timed runs, medians, result
checks, JSON lines and gnuplot plots.  Python 3 standard library only."""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(ROOT, "bench", "peers")
OUT = os.path.join(ROOT, "bench", "out")
PY = "/usr/bin/python3"
CFLAGS = ["-O2", "-ffp-contract=off", "-Wall", "-Wextra"]
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]

# The translator keeps its translations across runs by default (in
# ~/.cache/dvm/jit): every timed run after the first would load them.
# Benchmarks time the first run of a program on a host (every run
# translates) unless DVM_JIT_KEEP is set, or a bench times kept
# translations on purpose (kept_env), and says which in its lines.
os.environ.setdefault("DVM_JIT_KEEP", "off")


def kept_env(name):
    """The environment of runs that find their translations kept: a keeping
    directory of bench/out/ of their own, emptied first (the caller fills
    it with one untimed run)."""
    d = os.path.join(OUT, "jit-keep-" + name)
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d, mode=0o700)
    return {"DVM_JIT_KEEP": d}


def dvm_bin():
    """The dvm binary: $DVM_BIN, else the first of build*/dvm that exists."""
    if os.environ.get("DVM_BIN"):
        return os.environ["DVM_BIN"]
    for d in ("build", "build-wl", "build-release"):
        p = os.path.join(ROOT, d, "dvm")
        if os.access(p, os.X_OK):
            return p
    sys.exit("bench: no dvm binary (build it, or set DVM_BIN)")


def ncores():
    return os.cpu_count() or 1


def counts():
    """RComp / thread counts of the scaling runs: 1, 2, 4, 8, 16 up to nproc."""
    return [c for c in (1, 2, 4, 8, 16) if c <= max(ncores(), 1)] or [1]


def build(name, src, cc="gcc", extra=()):
    """Compiles bench/peers/SRC (or tools/SRC) into bench/out/NAME once; returns the path."""
    os.makedirs(OUT, exist_ok=True)
    exe = os.path.join(OUT, name)
    path = src if os.path.isabs(src) else os.path.join(PEERS, src)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(path):
        subprocess.run([cc, *CFLAGS, *extra, "-o", exe, path, "-lm"], check=True)
    return exe


def run(cmd, env=None, timeout=3600):
    """Runs cmd; returns (wall seconds, stdout, stderr).  Exits on failure."""
    e = dict(os.environ, **(env or {}))
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout)
    t = time.monotonic() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(f"bench: failed ({p.returncode}): {' '.join(cmd)}")
    return t, p.stdout, p.stderr


def compute_s(stderr):
    """The compute_s=... a peer reports, or None."""
    for line in stderr.splitlines():
        if line.startswith("compute_s="):
            return float(line.split("=", 1)[1])
    return None


# Waiting for an idle machine.  Before each timed run the 1-minute load
# average must fall below BENCH_LOAD_MAX (default: half the cores), waiting
# at most BENCH_LOAD_WAIT seconds (default 120) in all per run.  The load
# each run started at is kept, and emit() adds the highest since the last
# line ("load1") and whether a wait ran out ("load_busy"), so a figure taken
# on a busy machine says so; a line printed after others from the same
# runs (scripts time everything, then print) gets the highest of the
# whole script so far.
LOAD_MAX = float(os.environ.get("BENCH_LOAD_MAX", max(ncores() / 2, 0.5)))
LOAD_WAIT = float(os.environ.get("BENCH_LOAD_WAIT", 120))
_loads = []
_all_loads = []


def load1():
    """The 1-minute load average (/proc/loadavg), or 0.0 where there is none."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def wait_idle():
    """Waits (bounded) for the load to fall below LOAD_MAX; records it."""
    end = time.monotonic() + LOAD_WAIT
    load = load1()
    while load >= LOAD_MAX and time.monotonic() < end:
        time.sleep(2)
        load = load1()
    _loads.append((load, load >= LOAD_MAX))
    _all_loads.append(_loads[-1])
    return load


def timed(cmd, reps, env=None):
    """Runs cmd reps times; returns (median wall, median compute or None, stdout of run 1)."""
    walls, comps, first = [], [], None
    for _ in range(reps):
        wait_idle()
        t, out, err = run(cmd, env)
        walls.append(t)
        c = compute_s(err)
        if c is not None:
            comps.append(c)
        if first is None:
            first = out
    return (statistics.median(walls),
            statistics.median(comps) if comps else None, first)


def emit(**kw):
    """Prints one JSON result line, with the load its timed runs saw."""
    seen = _loads or _all_loads
    if seen:
        kw.setdefault("load1", max(l for l, _ in seen))
        kw.setdefault("load_busy", any(b for _, b in seen))
        _loads.clear()
    print(json.dumps(kw), flush=True)


def engines(dvm):
    """The engines this dvm has: interp always, jit when it runs."""
    os.makedirs(OUT, exist_ok=True)
    probe = os.path.join(OUT, "probe.dasm")
    with open(probe, "w") as f:
        f.write("main: exit:c\n")
    p = subprocess.run([dvm, "run", "-n", "1", "--engine", "jit", probe],
                       capture_output=True)
    return ["jit", "interp"] if p.returncode == 0 else ["interp"]


def same_floats(a, b, rel=1e-9):
    """True when the two outputs have equal line counts and every number
    agrees within rel (relative, against max(|a|, |b|, 1))."""
    la, lb = a.split(), b.split()
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        fx, fy = float(x), float(y)
        if abs(fx - fy) > rel * max(abs(fx), abs(fy), 1.0):
            return False
    return True


def plot(name, title, series, ylabel="seconds",
         xlabel="RComps / threads / ranks / workers"):
    """series: {system: [(count, seconds), ...]} (x on a log scale).  Writes
    bench/out/NAME.dat and NAME.png (gnuplot); returns the PNG path, or None
    without gnuplot."""
    dat = os.path.join(OUT, name + ".dat")
    png = os.path.join(OUT, name + ".png")
    with open(dat, "w") as f:
        for sys_name, pts in series.items():
            f.write(f"# {sys_name}\n")
            for c, s in pts:
                f.write(f"{c} {s}\n")
            f.write("\n\n")
    plots = ", ".join(f"'{dat}' index {i} with linespoints title '{s}'"
                      for i, s in enumerate(series))
    script = (f"set terminal png size 800,500; set output '{png}';"
              f"set title '{title}'; set xlabel '{xlabel}';"
              f"set ylabel '{ylabel}'; set logscale x 2; set key outside; plot {plots}")
    try:
        subprocess.run(["gnuplot", "-e", script], check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return png


def histogram(text, name):
    """(count, sum, [(le, cumulative count)]) of histogram name in a
    Prometheus text, summed over its labels."""
    count = total = 0.0
    buckets = {}
    for line in text.splitlines():
        if line.startswith(name + "_count"):
            count += float(line.split()[-1])
        elif line.startswith(name + "_sum"):
            total += float(line.split()[-1])
        elif line.startswith(name + "_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets[le] = buckets.get(le, 0.0) + float(line.split()[-1])
    order = sorted(buckets.items(), key=lambda kv: float(kv[0]))
    return count, total, order


def quantile(order, count, q):
    """The q-quantile of a histogram's cumulative buckets [(le, n)],
    interpolated linearly within its bucket (seconds)."""
    want, lo, below = q * count, 0.0, 0.0
    for le, n in order:
        hi = float(le)
        if n >= want:
            if hi == float("inf"):
                return lo
            return lo + (hi - lo) * ((want - below) / (n - below) if n > below else 1.0)
        lo, below = hi, n
    return lo


def raw_round_trip(dvm):
    """bench/fetch_raw.sh's 4 KiB round trips through the transport, by
    system name (ucx-am, ucx-am-wait, ucx-am-srvwait; UCX's own transport
    choice)."""
    env = dict(os.environ, BUILD_DIR=os.path.dirname(os.path.abspath(dvm)))
    out = subprocess.run(["sh", os.path.join(ROOT, "bench", "fetch_raw.sh"), "5000"],
                         env=env, capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        r = json.loads(line)
        if r.get("bytes") == 4096 and r.get("tls") == "default":
            res[r["system"]] = r
    return res
