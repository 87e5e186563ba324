#!/usr/bin/env python3
"""cluster_check.py MODE DVM MASTER URL PROMETHEUS SRC ARTIFACT_DIR TMP --
run by tests/obs/cluster.sh against a cluster master at MASTER serving
--http at URL, with two nodes named n1 and n2 of 2 RComps each.

prometheus: a real Prometheus server scrapes the master while `dvm
submit` runs examples/counter.dasm twice; its query API must return the
series of both nodes, the master's, and the values the runs imply
(2001 runners commit per run -- the 2000 increments and the first --
summed over the nodes; the counters grow across programs).
dashboard: after one run, the page in headless Chromium lists the master
and both nodes with their RComps, draws the task stream, logs no error;
its screenshot is ARTIFACT_DIR/dashboard_cluster.png."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dvmhttp import Prometheus, doc_queries, need_dashboard, \
    run_dashboard  # noqa: E402

mode, dvm, master, url, prom, src, art, tmp = sys.argv[1:9]
NODES = ("n1", "n2")


def submit():
    """examples/counter.dasm on the cluster: 1..2000, in order."""
    r = subprocess.run([dvm, "submit", "--master", master, "--engine",
                        "interp", os.path.join(src, "examples/counter.dasm")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(i) for i in range(1, 2001)], \
        r.stdout[-40:]


def check_prometheus():
    p = Prometheus(prom, url[len("http://"):].rstrip("/"),
                   os.path.join(tmp))
    try:
        v = p.value
        assert v('up{job="dvm"}') == 1
        submit()
        total = 'sum(dvm_runners_committed_total{job="dvm"})'
        assert v(total, 2001) == 2001, v(total)
        for n in NODES:
            sel = f'{{job="dvm",node="{n}"}}'
            assert v("dvm_runners_committed_total" + sel) > 0, n
            assert v("dvm_rcomps" + sel) == 2, n
            assert v("dvm_pages_homed" + sel) >= 0, n
            assert v("dvm_pages_cached" + sel) >= 0, n
            # Page versions come from their homes on the nodes, or from
            # the master (those not home yet, first touches of a page's
            # newest version): a node may fetch none from the master.
        assert v('count(dvm_runners_committed_total{node=~"n1|n2"})') == 2
        assert v('dvm_runners_committed_total{node="master"}') == 0
        assert v('dvm_nodes{job="dvm"}') == 2
        assert v('dvm_pages_homed{node="master"}') > 0
        assert v('dvm_runners_created_total{node="master"}') == 2001
        conflicts = v('sum(dvm_conflicts_total{job="dvm"})')
        assert v('sum(dvm_runners_dispatched_total{job="dvm"})') == \
            2001 + conflicts
        # A second program: the counters keep counting.
        submit()
        assert v(total, 4002) == 4002, v(total)
        assert v('dvm_runners_created_total{node="master"}', 4002) == 4002
        for dq in doc_queries(os.path.join(src, "docs/observe.md")):
            p.query(dq)         # accepted (status "success")
        print(f"ok: Prometheus scraped the cluster: 2 x 2001 commits on "
              f"n1 and n2, {int(conflicts)} conflicts in the first run")
    finally:
        p.stop()


def check_dashboard():
    need_dashboard(art)
    submit()
    shot = os.path.join(art, "dashboard_cluster.png")
    # 4 RComps; wait for the end; 3 nodes: the master and n1, n2.
    rc = run_dashboard(art, url, shot, "4", "0", "3", ",".join(NODES))
    assert rc == 0, "the dashboard check failed"
    print(f"ok: the cluster dashboard lists n1 and n2; screenshot {shot}")


{"prometheus": check_prometheus, "dashboard": check_dashboard}[mode]()
