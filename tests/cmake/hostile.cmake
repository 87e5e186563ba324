# The hostile-input battery (tests/hostile/run.sh, one case a line in
# tests/hostile/cases): bad files, options and bindings refused with exit
# status 2 and a message naming the culprit; misbehaving programs
# (tests/hostile/programs) reported as faults, never a crash or a hang.
add_test(NAME system/hostile
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/hostile/run.sh
                 $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/hostile-work)
set_tests_properties(system/hostile PROPERTIES TIMEOUT 600)
