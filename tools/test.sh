#!/bin/sh
# test.sh -- sets up, builds and runs the whole test suite:
#   1. the normal build (with the LLVM translator) and every test on it;
#   2. an ASan+UBSan build and every test on it (interpreter engine);
#   3. an ASan+UBSan build with allocation failpoints: the `dvm` command
#      and the *_failalloc_test unit tests under failing allocations;
#   4. a TSan build of the threaded parts (the window's fault handler);
#   5. each fuzz target for a short while.
# Exits non-zero on the first failing stage.
set -eu
cd "$(dirname "$0")/.."
./tools/setup.sh
JOBS=$(nproc)

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$JOBS" --timeout 300

echo "== ASan+UBSan build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDVM_WITH_LLVM=OFF \
      -DDVM_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS" --timeout 600

echo "== allocation failure injection (ASan+UBSan)"
cmake -S . -B build-failalloc -DCMAKE_BUILD_TYPE=Debug -DDVM_WITH_LLVM=OFF \
      -DDVM_ALLOC_FAILPOINTS=ON -DDVM_SANITIZE=address,undefined >/dev/null
cmake --build build-failalloc -j"$JOBS" --target dvm asm_failalloc_test
ASAN_OPTIONS=detect_leaks=1 \
    ctest --test-dir build-failalloc --output-on-failure -R failalloc

echo "== TSan build and threaded tests"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DDVM_WITH_LLVM=OFF \
      -DDVM_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$JOBS" --target window_test
TSAN_OPTIONS=halt_on_error=1 \
    ctest --test-dir build-tsan --output-on-failure -R 'unit/window_test'

echo "== fuzz smoke"
./tools/fuzz.sh 10
