"""graph.py -- the Task Bench task graphs (Slaughter et al., SC'20), as
bench/taskbench/gen, bench/taskbench/run and the C peers (tb_core.h) all
define them: which tasks exist, what each depends on, and the value each
must compute.  Python 3 standard library only.

A graph is W columns ("points") by T timesteps.  Timestep t holds the
points offset(t) .. offset(t) + width(t) - 1; task (t, i) depends on tasks
of timestep t - 1 only, those of deps(t, i), which are Task Bench's
dependencies(dset(t), i) expanded to points, kept where timestep t - 1 has
that point, sorted and without duplicates.  See README.md for each pattern.

Values: task x = t * W + i has the tag x + 1 and the value
    h = mix(x + 1); for d in deps: h = mix(h ^ value(d)); value = lcg^n(h)
where lcg is x * A + C mod 2^64 applied n = iterations times (the kernel)
and mix is splitmix64's finaliser; its check word is mix(tag ^ value).  The
checksum of a run is the sum of all values mod 2^64 and the task count."""

PATTERNS = ("trivial", "no_comm", "stencil_1d", "stencil_1d_periodic", "dom",
            "tree", "fft", "nearest", "spread", "random_nearest")
M64 = (1 << 64) - 1
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407


def mix(x):
    """splitmix64's finaliser (with its increment), mod 2^64."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def kernel(h, n):
    """lcg applied n times to h, in O(log n) (the LCG jump-ahead)."""
    am, ap, cm, cp = 1, 0, LCG_A, LCG_C
    while n > 0:
        if n & 1:
            am, ap = (am * cm) & M64, (ap * cm + cp) & M64
        cp = ((cm + 1) * cp) & M64
        cm = (cm * cm) & M64
        n >>= 1
    return (am * h + ap) & M64


class Graph:
    """One Task Bench graph: pattern, width W, timesteps T, radix (nearest,
    spread, random_nearest), period (spread, random_nearest) and
    fraction (random_nearest: the share of neighbours kept)."""

    def __init__(self, pattern, width, steps, radix=3, period=3, fraction=0.25):
        if pattern not in PATTERNS:
            raise ValueError("unknown pattern %r" % pattern)
        if width < 1 or steps < 1 or radix < 0 or period < 1:
            raise ValueError("width, steps, period must be >= 1, radix >= 0")
        self.pattern, self.W, self.T = pattern, width, steps
        self.radix, self.period, self.fraction = radix, period, fraction
        self.stages = max(1, (width - 1).bit_length())  # ceil(log2 W), fft
        self.threshold = int(fraction * (1 << 53))       # random_nearest

    def offset(self, t):
        if self.pattern == "dom":
            return max(0, t + self.W - self.T)
        return 0

    def width(self, t):
        if self.pattern == "dom":
            return min(self.W, t + 1, self.T - t)
        if self.pattern == "tree":
            return min(self.W, 1 << min(t, 62))
        return self.W

    def dset(self, t):
        if self.pattern == "fft":
            return (t + self.stages - 1) % self.stages
        if self.pattern in ("spread", "random_nearest"):
            return t % self.period
        return 0

    def exists(self, t, i):
        return 0 <= t < self.T and self.offset(t) <= i < self.offset(t) + self.width(t)

    def keep(self, dset, j, i):
        """random_nearest: is neighbour j of point i kept in dset?"""
        h = mix(self.radix)
        for v in (dset, j, i):
            h = mix(h ^ v)
        return j == i or (h >> 11) < self.threshold

    def raw_deps(self, t, i):
        """Task Bench's dependencies(dset(t), i), as a list of points."""
        p, W, r, ds = self.pattern, self.W, self.radix, self.dset(t)
        if p == "trivial":
            return []
        if p == "no_comm":
            return [i]
        if p in ("stencil_1d", "stencil_1d_periodic"):
            d = list(range(max(0, i - 1), min(i + 1, W - 1) + 1))
            if p == "stencil_1d_periodic":
                d += [W - 1] if i - 1 < 0 else []
                d += [0] if i + 1 >= W else []
            return d
        if p == "dom":
            return [max(0, i - 1), i]
        if p == "tree":
            return [i // 2]
        if p == "fft":
            return [d for d in (i - (1 << ds), i, i + (1 << ds)) if 0 <= d < W]
        if p == "nearest":
            return list(range(max(0, i - r // 2), min(i + (r - 1) // 2, W - 1) + 1)) if r else []
        if p == "spread":
            return [(i + k * W // r + (ds if k > 0 else 0)) % W for k in range(r)]
        return [j for j in range(max(0, i - r // 2), min(i + (r - 1) // 2, W - 1) + 1)
                if self.keep(ds, j, i)]

    def deps(self, t, i):
        """Task ids (t - 1) * W + j that task (t, i) reads, ascending."""
        if t == 0:
            return []
        return [(t - 1) * self.W + j for j in sorted(set(self.raw_deps(t, i)))
                if self.exists(t - 1, j)]

    def tasks(self):
        """Task ids of every existing task, timestep by timestep."""
        return [t * self.W + i for t in range(self.T)
                for i in range(self.offset(t), self.offset(t) + self.width(t))]

    def reference(self, iters):
        """(checksum, count, {task: value}) of a run with iters iterations."""
        val = {}
        for x in self.tasks():
            h = mix(x + 1)
            for d in self.deps(x // self.W, x % self.W):
                h = mix(h ^ val[d])
            val[x] = kernel(h, iters)
        return sum(val.values()) & M64, len(val), val
