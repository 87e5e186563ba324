#!/usr/bin/env python3
"""check_layers.py -- the declared layering is the real one.

Compares three things and fails on any drift:
  1. the subsystem dependencies declared in CMakeLists.txt (DVM_DEPS_<dir>),
  2. the #include "dir/..." lines of every non-test source of src/<dir>/,
  3. the "Layers" table of docs/architecture.md (| `dir` | `dep`, ... |),
  4. the drawing above it (its first ``` block), read as a graph: from a
     name rightwards along '─' to the next name, or into a vertical bar of
     box characters, which joins every line entering it from the left to
     every line leaving it to the right.
A subsystem may include only what it declares, must include everything it
declares (an unused dependency is drift too), and the table must say the
same; every line of the drawing must be a declared dependency, and what
the drawing reaches from each subsystem must be what the declarations
reach.  Then, within each subsystem, the file-level include graph (a .c or
.h including a header of the same subsystem) must have no cycle, where a
module's .c and .h count as one node.

Usage: tools/check_layers.py [SOURCE_DIR]   (exit 0 ok, 1 drift)
       tools/check_layers.py [SOURCE_DIR] --graph SUBSYSTEM...
         prints the file-level include graph of each SUBSYSTEM (a module
         and the modules of the same subsystem it includes), then checks.
"""
import os
import re
import sys

args = sys.argv[1:]
show = args[args.index("--graph") + 1:] if "--graph" in args else []
args = args[:args.index("--graph")] if "--graph" in args else args
root = args[0] if args else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
src = os.path.join(root, "src")
errors = []


def declared():
    text = open(os.path.join(root, "CMakeLists.txt")).read()
    subs = re.search(r"set\(DVM_SUBSYSTEMS ([^)]*)\)", text).group(1).split()
    deps = {}
    for s in subs:
        m = re.search(r"set\(DVM_DEPS_%s([^)]*)\)" % s, text)
        if not m:
            errors.append("CMakeLists.txt: no DVM_DEPS_%s" % s)
            continue
        deps[s] = {d[4:] for d in re.findall(r"dvm_\w+", m.group(1))}
    return subs, deps


def is_test(name):
    return re.search(r"_(test|fuzz)\.c$", name) or name == "main.c"


def includes(path):
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', open(path).read(), re.M)


def actual(subs):
    used = {s: set() for s in subs}
    graph = {s: {} for s in subs}
    for s in subs:
        d = os.path.join(src, s)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")) or is_test(f):
                continue
            node = os.path.splitext(f)[0]
            for inc in includes(os.path.join(d, f)):
                top = inc.split("/")[0]
                if top == s:
                    dst = os.path.splitext(inc.split("/", 1)[1])[0]
                    if dst != node:
                        graph[s].setdefault(node, set()).add(dst)
                elif top in used:
                    used[s].add(top)
                elif "/" in inc:
                    errors.append("src/%s/%s includes %s: not a subsystem"
                                  % (s, f, inc))
    return used, graph


