#!/usr/bin/env python3
"""dashboard_check.py DVM SRC ARTIFACT_DIR [--feeder FEEDER] -- the
dashboard in headless Chromium while a program runs: starts `dvm run
--http` on examples/counter.dasm with 3 RComps, points
tests/obs/dashboard.mjs at it, and keeps its screenshot as
ARTIFACT_DIR/dashboard.png.  With --feeder: the same page under load, fed
by FEEDER (tests/obs/obs_feeder.c) as a two-node DVM with 16 RComps at
100,000 runners a second, looked at after 4 seconds
(ARTIFACT_DIR/dashboard_load.png).  puppeteer-core
comes from tests/obs/package-lock.json (`npm ci` into ARTIFACT_DIR, once).
Exits 77 (skipped) when Chromium, node or the npm packages are missing."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dvmhttp import SKIP, Dvm  # noqa: E402

dvm, src, art = sys.argv[1], sys.argv[2], sys.argv[3]
feeder = sys.argv[5] if sys.argv[4:5] == ["--feeder"] else None
here = os.path.dirname(os.path.abspath(__file__))
chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not os.access(chromium, os.X_OK) or not shutil.which("node"):
    print(f"SKIP: needs {chromium} and node (tools/setup.sh installs "
          "Debian's chromium and nodejs)")
    sys.exit(SKIP)


def npm_packages():
    """tests/obs's locked packages under art/node (where the script is
    copied, so that its imports resolve there); None when npm cannot."""
    mods = os.path.join(art, "node")
    lock = os.path.join(here, "package-lock.json")
    stamp = os.path.join(mods, "node_modules", ".package-lock.json")
    if not os.path.exists(stamp) or \
            os.path.getmtime(stamp) < os.path.getmtime(lock):
        os.makedirs(mods, exist_ok=True)
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(here, f), mods)
        r = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit",
                            "--no-fund"], cwd=mods, capture_output=True,
                           text=True, timeout=300)
        if r.returncode:
            print(r.stdout + r.stderr)
            return None
    return os.path.join(mods, "node_modules")


mods = npm_packages()
if not mods:
    print("SKIP: `npm ci` of tests/obs/package-lock.json failed "
          "(no npm registry and no cache?)")
    sys.exit(SKIP)
os.makedirs(art, exist_ok=True)
shot = os.path.join(art, "dashboard_load.png" if feeder else "dashboard.png")
with tempfile.TemporaryDirectory() as tmp:
    if feeder:
        d = Dvm(None, None, tmp=tmp, cmd=[feeder, "15", "100000"])
        look = ["16", "4", "2"]     # RComps, seconds, nodes
    else:
        d = Dvm(dvm, os.path.join(src, "examples/counter.dasm"), "-n", "3",
                "--engine", "interp", tmp=tmp)
        look = ["3"]
    try:
        script = os.path.join(art, "node", "dashboard.mjs")
        shutil.copy(os.path.join(here, "dashboard.mjs"), script)
        r = subprocess.run(["node", script, d.url, shot, *look],
                           capture_output=True, text=True, timeout=60)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
    finally:
        rc = d.stop()
    assert r.returncode == 0, "the dashboard check failed"
    assert rc in (0, -15), (rc, open(d.err_path).read())
print(f"ok: dashboard drawn; screenshot {shot}")
