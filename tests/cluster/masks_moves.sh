#!/bin/sh
# masks_moves.sh DVM ENGINE MOVE -- a masks-only program (the master has
# no copy of a commit's pages) while two nodes that home pages move at
# once.  tests/cluster/spread.dasm keeps a version in each of 64 regions
# of 2 MiB, so every pair of the 4 nodes is the home and backup of some
# region:
#   join   2 nodes home pages; 2 more join at once mid-program.  A region
#          whose holders become the two newcomers has its versions only at
#          nodes that hold it no more (former holders, still homing).
#   leave  4 nodes home pages; 2 of them leave in order at once (SIGTERM)
#          mid-program.  A region the two homed has its versions only at
#          nodes that are leaving.
# Either way the output (every line once, in order) and the dumped slots
# are exactly dvm run's, no version is lost, and nothing counts as a lost
# RComp.
dvm=$1 engine=$2 move=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
prog=$(dirname "$0")/spread.dasm
args="--dump 0x60000008:1:q --dump 0x67e00008:1:q"
# shellcheck disable=SC2086
"$dvm" run -n 2 --engine "$engine" $args "$prog" > "$work/ref"
unset DVM_TEST_RESULTS_WITH_DATA
case $move in
    join)  n=2 ;;
    leave) n=4 ;;
    *) echo "FAIL: unknown move $move"; exit 1 ;;
esac
cluster_start "$n" 2
masks_serving "$n"
# On a loaded host the program may end before the move begins: no failure
# of the DVM (its output is checked), and it is submitted again, up to 5
# times.
for try in 1 2 3 4 5; do
    : > "$work/out"
    # shellcheck disable=SC2086
    timeout 110 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --stats $args "$prog" > "$work/out" 2> "$work/submit.err" &
    sp=$!
    while [ "$(wc -l < "$work/out")" -lt 500 ] && kill -0 "$sp" 2>/dev/null; do
        sleep 0.01
    done
    kill -0 "$sp" 2>/dev/null && break
    ended_first $try "$work/out" "$work/ref" "the move"
done
if [ "$move" = join ]; then
    node_start node3 2
    node_start node4 2
    nodes_joined 4
else
    v1=$(node_dvm 1) v2=$(node_dvm 2)
    kill -TERM "$v1" "$v2"
    for i in $(seq 1 400); do
        kill -0 "$v1" 2>/dev/null || kill -0 "$v2" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$v1" 2>/dev/null || kill -0 "$v2" 2>/dev/null; then
        echo "FAIL: nodes 1 and 2 did not leave within 20 s of SIGTERM"
        exit 1
    fi
fi
kill -0 "$sp" 2>/dev/null ||
    echo "note: the program ended before the move was over"
wait "$sp" || { echo "FAIL: submit"; cat "$work/submit.err"; exit 1; }
grep -q 'results bring masks only' "$work/master.log" ||
    { echo "FAIL: the program did not run masks only"; exit 1; }
cmp -s "$work/ref" "$work/out" ||
    { echo "FAIL: output differs"; diff "$work/ref" "$work/out" | head; exit 1; }
if grep -q 'was lost with its home' "$work/master.log"; then
    echo "FAIL: a version was lost"; exit 1
fi
none_lost "the move"
echo "ok: $move"
