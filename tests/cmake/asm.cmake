# The assembler and disassembler from the command line (tests/asm/cli.sh),
# and, in a fuzzing build, a short smoke run of the assembler fuzzer over
# its seed corpus.
add_test(NAME asm/cli
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/asm/cli.sh $<TARGET_FILE:dvm>
          ${CMAKE_BINARY_DIR}/asm-cli-test ${CMAKE_SOURCE_DIR})
set_tests_properties(asm/cli PROPERTIES TIMEOUT 60)

dvm_fuzz_smoke(asm_smoke asm_fuzz asm 20000 2048)
