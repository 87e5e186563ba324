# The hostile-input battery (tests/hostile/run.sh, one case a line in
# tests/hostile/cases): bad files, options and bindings refused with exit
# status 2 and a message naming the culprit; misbehaving programs
# (tests/hostile/programs) reported as faults, never a crash or a hang.
# Its three parts are tests of their own, so that ctest runs them side by
# side: the lines of the cases file, the truncated and flipped images, and
# the misbehaving programs.
foreach(part cases images programs)
  add_test(NAME system/hostile/${part}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/hostile/run.sh
                   $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/hostile-work-${part} ${part})
  set_tests_properties(system/hostile/${part} PROPERTIES TIMEOUT 600)
endforeach()
# Under a sanitizer the truncated images are sparser (run.sh: every 3rd
# byte of the header...; the image fuzzer tries every byte under ASan).
if(DVM_SANITIZE)
  set_tests_properties(system/hostile/images PROPERTIES
                       ENVIRONMENT HOSTILE_SPARSE=1)
endif()
