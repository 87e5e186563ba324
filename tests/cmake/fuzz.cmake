# Fuzz smoke run: tools/fuzz.sh builds every src/*/*_fuzz.c target with
# clang + libFuzzer in its own build tree and runs each for a few seconds on
# a scratch copy of its seed corpus (tests/fuzz/<name>/).  Without clang or
# libFuzzer the script exits 77 and ctest reports the test as skipped.
# Built at -O0 (a smoke run: compiling costs more than the seconds run).
set(DVM_FUZZ_SMOKE_SECONDS 4 CACHE STRING "Seconds per fuzz target in ctest")
add_test(NAME fuzz/smoke
         COMMAND ${CMAKE_SOURCE_DIR}/tools/fuzz.sh ${DVM_FUZZ_SMOKE_SECONDS})
set_tests_properties(fuzz/smoke PROPERTIES
  SKIP_RETURN_CODE 77
  TIMEOUT 900
  LABELS fuzz
  ENVIRONMENT "BUILD_DIR=${CMAKE_BINARY_DIR}/build-fuzz;JOBS=2;OPT=-O0")
