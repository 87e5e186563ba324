# lib.sh -- starting a cluster DVM on loopback for a test, and cleaning up.
#
# Sourced by the tests of tests/cluster.  cluster_start N R starts a master
# on 127.0.0.1 (a free port) and N nodes of R RComps each; every process is
# bounded by a timeout and killed (with its RComps) when the test exits,
# and the test fails if any process or shared-memory file is left over.
# Variables: dvm (the binary), work (a scratch directory), port.
set -eu
: "${CLUSTER_LIMIT:=120}"
work=$(mktemp -d)
pids=""
DVM_TEST_TAG=$work
export DVM_TEST_TAG
# UCX's shared-memory files of this test's processes go here (instead of
# /dev/shm, where other tests' would mix with them), to be checked.
mkdir "$work/shm"
UCX_POSIX_DIR=$work/shm
export UCX_POSIX_DIR

# test_procs: the pids of the processes of this test still there (they
# carry DVM_TEST_TAG in their environment; the search itself does not).
test_procs() {
    for f in $(env -u DVM_TEST_TAG grep -l "DVM_TEST_TAG=$work" \
               /proc/[0-9]*/environ 2>/dev/null || true); do
        f=${f#/proc/}
        echo "${f%/environ}"
    done
}

# cluster_cleanup [STATUS]: ends every process of the test, checks that
# nothing is left, shows the logs when the test failed, exits with
# STATUS (default: the status the test ended with).  A trap that does
# more first passes the status it saw: under set -e, restoring it with
# `(exit $st)` would end the trap there, before the cleanup.
cluster_cleanup() {
    st=${1:-$?}
    watchdog_stop
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do
        for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        # Past the grace period: the process under the timeout, then it.
        for c in $(pgrep -P "$p" 2>/dev/null); do kill -9 "$c" 2>/dev/null; done
        kill -9 "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    # No process of this test (they carry DVM_TEST_TAG) outlives it; the
    # RComps of a killed node end when they see it gone (a moment).
    for i in $(seq 1 50); do
        left=$(test_procs)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        echo "FAIL: leftover processes:" $left
        for q in $left; do kill -9 "$q" 2>/dev/null || true; done
        st=1
    fi
    # No shared-memory file left behind either.  UCX unlinks its segment
    # files right after making them (peers map them through /proc), so a
    # process killed with SIGKILL between the two leaves one.  In a test
    # that kills so (CLUSTER_SIGKILL=1) UCX's segment files are therefore
    # said and removed, not judged: there the check cannot tell such a
    # file from a leak; every other test judges them, and any other file.
    if [ "${CLUSTER_SIGKILL:-0}" = 1 ]; then
        for f in "$work"/shm/ucx_shm_posix_*; do
            [ -e "$f" ] || continue
            echo "note: $(basename "$f") left (a process was killed with" \
                 "SIGKILL; UCX's create-unlink window); removed"
            rm -f "$f"
        done
    fi
    new=$(ls "$work/shm" | head -5)
    if [ -n "$new" ]; then
        echo "FAIL: leftover shared-memory files: $new"
        st=1
    fi
    if [ "$st" != 0 ]; then
        # CLUSTER_KEEP=DIR: a failed test's scratch directory is kept there.
        [ -n "${CLUSTER_KEEP:-}" ] && cp -r "$work" "$CLUSTER_KEEP/" 2>/dev/null
        for f in "$work"/*.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -40 "$f"; }
        done
    fi
    rm -rf "$work"
    exit "$st"
}
trap cluster_cleanup EXIT
trap 'exit 1' INT TERM

# A hung test is ended by the timeouts around its processes (or by ctest)
# with nothing in its log that says where the processes were.  So the
# first master_start starts a watchdog: CLUSTER_WATCH seconds later
# (default: 15 s before CLUSTER_LIMIT), if the test still runs, it prints
# the master's dvm status and every thread's backtrace (gdb) of the
# test's master, nodes and clients (RComps too with CLUSTER_BT_RCOMPS=1),
# and goes.
# A test that merely runs long gets a needless backtrace, never a
# failure.  The watchdog lives outside the test's tag (its own processes
# are not leftovers) and cluster_cleanup ends it first.
watch_pid=""
cluster_backtraces() {
    for q in $(test_procs); do
        [ "$(readlink "/proc/$q/exe" 2>/dev/null)" = "$(readlink -f "$dvm")" ] || continue
        # RComps only on request: a dozen gdbs at once on a loaded host
        # do not finish before the test's bound.
        grep -q __rcomp "/proc/$q/cmdline" 2>/dev/null &&
            [ "${CLUSTER_BT_RCOMPS:-0}" != 1 ] && continue
        ( echo "=== pid $q: $(tr '\0' ' ' < "/proc/$q/cmdline" 2>/dev/null)"
          env -u DVM_TEST_TAG timeout 12 gdb -p "$q" -batch -nx -ex "thread apply all bt 25" 2>&1 |
              grep -E '^(Thread|#)' ) > "$work/bt.$q" 2>&1 &
    done
    wait
    cat "$work"/bt.* 2>/dev/null
}
watchdog_start() {
    [ -n "$watch_pid" ] && return 0
    command -v gdb > /dev/null || return 0
    after=${CLUSTER_WATCH:-$((CLUSTER_LIMIT - 15))}
    ( trap - EXIT INT TERM
      sleep "$after" || exit 0
      echo "=== watchdog: the test still runs after ${after}s"
      p=$(cat "$work/port" 2>/dev/null || true)
      [ -n "$p" ] && env -u DVM_TEST_TAG timeout 10 "$dvm" status \
          --master "127.0.0.1:$p" 2>&1 | sed 's/^/status: /'
      echo "=== backtraces:"
      cluster_backtraces ) &
    watch_pid=$!
}
watchdog_stop() {
    [ -n "$watch_pid" ] || return 0
    pkill -P "$watch_pid" 2>/dev/null || true
    kill "$watch_pid" 2>/dev/null || true
    watch_pid=""
}

# suite_heartbeat ARGS: "--heartbeat 3" unless ARGS name a bound or the
# test sets CLUSTER_HEARTBEAT=default.  The suite runs on loaded hosts,
# where a node process can get no CPU for longer than the default 0.7 s
# and be given up (then a test that counts a node's runners fails,
# though nothing was lost); cluster/heartbeat tests the default itself.
suite_heartbeat() {
    [ "${CLUSTER_HEARTBEAT:-}" = default ] && return 0
    for a in "$@"; do [ "$a" = --heartbeat ] && return 0; done
    echo "--heartbeat 3"
}

# master [ARGS]: starts the master; sets port and master_pid (of the
# timeout around it: the master is its child).
master_start() {
    watchdog_start
    # shellcheck disable=SC2046
    timeout "$CLUSTER_LIMIT" "$dvm" master --listen 127.0.0.1:0 \
        --port-file "$work/port" $(suite_heartbeat "$@") "$@" \
        2> "$work/master.log" &
    master_pid=$!
    pids="$pids $!"
    for i in $(seq 1 100); do
        [ -s "$work/port" ] && break
        sleep 0.05
    done
    port=$(cat "$work/port")
}

# master_again LOG [ARGS]: a master started again on $port (the one
# before it killed), its stderr in LOG, with the suite's heartbeat bound
# as master_start gives it; sets master_pid.
master_again() {
    log=$1
    shift
    # shellcheck disable=SC2046
    timeout "$CLUSTER_LIMIT" "$dvm" master --listen "127.0.0.1:$port" \
        $(suite_heartbeat "$@") "$@" 2> "$log" &
    master_pid=$!
    pids="$pids $!"
}

# master_start_failing SHIM CALLS [ARGS]: master_start with the libc
# calls CALLS failing (SHIM: tests/cluster/fail_libc.c, preloaded; a
# sanitizer's runtime need not come first for it).
master_start_failing() {
    shim=$1 calls=$2
    shift 2
    asan=${ASAN_OPTIONS:-}
    export ASAN_OPTIONS="$asan${asan:+:}verify_asan_link_order=0" \
           LD_PRELOAD="$shim" DVM_TEST_FAIL_LIBC="$calls"
    master_start "$@"
    unset LD_PRELOAD DVM_TEST_FAIL_LIBC
    export ASAN_OPTIONS="$asan"
}

# node_start NAME R [ARGS]: one node of R RComps; its pid in node_pid.
node_start() {
    name=$1 r=$2
    shift 2
    timeout "$CLUSTER_LIMIT" "$dvm" node --master "127.0.0.1:$port" \
        --rcomps "$r" "$@" 2> "$work/$name.log" &
    node_pid=$!
    pids="$pids $node_pid"
}

# nodes_joined K: waits until K nodes joined the master.
nodes_joined() {
    for i in $(seq 1 200); do
        [ "$(grep -c ' joined ' "$work/master.log" 2>/dev/null)" -ge "$1" ] && return 0
        sleep 0.05
    done
    echo "FAIL: $1 nodes did not join"
    return 1
}

# cluster_start N R [NODE ARGS]: a master and N nodes of R RComps, logs
# node1..nodeN, the pids of their timeouts in node_pids (node K: node_nth
# K); with node_names=P set, node K is also named PK (--name).
cluster_start() {
    n=$1 r=$2
    shift 2
    master_start
    node_pids=""
    for k in $(seq 1 "$n"); do
        if [ -n "${node_names:-}" ]; then
            node_start "node$k" "$r" --name "$node_names$k" "$@"
        else
            node_start "node$k" "$r" "$@"
        fi
        node_pids="$node_pids $node_pid"
    done
    nodes_joined "$n"
}

# node_nth K: the pid of the timeout around node K of cluster_start.
node_nth() { echo $node_pids | cut -d' ' -f"$1"; }

# node_dvm K: the dvm process of node K (the child of its timeout).
node_dvm() { pgrep -P "$(node_nth "$1")"; }

# rcomps_of PID: the RComp processes of the dvm node process PID.
rcomps_of() { pgrep -P "$1" -f __rcomp || true; }

# stop_rcomps PID: SIGSTOPs every RComp of the dvm node process PID and
# returns once each one listed is stopped.  An RComp may end between
# pgrep and kill (one the node replaces, one of a program that ended):
# that is not an error, and the node's new ones are stopped in the next
# round.  Fails with a message when PID is empty (a node already gone)
# or nothing could be stopped.
stop_rcomps() {
    [ -n "$1" ] || { echo "FAIL: stop_rcomps: no node process"; exit 1; }
    for i in $(seq 1 100); do
        n=0 all=1
        for r in $(rcomps_of "$1"); do
            if kill -STOP "$r" 2>/dev/null; then n=$((n + 1)); fi
        done
        for r in $(rcomps_of "$1"); do
            case $(sed 's/.*) \(.\).*/\1/' "/proc/$r/stat" 2>/dev/null) in
                T|Z|'') ;;
                *) all=0 ;;
            esac
        done
        [ "$n" -gt 0 ] && [ "$all" = 1 ] && return 0
        sleep 0.05
    done
    echo "FAIL: the RComps of node process $1 could not be stopped"
    exit 1
}

