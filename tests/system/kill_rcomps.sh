#!/bin/sh
# kill_rcomps.sh DVM ENGINE -- kill -9 RComps at random moments of runs of
# the conflicting counter and of the watcher tree sum: nothing is lost,
# nothing printed twice, the results are unchanged.
set -eu
dvm=$1 engine=$2
ex=$(dirname "$0")/../../examples
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# rcomps_of PID -- the RComp processes (`dvm __rcomp`) among PID's
# children: not any other child, e.g. the thread a sanitizer's leak check
# clones at exit, whose death would hang its parent.
rcomps_of() { pgrep -P "$1" -f __rcomp || true; }

# run_killing PROG ARGS... -- runs PROG while killing its RComps.
run_killing() {
    "$dvm" run --engine "$engine" -n 2 "$@" > "$out" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        victim=$(rcomps_of "$pid" | shuf -n 1 2>/dev/null || true)
        if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then
            kills=$((kills + 1))
        fi
        sleep 0.$(shuf -i 10-30 -n 1)
    done
    rc=0
    wait "$pid" || rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: dvm exited with status $rc after $kills kills"
        exit 1
    fi
}

kills=0
run_killing --dump counter:1:q "$ex/counter.dasm"
expected=$(seq 1 2000; echo 2000)
if [ "$(cat "$out")" != "$expected" ]; then
    echo "FAIL: counter output differs after $kills kills"
    exit 1
fi
run_killing "$ex/treesum.dasm"
if [ "$(cat "$out")" != "209725440" ]; then
    echo "FAIL: tree sum gave '$(cat "$out")' after $kills kills"
    exit 1
fi
# DISA 1.1: a chain of runners on quarter-area stacks chosen by the DVM;
# the stack blocks granted to a killed RComp return to the area (else a
# few kills would exhaust it and the chain would fault).
run_killing --dump res:1:q "$(dirname "$0")/stack_chain.dasm"
if [ "$(cat "$out")" != "20000" ]; then
    echo "FAIL: stack chain gave '$(cat "$out")' after $kills kills"
    exit 1
fi
if [ "$kills" -lt 3 ]; then
    echo "FAIL: only $kills RComps were killed; the test proved nothing"
    exit 1
fi
echo "ok: $kills RComps killed, results unchanged"
