#!/bin/sh
# resubmit.sh DVM ENGINE -- a client whose master dies before it saved the
# program.  The master runs without --state and is killed (kill -9) in the
# middle of the tree sum; a master started on the same port with an empty
# --state has no program to resume, so the client, which got no output
# yet, sends its SUBMIT again: the program runs from the start and the
# output is exactly dvm run's.  Then the counter, whose output arrives at
# every commit: after the same kill the client cannot know the rest and
# ends with exit status 2, saying so, instead of writing output twice.
dvm=$1 engine=$2
. "$(dirname "$0")/lib.sh"
CLUSTER_SIGKILL=1      # kill -9 of DVM processes (lib.sh: cleanup)
ex=$(dirname "$0")/../../examples
master_start
node_start node1 2
node_start node2 2
nodes_joined 2
# kill_master: kill -9 of the running master, and waits until it is gone.
kill_master() {
    m=$(pgrep -P "$master_pid")
    kill -9 "$m"
    for i in $(seq 1 400); do kill -0 "$m" 2>/dev/null || return 0; sleep 0.05; done
    echo "FAIL: the master outlives kill -9"
    exit 1
}
# restart_master N: a master on the same port with an empty store.
restart_master() {
    master_again "$work/master$1.log" --state "$work/state$1"
}
args="--dump slots+16:1:q $ex/treesum.dasm"
# shellcheck disable=SC2086
ref=$("$dvm" run -n 2 --engine "$engine" $args 2> "$work/run.err")
echo "$ref" > "$work/ref"
# The tree sum takes a fraction of a second: on a loaded host it may end
# before dvm status has seen 300 commits.  That is no failure of the DVM
# (its output is checked), and the program is submitted again, up to 5
# times, until the master is killed in the middle of it.
for try in 1 2 3 4 5; do
    # shellcheck disable=SC2086
    timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        $args > "$work/out" 2> "$work/err" &
    sp=$!
    commits_reach 300
    kill -0 "$sp" 2>/dev/null && break
    ended_first $try "$work/out" "$work/ref" "the master was killed"
done
kill_master
restart_master 2
st=0
wait "$sp" || st=$?
if [ $st != 0 ] || [ "$(cat "$work/out")" != "$ref" ]; then
    echo "FAIL: the tree sum after a master without its program: rc $st"
    echo "$ref" | diff - "$work/out" | head -5
    cat "$work/err"
    exit 1
fi
grep -q "submitted it again" "$work/err" ||
    { echo "FAIL: the client did not say it submitted again"; cat "$work/err"; exit 1; }
# The counter: output arrived before the master was lost.
nodes_back() {
    for i in $(seq 1 600); do
        [ "$(grep -c ' joined ' "$1")" -ge 2 ] && return 0
        sleep 0.05
    done
    echo "FAIL: the nodes did not come back"; exit 1
}
nodes_back "$work/master2.log"
sed 's/^\( *\.equ N, *\)[0-9]*/\1200000/' "$ex/counter.dasm" > "$work/long.dasm"
cp -r "$ex/lib" "$work/lib"
rm -f "$work/out"
timeout 120 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
    "$work/long.dasm" > "$work/out" 2> "$work/err" &
sp=$!
for i in $(seq 1 1200); do [ -s "$work/out" ] && break; sleep 0.05; done
[ -s "$work/out" ] ||
    { echo "FAIL: no output of the counter within 60 s"; cat "$work/err"; exit 1; }
kill_master
restart_master 3
st=0
wait "$sp" || st=$?
[ $st = 2 ] && grep -q "part of its output arrived" "$work/err" ||
    { echo "FAIL: output lost with its master: status $st"; cat "$work/err"; exit 1; }
grep -q "submitted it again" "$work/err" &&
    { echo "FAIL: a client with output submitted again"; exit 1; }
echo "ok: a program the master never saved runs again from its client; one with output received ends saying so"
