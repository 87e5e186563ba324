#!/bin/sh
# datapath.sh DVM ENGINE -- a commit's page data goes from the node that
# relayed its result to the pages' homes, not from the master: on two
# nodes (each the home or the backup of every page) the counter places
# every version of its 2000 commits (one page each, two holders) without
# data (APPLY: 4000), and the master sends page data to homes only for the
# program's first pages, its own writes (the system page) and versions a
# home asked for again (NEED).  Then a node that sends no changes to the
# homes (DVM_TEST_NO_DELTAS, as a node lost before its changes arrived):
# the homes ask the master for its commits' versions, and the output of
# a counter of 50 is exact (each of its commits waits for a holder to ask
# for its version again, about 0.1 s, before the runners that conflicted
# with it run again: snapshots are stable), once with results that bring
# their pages' data (--results-with-data), and once masks only (the
# default: the master has no copy, each commit waits until its node is
# asked to send its changes again, DRESEND, after 0.1 s).  No step depends on timing:
# the figures compared are counts of what was sent, and NEEDs are allowed
# for.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
ex=$(dirname "$0")/../../examples

# figures: "WITHOUT WITH NEEDED" from dvm status --json.
figures() {
    status_figures versions_placed_without_data versions_placed_with_data \
        versions_needed
}

"$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
[ "$(wc -l < "$work/ref")" = 2000 ] || { echo "FAIL: reference"; exit 1; }

# 1. Both nodes send their changes to the homes.
cluster_start 2 2
run "$ex/counter.dasm" "$work/out"
cmp -s "$work/ref" "$work/out" || { echo "FAIL: counter output differs"; exit 1; }
set -- $(figures)
echo "counter: $1 versions placed without data, $2 with data, $3 asked for again"
[ "$1" = 4000 ] ||
    { echo "FAIL: $1 versions placed without data, not 4000"; exit 1; }
[ $(($2 - $3)) -le 64 ] ||
    { echo "FAIL: the master sent $2 versions with data ($3 asked for)"; exit 1; }
w0=$1 d0=$2 n0=$3
run "$ex/treesum.dasm" "$work/ts" --dump slots+16:1:q
treesum_exact "$work/ts"
set -- $(figures)
echo "treesum: $(($1 - w0)) without data, $(($2 - d0)) with, $(($3 - n0)) asked for"
[ $(($1 - w0)) -gt 20000 ] ||
    { echo "FAIL: the tree sum placed $(($1 - w0)) versions without data"; exit 1; }
[ $(($2 - d0 - ($3 - n0))) -le 64 ] ||
    { echo "FAIL: the master sent $(($2 - d0)) versions with data"; exit 1; }
# First-touch pages: fetched from the homes once a holder keeps them.
set -- $(status_figures first_touch_from_homes first_touch_from_master)
echo "first touches: $1 from homes, $2 from the master"

# 2. The only node that runs RComps sends no changes to the homes (it
# and a node that only homes pages): every version of its commits is
# asked for again, once by each holder, and sent by the master unless it
# died meanwhile (no snapshot can read it: it need not be kept).
sed 's/^    .equ N, 2000$/    .equ N, 50/' "$ex/counter.dasm" > "$work/counter50.dasm"
cp -r "$ex/lib" "$work/lib"
"$dvm" run --engine "$engine" "$work/counter50.dasm" > "$work/ref50"
[ "$(wc -l < "$work/ref50")" = 50 ] || { echo "FAIL: reference of 50"; exit 1; }
# mute_run [MASTER OPTIONS]: the counter of 50 on a new master, a node
# that only homes pages and the mute node; its figures checked for the
# path the master took.
mute_run() {
    for p in $node_pids $master_pid; do kill "$p"; wait "$p" 2>/dev/null || true; done
    node_pids=""
    rm -f "$work/port"
    mute_n=$((${mute_n:-0} + 1))
    mv "$work/master.log" "$work/master$mute_n.log"
    master_start "$@"
    node_start homer 0 --name homer
    node_pids="$node_pid"
    export DVM_TEST_NO_DELTAS=1
    node_start mute 2 --name mute
    node_pids="$node_pids $node_pid"
    unset DVM_TEST_NO_DELTAS
    nodes_joined 2
    run "$work/counter50.dasm" "$work/out"
    cmp -s "$work/ref50" "$work/out" ||
        { echo "FAIL: counter output differs without deltas"; exit 1; }
    set -- $(figures)
    echo "without deltas: $1 versions placed without data, $2 with data, $3 asked for again"
    if grep -q "results bring masks only" "$work/master.log"; then
        # Masks only: the master has no data to send; each commit waits
        # at the gate until its node, asked again (DRESEND), sends its
        # deltas.
        asked=$(status_figures deltas_asked_again)
        echo "masks only: $asked results asked for their deltas again"
        [ "$1" = 100 ] && [ "$asked" -gt 0 ] ||
            { echo "FAIL: without deltas, masks only: $* (asked again: $asked)"; exit 1; }
    else
        [ "$3" = 100 ] && [ "$2" -gt 0 ] ||
            { echo "FAIL: without deltas: $*"; exit 1; }
    fi
}
mute_run --results-with-data
grep -q "results bring masks only" "$work/master.log" &&
    { echo "FAIL: masks only with --results-with-data"; exit 1; }
mute_run
echo ok
