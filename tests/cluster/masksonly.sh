#!/bin/sh
# masksonly.sh DVM ENGINE -- with `dvm master --masks-only`, page data
# does not flow through the master: a result brings the master its
# changed pages' masks, not their data (except the system page), and
# every version is made at its home and backup from the committing
# node's changes.  On 2 and 4 nodes the counter and the tree sum give dvm
# run's output and dumps exactly, and the nodes sent the master the data
# of no changed page (changed_pages_sent 0; with a dump too: the master
# fetches the dumped page from a holder at the end),
# while every version of the counter was placed without data (APPLY).  No step depends
# on timing: the figures are counts.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
ex=$(dirname "$0")/../../examples


"$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
[ "$(wc -l < "$work/ref")" = 2000 ] || { echo "FAIL: reference"; exit 1; }
"$dvm" run --engine "$engine" --dump slots+16:1:q "$ex/treesum.dasm" \
    > "$work/tsref"
treesum_exact "$work/tsref"

for n in 2 4; do
    master_start --masks-only
    node_pids=""
    for k in $(seq 1 "$n"); do
        node_start "node$k" 2
        node_pids="$node_pids $node_pid"
    done
    nodes_joined "$n"
    # Every node serves its homes before the program starts.
    for i in $(seq 1 200); do
        [ "$(grep -c 'serves the pages it homes' "$work/master.log")" -ge "$n" ] &&
            break
        sleep 0.05
    done
    run "$ex/counter.dasm" "$work/out"
    cmp -s "$work/ref" "$work/out" ||
        { echo "FAIL: $n nodes: counter output differs"; exit 1; }
    grep -q 'results bring masks only' "$work/master.log" ||
        { echo "FAIL: $n nodes: the counter did not run masks only"; exit 1; }
    set -- $(nodes_sent)
    c0=$1 p0=$2
    set -- $(status_figures versions_placed_without_data versions_placed_with_data)
    echo "$n nodes: counter: $c0 changed pages sent with data, $p0 pages" \
         "in all (its output); $1 versions placed without data, $2 with"
    [ "$c0" = 0 ] ||
        { echo "FAIL: $n nodes: the counter sent $c0 changed pages"; exit 1; }
    [ "$1" = 4000 ] ||
        { echo "FAIL: $n nodes: $1 versions placed without data"; exit 1; }
    run "$ex/treesum.dasm" "$work/ts0"
    set -- $(nodes_sent)
    echo "$n nodes: tree sum: $(($1 - c0)) changed pages sent with data," \
         "$(($2 - p0)) pages in all"
    [ "$1" = "$c0" ] ||
        { echo "FAIL: $n nodes: the tree sum sent $(($1 - c0)) changed pages"; exit 1; }
    c0=$1
    # With a dump, no commit brings data either: at the end the master
    # fetches the dumped page's newest version from a holder.
    set -- $(status_figures dump_pages_from_homes)
    d0=$1
    run "$ex/treesum.dasm" "$work/ts" --dump slots+16:1:q
    cmp -s "$work/tsref" "$work/ts" ||
        { echo "FAIL: $n nodes: tree sum: $(cat "$work/ts")"; exit 1; }
    set -- $(nodes_sent)
    echo "$n nodes: tree sum with its dump: $(($1 - c0)) changed pages" \
         "sent with data"
    [ "$1" = "$c0" ] ||
        { echo "FAIL: $n nodes: the tree sum with its dump sent $(($1 - c0)) changed pages"; exit 1; }
    set -- $(status_figures dump_pages_from_homes)
    echo "$n nodes: $(($1 - d0)) dumped page(s) fetched from holders"
    [ "$(($1 - d0))" = 1 ] ||
        { echo "FAIL: $n nodes: $(($1 - d0)) dumped pages fetched from holders"; exit 1; }
    set -- $(status_figures page_versions_at_master)
    [ "$1" = 0 ] || { echo "FAIL: $1 versions left at the master"; exit 1; }
    for p in $pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    pids=""
    rm -f "$work/port"
    mv "$work/master.log" "$work/master$n.log"
done
echo ok
