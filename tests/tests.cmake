# Script-driven tests (conformance corpus, examples, system tests, fuzz
# smoke runs).  Each area registers its tests in tests/cmake/<area>.cmake.
file(GLOB DVM_TEST_FRAGMENTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cmake/*.cmake)
foreach(frag ${DVM_TEST_FRAGMENTS})
  include(${frag})
endforeach()
