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
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dvmhttp import Dvm, need_dashboard, run_dashboard  # noqa: E402

dvm, src, art = sys.argv[1], sys.argv[2], sys.argv[3]
feeder = sys.argv[5] if sys.argv[4:5] == ["--feeder"] else None
need_dashboard(art)
shot = os.path.join(art, "dashboard_load.png" if feeder else "dashboard.png")
with tempfile.TemporaryDirectory() as tmp:
    if feeder:
        # The feeder feeds until it is stopped below (90 s at most): a
        # fixed 15 s ran out under a sanitizer on a slow host before the
        # page was done looking, and the page then met a closed port.
        d = Dvm(None, None, tmp=tmp, cmd=[feeder, "90", "100000"])
        look = ["16", "4", "2"]     # RComps, seconds, nodes
    else:
        d = Dvm(dvm, os.path.join(src, "examples/counter.dasm"), "-n", "3",
                "--engine", "interp", tmp=tmp)
        look = ["3"]
    try:
        looked = run_dashboard(art, d.url, shot, *look)
    finally:
        rc = d.stop()
    assert looked == 0, "the dashboard check failed"
    assert rc in (0, -15), (rc, open(d.err_path).read())
print(f"ok: dashboard drawn; screenshot {shot}")