def documented():
    path = os.path.join(root, "docs", "architecture.md")
    rows = {}
    for line in open(path):
        m = re.match(r"\|\s*`(\w+)`\s*\|\s*([^|]*)\|\s*$", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
    return rows


RIGHT = set("─┬├└┌┼")          # box characters with an arm to the right
LEFT = set("─┬┤┘┐┼")           # ... to the left
UP = set("│├┤┘└┼┴")
DOWN = set("│├┤┐┌┬┼")


def drawing_grid():
    text = open(os.path.join(root, "docs", "architecture.md")).read()
    m = re.search(r"^```\n(.*?)^```", text, re.S | re.M)
    if not m:
        errors.append("docs/architecture.md: no drawing (a ``` block)")
        return []
    lines = m.group(1).split("\n")
    width = max(len(l) for l in lines)
    return [l.ljust(width) for l in lines]


def bar_exits(grid, r, c):
    """The cells with an arm to the right on the vertical bar through
    (r, c)."""
    top = r
    while top > 0 and grid[top][c] in UP and grid[top - 1][c] in DOWN:
        top -= 1
    bot = r
    while (bot + 1 < len(grid) and grid[bot][c] in DOWN
           and grid[bot + 1][c] in UP):
        bot += 1
    return [(k, c) for k in range(top, bot + 1)
            if grid[k][c] in RIGHT - {"─"}]


def reach_right(grid, r, c, seen):
    """The names a line starting at (r, c) leads to, rightwards."""
    row = grid[r]
    while c < len(row):
        ch = row[c]
        if ch == "(":
            c = row.index(")", c) + 1 if ")" in row[c:] else len(row)
        elif ch == " " and row[c:c + 2] == "  ":
            return set()
        elif ch in " ─":
            c += 1
        else:
            break
    if c >= len(row):
        return set()
    m = re.match(r"[a-z]+", row[c:])
    if m:
        return {m.group(0)}
    if row[c] not in LEFT or (r, c) in seen:
        return set()
    seen.add((r, c))
    found = set()
    for k, j in bar_exits(grid, r, c):
        found |= reach_right(grid, k, j + 1, seen)
    return found


def drawn(subs):
    """The edges of the drawing, as {subsystem: set of subsystems}."""
    grid = drawing_grid()
    edges = {s: set() for s in subs}
    for r, row in enumerate(grid):
        for m in re.finditer(r"\b[a-z]+\b", row):
            if m.group(0) in edges and "(" not in row[:m.start()]:
                edges[m.group(0)] |= reach_right(grid, r, m.end(), set())
    for s in subs:
        if not any(re.search(r"\b%s\b" % s, row) for row in grid):
            errors.append("docs/architecture.md: the drawing lacks `%s`" % s)
    return edges


def closure(graph):
    out = {}
    for s in graph:
        seen, todo = set(), list(graph[s])
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(graph.get(d, ()))
        out[s] = seen
    return out


def check_drawing(subs, deps):
    edges = drawn(subs)
    for s in subs:
        for d in sorted(edges[s] - deps.get(s, set())):
            errors.append("docs/architecture.md: the drawing has %s -> %s, "
                          "which CMakeLists.txt does not declare" % (s, d))
    have, want = closure(edges), closure(deps)
    for s in subs:
        for d in sorted(want.get(s, set()) - have[s]):
            errors.append("docs/architecture.md: the drawing does not lead "
                          "from %s to %s" % (s, d))


def cycles(graph):
    found = []
    state = {}

    def visit(n, stack):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif not state.get(m):
                visit(m, stack + [m])
        state[n] = 2

    for n in sorted(graph):
        if not state.get(n):
            visit(n, [n])
    return found


def main():
    subs, deps = declared()
    used, graph = actual(subs)
    for s in show:
        print("src/%s:" % s)
        for n in sorted(graph.get(s, {})):
            print("  %s -> %s" % (n, ", ".join(sorted(graph[s][n]))))
    docs = documented()
    for s in subs:
        want, have = deps.get(s, set()), used[s]
        for d in sorted(have - want):
            errors.append("%s includes %s but CMakeLists.txt does not declare "
                          "it (DVM_DEPS_%s)" % (s, d, s))
        for d in sorted(want - have):
            errors.append("%s declares %s in CMakeLists.txt but includes "
                          "nothing of it" % (s, d))
        if s not in docs:
            errors.append("docs/architecture.md: no Layers row for `%s`" % s)
        elif docs[s] != want:
            errors.append("docs/architecture.md says %s depends on %s; "
                          "CMakeLists.txt says %s" % (s, sorted(docs[s]),
                                                      sorted(want)))
        for c in cycles(graph[s]):
            errors.append("src/%s: include cycle %s" % (s, " -> ".join(c)))
    check_drawing(subs, deps)
    for e in errors:
        print("check_layers: " + e)
    if not errors:
        print("check_layers: %d subsystems, declared = included = documented"
              " = drawn, no include cycles" % len(subs))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
