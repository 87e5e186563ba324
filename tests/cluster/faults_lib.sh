# faults_lib.sh -- what the fault-injection runs share (tests/cluster/
# faults.sh and linkcut.sh, bench/soak.sh): the three programs and their
# exact expected output, node supervisors that start a node again when it
# ends (as systemd's Restart=always does), the random faults, and the hook
# for killing the master.
#
# Sourced after lib.sh.  The caller sets dvm, engine, work, gen (the
# data generator, tools/gen_points.c), ref (the independent k-means,
# bench/peers/kmeans_omp.c), submit_pre (a command prefix for dvm submit,
# e.g. `ip netns exec NS`; may be empty), master_addr (HOST:PORT) and sec
# (secret options; may be empty).
ex=$(dirname "$0")/../../examples
[ -d "$ex" ] || ex=$(dirname "$0")/../examples
sup_pids=""
gone_addrs=""
faults=0
fault_programs="counter treesum kmeans"

# The k-means input (20,000 points, 8 clusters, 20 rounds, 32 chunks) and
# its result by the independent sequential implementation.
faults_data() {
    "$gen" points 3 20000 8 20 32 "$work/points.bin" >/dev/null
    "$ref" "$work/points.bin" > "$work/kmeans.ref" 2>/dev/null
}

# expected PROG: the exact output of the program.
expected() {
    case $1 in
    counter) seq 1 2000; echo 2000 ;;
    treesum) printf '209725440\n209725440\n' ;;
    kmeans) cat "$work/kmeans.ref" ;;
    esac
}

# prog_args PROG: its dvm submit arguments.
prog_args() {
    case $1 in
    counter) echo "--dump counter:1:q $ex/counter.dasm" ;;
    treesum) echo "--dump slots+16:1:q $ex/treesum.dasm" ;;
    kmeans) echo "--in points=$work/points.bin --dump centroids:32:f $ex/kmeans.dasm" ;;
    esac
}

# submit_bg PROG: starts dvm submit of PROG; its pid in sp, output in
# $work/out.
submit_bg() {
    : > "$work/out"
    # shellcheck disable=SC2046,SC2086
    timeout 120 $submit_pre "$dvm" submit --master "$master_addr" $sec \
        --engine "$engine" $(prog_args "$1") > "$work/out" 2> "$work/submit.err" &
    sp=$!
}

# submit_check PROG: waits for the submit and compares its output with
# the expected one, exactly (every line once, in order).  Returns 1 with
# a message when it differs.
submit_check() {
    rc=0
    wait "$sp" || rc=$?
    expected "$1" > "$work/expect"
    if [ "$rc" != 0 ] || ! cmp -s "$work/out" "$work/expect"; then
        echo "FAIL: $1 (exit $rc) after $faults faults:"
        diff "$work/expect" "$work/out" | head -5
        head -5 "$work/submit.err"
        return 1
    fi
}

# supervise K CMD...: runs node K's command again whenever it ends (after
# 0.2 s), until $work/stop exists; its output goes to node K.log, after a
# line with the time of each start.
supervise() {
    k=$1
    shift
    (
        while [ ! -e "$work/stop" ]; do
            echo "start at $(date +%s.%N)" >> "$work/node$k.log"
            "$@" >> "$work/node$k.log" 2>&1 || true
            sleep 0.2 || true
        done
    ) 2>/dev/null &
    sup_pids="$sup_pids $!"
}

# node_dvm K: the running dvm node process of supervisor K (may be empty;
# never the supervisor's sleep).
node_dvm() {
    pgrep -x dvm -P "$(echo $sup_pids | cut -d' ' -f"$1")" 2>/dev/null | head -1 || true
}

# node_addrs PID: the local addresses (HOST:PORT) of node process PID's
# TCP connections, looked up in its own network namespace; one of them
# is the address the master lists the node under (dvm status "host").
node_addrs() {
    { ss -tnpH 2>/dev/null; nsenter -t "$1" -n ss -tnpH 2>/dev/null; } |
        grep "pid=$1," | awk '{print $4}' | sort -u
}

