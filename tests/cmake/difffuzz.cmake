# difffuzz -- the differential fuzzer of the two engines (tools/difffuzz.c):
# random DISA programs run on the interpreter and the translator, compared
# exactly.  `difffuzz SECONDS SEED`; registered as a short smoke run when the
# translator is built.
add_executable(difffuzz ${CMAKE_SOURCE_DIR}/tools/difffuzz.c)
target_link_libraries(difffuzz dvm_exec)
if(DVM_HAVE_LLVM)
  add_test(NAME difffuzz/short COMMAND difffuzz 10 1)
  set_tests_properties(difffuzz/short PROPERTIES TIMEOUT 120)
endif()