# runners_running: waits (up to 20 s) until the master runs a runner.
runners_running() {
    for i in $(seq 1 400); do
        "$dvm" status --master "127.0.0.1:$port" --json |
            grep -q '"runners_running":[1-9]' && return 0
        sleep 0.05
    done
}

# status_figures KEY...: the master's figures KEY... (members of dvm
# status --json), on one line.
status_figures() {
    "$dvm" status --master "127.0.0.1:$port" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(*(s[k] for k in sys.argv[1:]))' "$@"
}

# master_idle: waits (up to 30 s) until the master at $port runs no
# program.  A client that ended on an error of its own (a full device)
# leaves its program to be cancelled once the master sees it gone, and
# the master refuses the next SUBMIT until then ("another program is
# running"): a test that submits again at once would fail on that.
master_idle() {
    for i in $(seq 1 600); do
        "$dvm" status --master "127.0.0.1:$port" --json 2>/dev/null |
            grep -q '"program":"idle"' && return 0
        sleep 0.05
    done
    echo "FAIL: the master still runs a program after 30 s"
    exit 1
}

# run PROG OUT [ARGS]: dvm submit of PROG to the master at $port with
# ARGS, its output into OUT, its standard error into $work/submit.err;
# the test fails when the submit does.
run() {
    prog=$1 out=$2
    shift 2
    timeout 60 "$dvm" submit --master "127.0.0.1:$port" --engine "$engine" \
        "$@" "$prog" > "$out" 2> "$work/submit.err" ||
        { echo "FAIL: submit of $prog"; cat "$work/submit.err"; exit 1; }
}

