# Allocation failure injection (the SQLite idea): in a build with
# -DDVM_ALLOC_FAILPOINTS=ON, `dvm asm`, `dvm dis` and `dvm run` are run with
# DVM_FAIL_ALLOC=1, 2, ... and must fail cleanly every time
# (tests/system/failalloc.sh).  The unit tests *_failalloc_test walk the
# same failures inside one process; they register themselves as unit tests
# (unit/<name>), so `ctest -R failalloc` runs both.
if(DVM_ALLOC_FAILPOINTS)
  add_test(NAME system/failalloc
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/system/failalloc.sh
                   $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/failalloc-work)
  set_tests_properties(system/failalloc PROPERTIES TIMEOUT 900)
endif()
