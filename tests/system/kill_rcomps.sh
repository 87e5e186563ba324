#!/bin/sh
# kill_rcomps.sh DVM ENGINE -- kill -9 RComps at random moments of runs of
# the conflicting counter and of the watcher tree sum: nothing is lost,
# nothing printed twice, the results are unchanged (also for a chain of
# runners whose heaps are adopted: adopt_chain.dasm).
set -eu
dvm=$1 engine=$2
ex=$(dirname "$0")/../../examples
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# rcomps_of PID -- the RComp processes (`dvm __rcomp`) among PID's
# children: not any other child, e.g. the thread a sanitizer's leak check
# clones at exit, whose death would hang its parent.
rcomps_of() { pgrep -P "$1" -f __rcomp || true; }

# run_killing PROG ARGS... -- runs PROG while killing its RComps (the
# first as soon as there is one, then every 10-30 ms, or every 100-300 ms
# with slow_kills=1); run_kills counts this run's.  Under a sanitizer
# (DVM_SANITIZED) every run kills slowly: a sanitized RComp takes longer
# than 30 ms to start and run the first runner, which the fast kills then
# hit the 8 times that fault a runner (seen in the ASan stage).
slow_kills=0
[ -z "${DVM_SANITIZED:-}" ] || slow_kills=1
run_killing() {
    "$dvm" run --engine "$engine" -n 2 "$@" > "$out" &
    pid=$!
    run_kills=0
    while kill -0 "$pid" 2>/dev/null; do
        victim=$(rcomps_of "$pid" | shuf -n 1 2>/dev/null || true)
        if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then
            run_kills=$((run_kills + 1))
        fi
        if [ "$slow_kills" = 1 ] && [ "$run_kills" -gt 0 ]; then
            sleep 0.$(shuf -i 10-30 -n 1)
        else
            sleep 0.0$(shuf -i 10-30 -n 1)
        fi
    done
    kills=$((kills + run_kills))
    rc=0
    wait "$pid" || rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: dvm exited with status $rc after $run_kills kills"
        exit 1
    fi
}

# killed_runs WANT PROG ARGS... -- run_killing until a run saw a kill (at
# most 20 runs: a fast machine may finish a run before any), checking
# each run's output against WANT.
killed_runs() {
    want=$1
    shift
    for i in $(seq 1 20); do
        run_killing "$@"
        if [ "$(cat "$out")" != "$want" ]; then
            echo "FAIL: $* gave '$(cat "$out" | tail -3)' after $run_kills kills"
            exit 1
        fi
        [ "$run_kills" -gt 0 ] && return 0
    done
    echo "FAIL: $*: no RComp killed in 20 runs"
    exit 1
}

kills=0
killed_runs "$(seq 1 2000; echo 2000)" --dump counter:1:q "$ex/counter.dasm"
killed_runs 209725440 "$ex/treesum.dasm"
# DISA 1.1: a chain of runners on quarter-area stacks chosen by the DVM;
# the stack blocks granted to a killed RComp return to the area (else a
# few kills would exhaust it and the chain would fault).
killed_runs 20000 --dump res:1:q "$(dirname "$0")/stack_chain.dasm"
# Runners whose large zero heaps are written straight into runs of frames
# (src/rcomp/adopt.c): a killed RComp's runs go back to the store.  Each
# runner maps and scans 17 MiB, long under a sanitizer: killed every 10-30
# ms, the RComp running one would die the 8 times that fault a runner.
slow_kills=1
killed_runs "$(printf '200\n200\n100')" --dump arr:1:uq \
    --dump arr+0xc8000:1:uq --dump arr+0x64000:1:uq \
    "$(dirname "$0")/adopt_chain.dasm"
# Children started where their creator ran (--local-children): a killed
# RComp's child in its ring runs again elsewhere, a result dropped with it
# is never committed, and no line is printed twice.
slow_kills=0
[ -z "${DVM_SANITIZED:-}" ] || slow_kills=1
c0=$(dirname "$0")/../c0
killed_runs "$(cat "$c0/local_chains.out")" --local-children \
    --dump last:4:q --dump total:1:q --dump ridok:4:q "$c0/local_chains.c0"
echo "ok: $kills RComps killed, results unchanged"
