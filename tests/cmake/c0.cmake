# c0.cmake -- tests of the c0 compiler (C0.md section 12), each its own
# process:
#
#   c0/run/<prog>/<engine>/n<k>  tests/c0/<prog>.c0 run with -n 1 and -n 4 on
#       each engine (and each with local children, <engine>-local); its output must equal tests/c0/<prog>.out and its exit
#       status tests/c0/<prog>.rc (0 when absent); tests/c0/<prog>.args
#       holds extra run arguments (one per line, %SRC% = the source root).
#   c0/gcc/<prog>/<engine>/n<k>  a runner-free tests/c0/<prog>.c0 that also
#       builds with gcc (tests/c0/gcc_shim.h supplies the library): the two
#       outputs must be equal.
#   c0/errors/<name>  tests/c0/errors/<name>.c0 must fail to compile with
#       status 2, its first diagnostic equal to <name>.err, and no output.
#
# This file is also the test driver: with cmake -P it performs one test.

if(CMAKE_SCRIPT_MODE_FILE)
  file(MAKE_DIRECTORY ${WORK})
  if(WHAT STREQUAL "error")
    get_filename_component(dir ${PROG} DIRECTORY)
    get_filename_component(name ${PROG} NAME_WE)
    file(REMOVE ${WORK}/out.dasm)
    execute_process(COMMAND ${DVM} cc ${name}.c0 -o ${WORK}/out.dasm
                    WORKING_DIRECTORY ${dir}
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                    TIMEOUT 60)
    file(READ ${dir}/${name}.err expect)
    string(REGEX REPLACE "\n.*" "" first "${err}")
    string(STRIP "${expect}" expect)
    if(NOT rc EQUAL 2 OR NOT first STREQUAL expect OR EXISTS ${WORK}/out.dasm)
      message(FATAL_ERROR "${name}: status ${rc}, first diagnostic\n${first}\nexpected\n${expect}")
    endif()
    return()
  endif()
  if(NOT EXP)
    set(EXP ${PROG})
  endif()
  set(args "")
  if(WHAT STREQUAL "kmeans")
    set(args --in stdin=${SRC}/tests/data/kmeans_empty.bin --dump centroids:16:f)
  endif()
  if(EXISTS ${EXP}.args)
    file(STRINGS ${EXP}.args lines)
    foreach(l ${lines})
      string(REPLACE "%SRC%" "${SRC}" l "${l}")
      list(APPEND args "${l}")
    endforeach()
  endif()
  if(ENGINE MATCHES "-local$")   # children started where their creator ran
    string(REGEX REPLACE "-local$" "" ENGINE ${ENGINE})
    set(ENV{DVM_LOCAL_CHILDREN} 1)
  endif()
  execute_process(COMMAND ${DVM} run -n ${N} --engine ${ENGINE} ${args} ${PROG}.c0
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                  TIMEOUT 600)
  if(WHAT STREQUAL "gcc")
    execute_process(COMMAND ${GCC} -O2 -fwrapv -w -include ${SRC}/tests/c0/gcc_shim.h
                            -x c ${PROG}.c0 -o ${WORK}/peer -lm
                    RESULT_VARIABLE grc)
    if(NOT grc EQUAL 0)
      message(FATAL_ERROR "gcc cannot build ${PROG}.c0")
    endif()
    execute_process(COMMAND ${WORK}/peer OUTPUT_VARIABLE expect)
    set(erc 0)
  elseif(WHAT STREQUAL "kmeans")
    execute_process(COMMAND ${REF} ${SRC}/tests/data/kmeans_empty.bin
                    OUTPUT_VARIABLE expect)
    set(erc 0)
  else()
    file(READ ${EXP}.out expect)
    set(erc 0)
    if(EXISTS ${EXP}.rc)
      file(STRINGS ${EXP}.rc erc)
    endif()
  endif()
  if(NOT rc EQUAL erc)
    message(FATAL_ERROR "${PROG}: status ${rc}, expected ${erc}\n${err}")
  endif()
  if(NOT out STREQUAL expect)
    file(WRITE ${WORK}/got ${out})
    message(FATAL_ERROR "${PROG}: output differs (got in ${WORK}/got)\n${err}")
  endif()
  return()
endif()

# Each engine also as <engine>-local: with children started where their
# creator ran (DVM_LOCAL_CHILDREN=1, sched/local.h), whose output must be
# the same.
set(c0_engines interp interp-local)
if(DVM_HAVE_LLVM)
  list(APPEND c0_engines jit jit-local)
