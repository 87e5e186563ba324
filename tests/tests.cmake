# Script-driven tests (conformance corpus, examples, system tests, fuzz
# smoke runs).  Each area registers its tests in tests/cmake/<area>.cmake.

# A short libFuzzer run of target over the seed corpus tests/fuzz/<seeds>
# (fuzzing builds only); new inputs go to a scratch corpus in the build
# tree, never the seeds.
function(dvm_fuzz_smoke name target seeds runs max_len)
  if(DVM_FUZZ AND TARGET ${target})
    add_test(NAME fuzz/${name}
      COMMAND sh -c "mkdir -p ${seeds}-fuzz-corpus && \"$0\" -runs=${runs} -max_len=${max_len} ${seeds}-fuzz-corpus \"$1\""
              $<TARGET_FILE:${target}> ${CMAKE_SOURCE_DIR}/tests/fuzz/${seeds}
      WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    set_tests_properties(fuzz/${name} PROPERTIES TIMEOUT 300)
  endif()
endfunction()

file(GLOB DVM_TEST_FRAGMENTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cmake/*.cmake)
foreach(frag ${DVM_TEST_FRAGMENTS})
  include(${frag})
endforeach()

# Translations are kept across runs by default, in the user's cache
# directory (src/exec/jit_cache.h, jit_cache_keep_where).  Tests must not
# meet each other's (a test that counts translations would count loads),
# nor leave files in the home of whoever runs them: every test runs with
# keeping off, but system/jit_keep, which tests the default itself in a
# home of its own.
get_property(dvm_all_tests DIRECTORY PROPERTY TESTS)
set_property(TEST ${dvm_all_tests} APPEND PROPERTY ENVIRONMENT DVM_JIT_KEEP=off)
