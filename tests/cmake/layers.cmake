# The declared layering is the real one: CMake's DVM_DEPS_* lists, the
# #includes of src/ and the Layers table of docs/architecture.md agree, and
# no subsystem has an include cycle, and the drawing of docs/architecture.md
# shows the same (tools/check_layers.py).
find_program(DVM_PYTHON3 python3 REQUIRED)
add_test(NAME layers/check
  COMMAND ${DVM_PYTHON3} ${CMAKE_SOURCE_DIR}/tools/check_layers.py
          ${CMAKE_SOURCE_DIR})
set_tests_properties(layers/check PROPERTIES TIMEOUT 60)
# The check itself fails on each kind of drift: an include cycle inside
# src/sched and src/rcomp, an undeclared include, a Layers row, the
# drawing (tests/layers/catches.py, on copies of the tree).
add_test(NAME layers/catches
  COMMAND ${DVM_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/layers/catches.py
          ${CMAKE_SOURCE_DIR})
set_tests_properties(layers/catches PROPERTIES TIMEOUT 60)