endif()
find_program(C0_GCC NAMES gcc cc)

file(GLOB c0_progs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/c0/*.c0)
foreach(src ${c0_progs})
  get_filename_component(name ${src} NAME_WE)
  set(prog ${CMAKE_SOURCE_DIR}/tests/c0/${name})
  if(EXISTS ${prog}.out)
    set(what run)
  elseif(C0_GCC)
    set(what gcc)
  else()
    continue()
  endif()
  foreach(engine ${c0_engines})
    foreach(n 1 4)
      set(t c0/${what}/${name}/${engine}/n${n})
      add_test(NAME ${t}
        COMMAND ${CMAKE_COMMAND} -DDVM=${CMAKE_BINARY_DIR}/dvm -DENGINE=${engine}
          -DN=${n} -DWHAT=${what} -DPROG=${prog} -DSRC=${CMAKE_SOURCE_DIR}
          -DGCC=${C0_GCC}
          -DWORK=${CMAKE_BINARY_DIR}/c0-work/${name}-${engine}-n${n}
          -P ${CMAKE_CURRENT_LIST_FILE})
      set_tests_properties(${t} PROPERTIES TIMEOUT 300)
    endforeach()
  endforeach()
endforeach()

# The c0 examples against their expected results (k-means: the same
# reference as examples/kmeans.dasm's test, bench/peers/kmeans_omp.c).
foreach(ex treesum prime quicksort kmeans)
  set(what run)
  if(ex STREQUAL "kmeans")
    set(what kmeans)
  endif()
  foreach(engine ${c0_engines})
    foreach(n 1 4)
      set(t c0/examples/${ex}/${engine}/n${n})
      add_test(NAME ${t}
        COMMAND ${CMAKE_COMMAND} -DDVM=${CMAKE_BINARY_DIR}/dvm -DENGINE=${engine}
          -DN=${n} -DWHAT=${what} -DPROG=${CMAKE_SOURCE_DIR}/examples/${ex}
          -DEXP=${CMAKE_SOURCE_DIR}/tests/c0/examples/${ex}
          -DSRC=${CMAKE_SOURCE_DIR} -DREF=$<TARGET_FILE:wl_kmeans_ref>
          -DWORK=${CMAKE_BINARY_DIR}/c0-work/ex-${ex}-${engine}-n${n}
          -P ${CMAKE_CURRENT_LIST_FILE})
      set_tests_properties(${t} PROPERTIES TIMEOUT 600)
    endforeach()
  endforeach()
endforeach()

file(GLOB c0_errors CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/c0/errors/*.c0)
foreach(src ${c0_errors})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME c0/errors/${name}
    COMMAND ${CMAKE_COMMAND} -DDVM=${CMAKE_BINARY_DIR}/dvm -DWHAT=error
      -DPROG=${src} -DWORK=${CMAKE_BINARY_DIR}/c0-work/err-${name}
      -P ${CMAKE_CURRENT_LIST_FILE})
  set_tests_properties(c0/errors/${name} PROPERTIES TIMEOUT 60)
endforeach()

# A few Csmith programs against gcc (tests/csmith/run.sh; by hand, run it
# with a larger COUNT for minutes of differential testing).
add_test(NAME c0/csmith COMMAND ${CMAKE_SOURCE_DIR}/tests/csmith/run.sh 4 1)
set_tests_properties(c0/csmith PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
  ENVIRONMENT "DVM=${CMAKE_BINARY_DIR}/dvm;WORK=${CMAKE_BINARY_DIR}/c0-work/csmith")

# The options of dvm cc and dvm run PROG.c0.
add_test(NAME c0/cli COMMAND ${CMAKE_SOURCE_DIR}/tests/c0/cli.sh
  ${CMAKE_BINARY_DIR}/dvm ${CMAKE_BINARY_DIR}/c0-work/cli)
set_tests_properties(c0/cli PROPERTIES TIMEOUT 120)

# A runner fault in a program compiled by `dvm run` names its c0 line.
foreach(engine interp jit)
  if(engine STREQUAL "jit" AND NOT DVM_HAVE_LLVM)
    continue()
  endif()
  add_test(NAME c0/fault_note/${engine}
    COMMAND sh ${CMAKE_SOURCE_DIR}/tests/c0/fault_note.sh
            ${CMAKE_BINARY_DIR}/dvm ${engine} ${CMAKE_SOURCE_DIR})
  set_tests_properties(c0/fault_note/${engine} PROPERTIES TIMEOUT 60)
endforeach()
