#!/usr/bin/env python3
"""catches.py SOURCE_DIR -- tools/check_layers.py fails on each kind of drift.

Copies what the check reads (CMakeLists.txt, docs/architecture.md, the .c
and .h files of src/) into a scratch tree, passes it unchanged, then
breaks it one way at a time and requires exit 1 with the expected line:
a file-level include cycle inside src/sched and inside src/rcomp (two
headers that include each other; a module's .c and .h are one node, so a
.c including its own header is no cycle), an include the CMake list does
not declare, a Layers row that differs, a drawing without a declared
dependency, and a drawn line that is no dependency.
"""
import os
import shutil
import subprocess
import sys
import tempfile

source = os.path.abspath(sys.argv[1])
check = os.path.join(source, "tools", "check_layers.py")


def copy_tree(dst):
    shutil.copy(os.path.join(source, "CMakeLists.txt"), dst)
    os.mkdir(os.path.join(dst, "docs"))
    shutil.copy(os.path.join(source, "docs", "architecture.md"),
                os.path.join(dst, "docs"))
    shutil.copytree(os.path.join(source, "src"), os.path.join(dst, "src"),
                    ignore=lambda d, names: [
                        n for n in names
                        if not os.path.isdir(os.path.join(d, n))
                        and not n.endswith((".c", ".h"))])


def run(tree):
    p = subprocess.run([sys.executable, check, tree], capture_output=True,
                       text=True)
    return p.returncode, p.stdout


def write(tree, rel, text):
    with open(os.path.join(tree, rel), "w") as f:
        f.write(text)


def edit(tree, rel, old, new):
    path = os.path.join(tree, rel)
    text = open(path).read()
    assert old in text, (rel, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


def cycle(sub):
    def make(tree):
        write(tree, "src/%s/zz_a.h" % sub, '#include "%s/zz_b.h"\n' % sub)
        write(tree, "src/%s/zz_b.h" % sub, '#include "%s/zz_a.h"\n' % sub)
        write(tree, "src/%s/zz_b.c" % sub, '#include "%s/zz_b.h"\n' % sub)
    return make


def longer_cycle(tree):
    # a -> b -> c -> a through a .c file
    write(tree, "src/sched/zz_a.c", '#include "sched/zz_b.h"\n')
    write(tree, "src/sched/zz_b.h", '#include "sched/zz_c.h"\n')
    write(tree, "src/sched/zz_c.h", '#include "sched/zz_a.h"\n')
    write(tree, "src/sched/zz_a.h", "\n")


def undeclared(tree):
    write(tree, "src/net/zz.c", '#include "exec/code.h"\n')


def table_row(tree):
    edit(tree, "docs/architecture.md", "| `cc` | `util` |", "| `cc` | |")


def drawing_lacks(tree):
    edit(tree, "docs/architecture.md", "cli ─┬─ dist ─┬─", "cli ─┬─ dist ─┐ ")


def drawing_extra(tree):
    edit(tree, "docs/architecture.md", "├─ asm ── image", "├─ asm ── mem  ")


CASES = [
    ("no change", None, 0, "no include cycles"),
    ("sched cycle", cycle("sched"), 1,
     "src/sched: include cycle zz_a -> zz_b -> zz_a"),
    ("rcomp cycle", cycle("rcomp"), 1,
     "src/rcomp: include cycle zz_a -> zz_b -> zz_a"),
    ("longer cycle", longer_cycle, 1,
     "src/sched: include cycle zz_a -> zz_b -> zz_c -> zz_a"),
    ("undeclared include", undeclared, 1,
     "net includes exec but CMakeLists.txt does not declare it"),
    ("table row", table_row, 1, "docs/architecture.md says cc depends on"),
    ("drawing lacks", drawing_lacks, 1,
     "the drawing does not lead from dist to cluster"),
    ("drawing extra", drawing_extra, 1,
     "the drawing has asm -> mem, which CMakeLists.txt does not declare"),
]


def main():
    failed = 0
    for name, breakit, want_rc, want in CASES:
        with tempfile.TemporaryDirectory() as tree:
            copy_tree(tree)
            if breakit:
                breakit(tree)
            rc, out = run(tree)
            if rc != want_rc or want not in out:
                print("FAIL: %s: exit %d, wanted %d with '%s':\n%s"
                      % (name, rc, want_rc, want, out))
                failed = 1
            else:
                print("ok: %s" % name)
    return failed


if __name__ == "__main__":
    sys.exit(main())
