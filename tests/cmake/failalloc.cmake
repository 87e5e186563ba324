# Allocation failure injection (the SQLite idea): in a build with
# -DDVM_ALLOC_FAILPOINTS=ON, `dvm asm`, `dvm dis` and `dvm run` are run with
# DVM_FAIL_ALLOC=1, 2, ... and must fail cleanly every time
# (tests/system/failalloc.sh).  The unit tests *_failalloc_test walk the
# same failures inside one process; they register themselves as unit tests
# (unit/<name>), so `ctest -R failalloc` runs both.
# The script's four parts (asm and dis; run; the DVM's stacks; a large
# .zero) are tests of their own, so that ctest runs them side by side.
if(DVM_ALLOC_FAILPOINTS)
  foreach(part asm run newr zero)
    add_test(NAME system/failalloc/${part}
             COMMAND sh ${CMAKE_SOURCE_DIR}/tests/system/failalloc.sh
                     $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR}
                     ${CMAKE_BINARY_DIR}/failalloc-work-${part} ${part})
    set_tests_properties(system/failalloc/${part} PROPERTIES TIMEOUT 900)
  endforeach()
endif()
