#!/bin/sh
# restart.sh DVM ENGINE PROG -- the master is killed (kill -9) in the middle
# of a program on 2 nodes and started again with the same --state: the
# nodes and the submitting client come back, and the client's output is
# exactly dvm run's (every line once, the dump right).  The program runs
# masks only with --state, the default: no node sends the master a
# changed page's data, and the saves fetch what they lack from the pages'
# holders (checked on the counter before the kill); with
# DVM_TEST_RESULTS_WITH_DATA set, the master is started with
# --results-with-data: results bring their data and the saves read the
# master's copy.
# PROG: counter (output at every commit) or treesum (watchers).  Then a
# master started on the store of the finished program starts clean and
# runs the next one, a client whose master stays away gives up after
# --reconnect, and a corrupt store is refused (exit 2).
dvm=$1 engine=$2 prog=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/masks_lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
state=$work/state
case $prog in
    counter) args="--dump counter:1:q $ex/counter.dasm" ;;
    treesum) args="--dump slots+16:1:q $ex/treesum.dasm" ;;
    *) echo "FAIL: unknown program $prog"; exit 1 ;;
esac
data=${DVM_TEST_RESULTS_WITH_DATA:+1}
masks=""
[ -z "$data" ] || masks=--results-with-data
# shellcheck disable=SC2086
master_start --state "$state" $masks
node_start node1 2
node_start node2 2
nodes_joined 2
masks_serving 2
# shellcheck disable=SC2086
ref=$("$dvm" run -n 2 --engine "$engine" $args 2> "$work/run.err")
echo "$ref" > "$work/ref"
# kill_master PID: kill -9, and wait until the process is gone (its store
# is free only then).
kill_master() {
    kill -9 "$1"
    for i in $(seq 1 400); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
    echo "FAIL: the master outlives kill -9"
    exit 1
}
# The program may end before the questions above are answered on a
# loaded host: no failure of the DVM (its output is checked), and it is
# submitted again, up to 5 times, until the master is killed mid-run.
for try in 1 2 3 4 5; do
    # shellcheck disable=SC2086
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        $args > "$work/out" 2> "$work/err" &
    sp=$!
    # Mid-run: once the master has made a few hundred commits.
    commits_reach 300
    if grep -q 'results bring masks only' "$work/master.log"; then
        [ -z "$data" ] || { echo "FAIL: masks only, asked otherwise"; exit 1; }
    else
        [ -n "$data" ] || { echo "FAIL: the program did not run masks only"; exit 1; }
    fi
    # (The tree sum would end while these questions are asked.)
    if [ "$prog" = counter ] && [ -z "$data" ]; then
        set -- $(status_figures saved_pages_from_homes) $(nodes_sent)
        echo "before the kill: $1 pages fetched from holders for saves, $2" \
             "changed pages sent with data"
        [ "$2" = 0 ] ||
            { echo "FAIL: the nodes sent $2 changed pages with data"; exit 1; }
        [ "$1" -gt 0 ] ||
            { echo "FAIL: the saves fetched no page from the holders"; exit 1; }
    fi
    kill -0 "$sp" 2>/dev/null && break
    ended_first $try "$work/out" "$work/ref" "the master was killed"
done
master=$(pgrep -P "$(echo $pids | cut -d' ' -f1)")
kill_master "$master"
# shellcheck disable=SC2086
master_again "$work/master2.log" --state "$state" $masks
st=0
wait "$sp" || st=$?
got=$(cat "$work/out")
if [ $st != 0 ] || [ "$got" != "$ref" ]; then
    echo "FAIL: after the restart: submit rc $st, output differs from dvm run"
    echo "$ref" > "$work/ref"
    diff "$work/ref" "$work/out" | head -10
    cat "$work/err"
    exit 1
fi
grep -q "resumed the saved program" "$work/master2.log" ||
    { echo "FAIL: the client did not resume"; cat "$work/master2.log"; exit 1; }
# A node notices the master's death by its own timeout and retries on
# its own clock: the program may finish before the second one is back.
for i in $(seq 1 600); do
    [ "$(grep -c ' joined ' "$work/master2.log")" -ge 2 ] && break
    sleep 0.05
done
[ "$(grep -c ' joined ' "$work/master2.log")" -ge 2 ] ||
    { echo "FAIL: the nodes did not come back"; exit 1; }
# The store of a finished program: a master on it starts clean.
kill_master "$(pgrep -P "$master_pid")"
# shellcheck disable=SC2086
master_again "$work/master3.log" --state "$state" $masks
for i in $(seq 1 200); do
    [ "$(grep -c ' joined ' "$work/master3.log" 2>/dev/null)" -ge 2 ] && break
    sleep 0.05
done
! grep -q "saved program" "$work/master3.log" ||
    { echo "FAIL: a finished program was restored"; exit 1; }
got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
      --dump result:1:q "$ex/sum.dasm")
want=$("$dvm" run -n 2 --engine "$engine" --dump result:1:q "$ex/sum.dasm")
[ "$got" = "$want" ] ||
    { echo "FAIL: the next program after a clean start: $got"; exit 1; }
# A master that does not come back: the client gives up after --reconnect
# seconds (exit 2, saying so).
if [ "$prog" = counter ]; then
    sed 's/^\( *\.equ N, *\)[0-9]*/\1200000/' "$ex/counter.dasm" > "$work/long.dasm"
    cp -r "$ex/lib" "$work/lib"
    rm -f "$work/out"   # the last run's output must not pass for this one's
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        --reconnect 1 "$work/long.dasm" > "$work/out" 2> "$work/err" &
    sp=$!
    # Its first line shows the client reached the master (a sanitizer
    # build on a loaded host can take many seconds to get there).
    for i in $(seq 1 1200); do [ -s "$work/out" ] && break; sleep 0.05; done
    [ -s "$work/out" ] ||
        { echo "FAIL: no output of the long program within 60 s"; cat "$work/err"; exit 1; }
    kill_master "$(pgrep -P "$master_pid")"
    st=0
    wait "$sp" || st=$?
    [ $st = 2 ] && grep -q "not back within 1 s" "$work/err" ||
        { echo "FAIL: a master that stays away: status $st"; cat "$work/err"; exit 1; }
fi
# A store that is not one: refused with exit status 2.
mkdir "$work/bad"
head -c 20000 /dev/urandom > "$work/bad/data.mdb"
st=0
timeout 20 "$dvm" master --listen 127.0.0.1:0 --state "$work/bad" \
    2> "$work/bad.log" || st=$?
[ $st = 2 ] && grep -q "$work/bad" "$work/bad.log" ||
    { echo "FAIL: a corrupt store: status $st"; cat "$work/bad.log"; exit 1; }
echo "ok: $prog survived a master restart; a finished store starts clean"