# each_once FILE N: fails unless FILE holds the numbers 0 .. N-1, a line
# each, once each, in any order.
each_once() {
    sort -n "$1" > "$work/sorted"
    seq 0 $(($2 - 1)) | cmp -s - "$work/sorted" ||
        { echo "FAIL: runners did not print once each: $(tr '\n' ' ' < "$1")"; exit 1; }
}

# taken_back: the runners taken back that the --stats of the last submit
# (in $work/submit.err) count (0 when none).
taken_back() {
    n=$(sed -n 's/.*runners taken back from a busy RComp \([0-9]*\).*/\1/p' "$work/submit.err")
    echo "${n:-0}"
}

# none_lost WHAT: fails unless the --stats of the last submit (in
# $work/submit.err) count no runner re-run after a lost RComp.
none_lost() {
    grep -q 're-run after lost rcomp 0,' "$work/submit.err" ||
        { echo "FAIL: $1 counted as lost RComps:"; cat "$work/submit.err"; exit 1; }
}

# treesum_exact FILE: FILE holds the tree sum's two dumped results.
treesum_exact() {
    [ "$(cat "$1")" = "$(printf '209725440\n209725440')" ] ||
        { echo "FAIL: tree sum: $(cat "$1")"; exit 1; }
}

# same [ARGS] PROG: dvm submit gives the output and exit code of dvm run
# (with SORTED=1: the same lines, for programs whose line order is the
# commit order of concurrent runners).
same() {
    set +e
    ref=$("$dvm" run -n 2 --engine "$engine" "$@" 2>"$work/run.err")
    rrc=$?
    got=$(timeout 60 "$dvm" submit --master "127.0.0.1:$port" \
          --engine "$engine" "$@" 2>"$work/submit.err")
    grc=$?
    set -e
    if [ "${SORTED:-0}" = 1 ]; then
        ref=$(echo "$ref" | sort)
        got=$(echo "$got" | sort)
    fi
    if [ "$ref" != "$got" ] || [ $rrc != $grc ]; then
        echo "FAIL: $*: submit (rc $grc) differs from run (rc $rrc)"
        echo "run:    $(echo "$ref" | head -5)"
        echo "submit: $(echo "$got" | head -5)"
        cat "$work/submit.err" | head -5
        return 1
    fi
}

# ended_first TRY OUT REF WHAT: the submit $sp of a program that was to be
# interrupted (WHAT) ended first, which a loaded host allows.  Its output
# file OUT must hold what file REF holds; the test fails then, or at the
# fifth TRY, and otherwise returns for another try.
ended_first() {
    if ! wait "$sp" || [ "$(cat "$2")" != "$(cat "$3")" ]; then
        echo "FAIL: the run that ended before $4"
        cat "$work/err" "$work/submit.err" 2>/dev/null
        exit 1
    fi
    [ "$1" -lt 5 ] || { echo "FAIL: the program ended 5 times before $4"; exit 1; }
}

# commits_reach N: waits (up to 20 s) until the master on $port has made
# N commits, as dvm status says; fails the test when it does not.
commits_reach() {
    for i in $(seq 1 400); do
        c=$("$dvm" status --master "127.0.0.1:$port" --json 2>/dev/null |
            sed -n 's/.*"commits":\([0-9]*\).*/\1/p')
        [ "${c:-0}" -ge "$1" ] && return 0
        sleep 0.05
    done
    echo "FAIL: the program did not get going ($1 commits)"
    exit 1
}
