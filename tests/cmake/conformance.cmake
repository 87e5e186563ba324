# Conformance corpus: one ctest per tests/conformance/*.dasm per engine,
# named conformance/<engine>/<name>.  The interpreter always; the translator
# when the build has LLVM.  Each test runs tests/conformance/run.sh, which
# compares the program's output with its .out file and its headers.
if(TARGET dvm)
  file(GLOB DVM_CONFORMANCE CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/tests/conformance/*.dasm)
  set(DVM_CONFORMANCE_ENGINES interp)
  if(DVM_HAVE_LLVM)
    list(APPEND DVM_CONFORMANCE_ENGINES jit)
  endif()
  foreach(engine ${DVM_CONFORMANCE_ENGINES})
    foreach(prog ${DVM_CONFORMANCE})
      get_filename_component(name ${prog} NAME_WE)
      add_test(NAME conformance/${engine}/${name}
               COMMAND sh ${CMAKE_SOURCE_DIR}/tests/conformance/run.sh
                       ${CMAKE_BINARY_DIR}/dvm ${engine} ${prog})
      set_tests_properties(conformance/${engine}/${name} PROPERTIES TIMEOUT 60)
    endforeach()
  endforeach()
endif()
