# masks_lib.sh -- sourced by the masks-only cluster tests after lib.sh
# (dvm, engine, work set): the counter in a masks-only program while the
# nodes that home pages change, and its checks.

# masks_counter_start N LINES: the counter's reference; a master in
# masks-only mode (its default: DVM_TEST_RESULTS_WITH_DATA cleared) and N
# nodes of 2 RComps that home pages; the counter submitted (its pid in
# sp), returning once LINES lines of it were committed.
masks_counter_start() {
    ex=$(dirname "$0")/../../examples
    "$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
    [ "$(wc -l < "$work/ref")" = 2000 ] || { echo "FAIL: reference"; exit 1; }
    unset DVM_TEST_RESULTS_WITH_DATA
    cluster_start "$1" 2
    masks_serving "$1"
    : > "$work/out"
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --stats "$ex/counter.dasm" > "$work/out" 2> "$work/submit.err" &
    sp=$!
    while [ "$(wc -l < "$work/out")" -lt "$2" ] && kill -0 "$sp" 2>/dev/null; do
        sleep 0.01
    done
}

# masks_counter_check: the submit ended well, ran masks only, and its
# output is exact (every line once); says how often results were asked
# for their changes again (DRESEND); no RComp was replaced for a result
# whose changes no holder had (DRESEND got them there first).
masks_counter_check() {
    wait "$sp" || { echo "FAIL: submit"; cat "$work/submit.err"; exit 1; }
    grep -q 'results bring masks only' "$work/master.log" ||
        { echo "FAIL: the counter did not run masks only"; exit 1; }
    cmp -s "$work/ref" "$work/out" ||
        { echo "FAIL: counter output differs"; diff "$work/ref" "$work/out" | head; exit 1; }
    set -- $(status_figures deltas_asked_again rcomps_replaced_for_held_deltas)
    echo "results asked for their changes again: $1; RComps replaced: $2"
    [ "$2" = 0 ] ||
        { echo "FAIL: RComps replaced for changes no holder had"; exit 1; }
}

# masks_counter_held HOMER_PID: the counter's reference; the counter
# submitted to a masks-only master (its pid in sp, output in $work/out);
# once 100 lines came the homing node of HOMER_PID is stopped (SIGSTOP),
# and this returns once a result waits at the master for a holder other
# than its node to hold its changes.
masks_counter_held() {
    ex=$(dirname "$0")/../../examples
    "$dvm" run --engine "$engine" "$ex/counter.dasm" > "$work/ref"
    [ "$(wc -l < "$work/ref")" = 2000 ] || { echo "FAIL: reference"; exit 1; }
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        "$ex/counter.dasm" > "$work/out" 2> "$work/submit.err" &
    sp=$!
    for i in $(seq 1 600); do
        [ "$(wc -l < "$work/out")" -ge 100 ] && break
        sleep 0.05
    done
    kill -STOP "$(pgrep -P "$1")"
    for i in $(seq 1 600); do
        set -- $(status_figures results_waiting_for_held_deltas)
        [ "$1" -gt 0 ] && break
        sleep 0.05
    done
    [ "$1" -gt 0 ] ||
        { echo "FAIL: no result waited for its changes to be held"; exit 1; }
    grep -q 'results bring masks only' "$work/master.log" ||
        { echo "FAIL: the counter did not run masks only"; exit 1; }
    echo "a result waits (homing node stopped) after $(wc -l < "$work/out") lines"
}

# masks_serving N: waits until N nodes serve the pages they home.
masks_serving() {
    for i in $(seq 1 200); do
        [ "$(grep -c 'serves the pages it homes' "$work/master.log")" -ge "$1" ] &&
            return 0
        sleep 0.05
    done
    echo "FAIL: $1 nodes do not serve the pages they home"
    exit 1
}

# nodes_sent: "CHANGED PAGES" summed over the nodes (changed pages sent
# with data, pages sent with data in all).
nodes_sent() {
    "$dvm" status --master "127.0.0.1:$port" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(h["changed_pages_sent"] for h in s["hosts"]),
      sum(h["pages_sent"] for h in s["hosts"]))'
}
