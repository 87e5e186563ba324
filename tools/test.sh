#!/bin/sh
# test.sh -- sets up, builds and runs the whole test suite:
#   1. the normal build (with the LLVM translator) and every test on it;
#   2. an ASan+UBSan build with allocation failpoints and every test on
#      it (interpreter engine), among them the `dvm` command and the
#      *_failalloc_test unit tests under failing allocations (the
#      failpoints cost nothing until DVM_FAIL_ALLOC or a test sets one);
#      its interpreter dispatches by switch, the build choice that the
#      normal build's computed goto leaves untested otherwise;
#   3. a TSan build of the threaded parts (the window's fault handler and
#      the RComp that runs runners beside it, the runner event ring, the
#      HTTP server reading the metrics, the shared-memory queues);
#   (each fuzz target runs for a short while in stage 1.)
# Exits non-zero on the first failing stage.
set -eu
cd "$(dirname "$0")/.."
START=$(date +%s)
./tools/setup.sh
JOBS=$(nproc)
# Tests run one more at a time than there are CPUs: many of them wait
# (for heartbeat bounds, timeouts, processes they start and stop), so at
# one per CPU the normal stage kept the CPUs 69% busy (ASan 83%); with
# one more, 82% (96%), and each stage took 13-17% less time on a 2-core
# host (236 -> 195 s, 192 -> 167 s).  The tests bound their waits for
# loaded hosts (tests/cluster/lib.sh, suite_heartbeat).
TEST_JOBS=$((JOBS + 1))
# banner TEXT: a stage's heading, with the seconds the suite has run.
banner() { echo "== $* (at $(($(date +%s) - START)) s)"; }

banner "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
SUMMARY=$(mktemp)
trap 'rm -f "$SUMMARY"' EXIT
# stage NAME CTEST-ARGS...: runs ctest (output streamed), keeps its
# summary line, and fails when ctest fails.
stage() {
    name=$1
    shift
    log=$(mktemp)
    status=$(mktemp)
    { set +e; ctest "$@" 2>&1; echo $? > "$status"; } | tee "$log"
    grep "tests passed" "$log" | sed "s/^/$name: /" >> "$SUMMARY"
    rc=$(cat "$status")
    rm -f "$log" "$status"
    return "$rc"
}

banner "tests"
stage "normal build" --test-dir build --output-on-failure -j"$TEST_JOBS" \
      --timeout 300

banner "ASan+UBSan build (with allocation failpoints) and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDVM_WITH_LLVM=OFF \
      -DDVM_SANITIZE=address,undefined -DDVM_ALLOC_FAILPOINTS=ON \
      -DDVM_COMPUTED_GOTO=OFF >/dev/null
cmake --build build-asan -j"$JOBS"
# A 16 MiB quarantine (not 256): a freed block is reused sooner, so a
# use after free is caught within the next 16 MiB freed, and the long-
# lived processes of the cluster tests touch far fewer fresh pages (a
# third fewer page faults, 13% less CPU in cluster/examples).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=16
stage "ASan+UBSan" --test-dir build-asan --output-on-failure -j"$TEST_JOBS" \
          --timeout 600 -E '^fuzz/'        # fuzzers run under ASan anyway

banner "TSan build and threaded tests"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DDVM_WITH_LLVM=OFF \
      -DDVM_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$JOBS" --target window_test rcomp_test claim_test \
      ring_test obs_test shmq_test
export TSAN_OPTIONS=halt_on_error=1
stage "TSan" --test-dir build-tsan --output-on-failure \
      -R 'unit/(window|rcomp|ring|obs|claim|shmq)_test'

banner "summary"
cat "$SUMMARY"
echo "whole suite: $(($(date +%s) - START)) s"
