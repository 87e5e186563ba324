# Conformance corpus: one ctest per tests/conformance/*.dasm per engine,
# named conformance/<engine>/<name>.  The interpreter always; when the build
# has LLVM, the tiered engine (jit) and the translator translating every
# region at its first entry (jit-eager: --engine jit with DVM_JIT=eager).
# And both engines with children started where their creator ran
# (interp-local, jit-local: DVM_LOCAL_CHILDREN=1, sched/local.h), whose
# results must be exactly those of the master's dispatch.  Each test runs tests/conformance/run.sh, which
# compares the program's output with its .out file and its headers.
if(TARGET dvm)
  file(GLOB DVM_CONFORMANCE CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/tests/conformance/*.dasm)
  set(DVM_CONFORMANCE_ENGINES interp interp-local)
  if(DVM_HAVE_LLVM)
    list(APPEND DVM_CONFORMANCE_ENGINES jit jit-eager jit-local)
  endif()
  foreach(engine ${DVM_CONFORMANCE_ENGINES})
    foreach(prog ${DVM_CONFORMANCE})
      get_filename_component(name ${prog} NAME_WE)
      string(REGEX REPLACE "-(eager|local)$" "" run_engine ${engine})
      add_test(NAME conformance/${engine}/${name}
               COMMAND sh ${CMAKE_SOURCE_DIR}/tests/conformance/run.sh
                       ${CMAKE_BINARY_DIR}/dvm ${run_engine} ${prog})
      set_tests_properties(conformance/${engine}/${name} PROPERTIES TIMEOUT 60)
      if(engine STREQUAL "jit-eager")
        set_tests_properties(conformance/${engine}/${name} PROPERTIES
                             ENVIRONMENT "DVM_JIT=eager")
      elseif(engine MATCHES "-local$")
        set_tests_properties(conformance/${engine}/${name} PROPERTIES
                             ENVIRONMENT "DVM_LOCAL_CHILDREN=1")
      endif()
    endforeach()
  endforeach()
endif()
