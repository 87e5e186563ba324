# The assembler and disassembler from the command line (tests/asm/cli.sh),
# and, in a fuzzing build, a short smoke run of the assembler fuzzer over
# its seed corpus.
add_test(NAME asm/cli
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/asm/cli.sh $<TARGET_FILE:dvm>
          ${CMAKE_BINARY_DIR}/asm-cli-test ${CMAKE_SOURCE_DIR})
set_tests_properties(asm/cli PROPERTIES TIMEOUT 60)

if(DVM_FUZZ AND TARGET asm_fuzz)
  # New inputs go to a scratch corpus in the build tree, never the seeds.
  add_test(NAME fuzz/asm_smoke
    COMMAND sh -c "mkdir -p asm-fuzz-corpus && \"$0\" -runs=20000 -max_len=2048 asm-fuzz-corpus \"$1\""
            $<TARGET_FILE:asm_fuzz> ${CMAKE_SOURCE_DIR}/tests/fuzz/asm
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  set_tests_properties(fuzz/asm_smoke PROPERTIES TIMEOUT 300)
endif()