# node_may_go: 0 when the next node may be killed or sent away: the master
# answers, lists none of the addresses in gone_addrs (the node the last
# fault removed: the master has not let it go yet; whole addresses, so
# that 127.0.0.1:4001 is not taken for 127.0.0.1:40012), and keeps no page
# version whose data it gave away with fewer than two nodes
# (page_versions_under_replicated: the copies after the last removal are
# done).  docs/cluster.md (Losing RComps and nodes) promises nothing for
# a version whose home and backup go at once, so the faults take nodes
# one at a time, as that guarantee reads, and as often as it allows.
node_may_go() {
    # shellcheck disable=SC2086
    st=$($submit_pre "$dvm" status --master "$master_addr" $sec --json \
         2>/dev/null) || return 1
    case $st in *'"page_versions_under_replicated":0,'*) ;; *) return 1 ;; esac
    for a in $gone_addrs; do
        case $st in *"\"host\":\"$a\""*) return 1 ;; esac
    done
    gone_addrs=""
    return 0
}

# random_fault: one of kill -9 of an RComp (most often), kill -9 of a
# whole node, SIGTERM (a node leaving in order), at a random node; a
# node only when node_may_go says so (else this fault is left out).
random_fault() {
    k=$(shuf -i 1-"$(echo $sup_pids | wc -w)" -n 1)
    n=$(node_dvm "$k")
    [ -n "$n" ] || return 0
    case $(shuf -i 1-10 -n 1) in
    [1-6]) v=$(pgrep -P "$n" -f __rcomp | shuf -n 1 2>/dev/null || true)
           [ -n "$v" ] && kill -9 "$v" 2>/dev/null && faults=$((faults + 1)) ;;
    [7-8]) node_may_go || return 0
           gone_addrs=$(node_addrs "$n")
           kill -9 "$n" 2>/dev/null && faults=$((faults + 1)) ;;
    *) node_may_go || return 0
       gone_addrs=$(node_addrs "$n")
       kill -TERM "$n" 2>/dev/null && faults=$((faults + 1)) ;;
    esac
    return 0
}

# fault_master: kills the master once during a program (kill -9) and
# starts it again on the same port with MASTER_RESTART (its options, e.g.
# `--state DIR`: the store it restarts from); the nodes and the submit
# reconnect and carry on to the exact result.  Off unless FAULT_MASTER=1.
fault_master() {
    [ "${FAULT_MASTER:-0}" = 1 ] || return 0
    [ -z "${master_pid:-}" ] && return 0
    # Only once the program runs: a client killed out of its first
    # connection (not up yet, nothing sent) says it cannot reach the
    # master and ends, as it should -- its program never reached one; the
    # restart is for a program under way (seen: the kill landed 0.1 s
    # after the submit began, before a sanitized client had connected).
    # shellcheck disable=SC2086
    $submit_pre "$dvm" status --master "$master_addr" $sec --json 2>/dev/null |
        grep -q '"program":"running"' || return 0
    old=$(pgrep -P "$master_pid" || true)
    for c in $old; do kill -9 "$c" 2>/dev/null || true; done
    # The store is free once the process is gone (its lock with it).
    for i in $(seq 1 200); do
        gone=1
        for c in $old; do kill -0 "$c" 2>/dev/null && gone=0; done
        [ $gone = 1 ] && break
        sleep 0.05
    done
    # shellcheck disable=SC2086
    timeout "$CLUSTER_LIMIT" "$dvm" master --listen "$master_addr" \
        ${MASTER_RESTART:-} $sec $(suite_heartbeat) 2>> "$work/master.log" &
    master_pid=$!
    pids="$pids $master_pid"
    faults=$((faults + 1))
    FAULT_MASTER=done
}

# faults_stop: ends the supervisors and their nodes (a second SIGTERM ends
# a leaving node at once).
faults_stop() {
    touch "$work/stop"
    for i in 1 2; do
        for s in $sup_pids; do
            for c in $(pgrep -P "$s" 2>/dev/null); do kill -TERM "$c" 2>/dev/null || true; done
        done
        sleep 0.1
    done
    for s in $sup_pids; do wait "$s" 2>/dev/null || true; done
}
