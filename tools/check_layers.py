#!/usr/bin/env python3
"""check_layers.py -- the declared layering is the real one.

Compares three things and fails on any drift:
  1. the subsystem dependencies declared in CMakeLists.txt (DVM_DEPS_<dir>),
  2. the #include "dir/..." lines of every non-test source of src/<dir>/,
  3. the "Layers" table of docs/architecture.md (| `dir` | `dep`, ... |).
A subsystem may include only what it declares, must include everything it
declares (an unused dependency is drift too), and the table must say the
same.  Then, within each subsystem, the file-level include graph (a .c or
.h including a header of the same subsystem) must have no cycle, where a
module's .c and .h count as one node.

Usage: tools/check_layers.py [SOURCE_DIR]   (exit 0 ok, 1 drift)
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
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
    for e in errors:
        print("check_layers: " + e)
    if not errors:
        print("check_layers: %d subsystems, declared = included = documented,"
              " no include cycles" % len(subs))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
