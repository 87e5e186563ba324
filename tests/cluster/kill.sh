#!/bin/sh
# kill.sh DVM ENGINE -- kill -9 RComps on nodes, then whole nodes, during
# the conflicting counter and the watcher tree sum on a cluster: results
# exact, output printed once, no leftover process.
dvm=$1 engine=$2
# Up to twenty submits, each killed into; a sanitized build on a loaded
# host runs the serialised counter at ~65 commits/s after a node's loss
# (seen), and every process is bounded by this (ctest's bound is 300 s).
CLUSTER_LIMIT=240
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
master_start
node_pids=""
for k in 1 2 3 4; do
    node_start "node$k" 2
    node_pids="$node_pids $node_pid"
done
nodes_joined 4
out=$work/out

# The dvm processes of the nodes still alive (children of their timeouts).
dvm_nodes() { for t in $node_pids; do pgrep -P "$t" || true; done; }

# submit_killing WHAT PROG ARGS -- submits PROG while killing (WHAT:
# rcomp = a random RComp of a random node, every 0.1-0.3 s; node = one
# whole node once `lines` lines of output were committed, or after 0.3 s
# when lines is 0).
submit_killing() {
    what=$1
    shift
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        "$@" > "$out" 2> "$work/submit.err" &
    sp=$!
    killed_node=0
    while kill -0 "$sp" 2>/dev/null; do
        if [ "$what" = rcomp ]; then
            n=$(dvm_nodes | shuf -n 1)
            victim=$(pgrep -P "$n" -f __rcomp | shuf -n 1 2>/dev/null || true)
            if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then
                kills=$((kills + 1))
            fi
            sleep 0.$(shuf -i 10-30 -n 1)
        else
            [ "$lines" = 0 ] && sleep 0.3
            if [ $killed_node = 0 ] && [ "$(wc -l < "$out")" -ge "$lines" ]; then
                victim=$(dvm_nodes | head -1)
                kill -9 "$victim"
                kills=$((kills + 1))
                killed_node=1
            fi
            sleep 0.01
        fi
    done
    rc=0
    wait "$sp" || rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: dvm submit exited with status $rc after $kills kills"
        cat "$work/submit.err"
        exit 1
    fi
}

check() {
    if [ "$(cat "$out")" != "$2" ]; then
        echo "FAIL: $1 output differs after $kills kills:"
        echo "$2" | diff - "$out" | head -10
        exit 1
    fi
}

# Both programs again until three RComps were killed in all (a fast run
# can end before the second kill), at most ten times.
kills=0
round=0
while [ "$kills" -lt 3 ] && [ $round -lt 10 ]; do
    submit_killing rcomp --dump counter:1:q "$ex/counter.dasm"
    check counter "$(seq 1 2000; echo 2000)"
    submit_killing rcomp "$ex/treesum.dasm"
    check treesum 209725440
    round=$((round + 1))
done
[ "$kills" -ge 3 ] || { echo "FAIL: only $kills RComps killed in $round rounds"; exit 1; }
rk=$kills
kills=0
lines=200
submit_killing node --dump counter:1:q "$ex/counter.dasm"
check counter "$(seq 1 2000; echo 2000)"
lines=0
submit_killing node "$ex/treesum.dasm"
check treesum 209725440
[ "$kills" = 2 ] || { echo "FAIL: $kills nodes killed, expected 2"; exit 1; }
# The system page counts what is left: two nodes of two RComps.
got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
      "$(dirname "$0")/sysinfo.dasm")
[ "$got" = "2 4" ] || { echo "FAIL: __nnode __nrcomp: '$got', expected '2 4'"; exit 1; }
echo "ok: $rk RComps and 2 whole nodes killed, results unchanged"
