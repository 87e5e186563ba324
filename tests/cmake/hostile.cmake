# Hostile input to the `dvm` command (missing, empty, garbage and damaged
# files, bad options and bindings: exit status 2 and a message naming the
# culprit) and misbehaving programs (tests/system/hostile/*.dasm: faults
# reported, never a crash or a hang).  See tests/system/hostile.sh.
add_test(NAME system/hostile
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/system/hostile.sh
                 $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/hostile-work)
set_tests_properties(system/hostile PROPERTIES TIMEOUT 600)
