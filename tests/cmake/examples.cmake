# examples.cmake -- tests of the evaluation workloads, examples/prime.dasm and
# examples/kmeans.dasm, at small sizes, with -n 1 and -n 2, on each engine
# (jit-eager: the jit engine translating every region at its first entry):
# examples/<name>/<engine>/n<k>.
#
# prime: parameter files written at test time (tools/gen_points prime);
# the expected counts are known values: pi(1000) = 168, 140 primes in
# [999000, 1001000) (a sieve), 2 primes in {5, 6, 7}, and 0 for no runners.
# kmeans: a data set generated at test time (tools/gen_points points) and
# the fixture tests/data/kmeans_empty.bin (two equal initial centroids, so
# one cluster is empty and must keep its centroid); the expected output is
# that of an independent sequential C implementation (bench/peers/kmeans_omp.c
# built without OpenMP).  All implementations add in the same order, so the
# outputs must be equal character for character (%.17g).
#
# This file is also the test driver: run with cmake -P it performs one test.

if(CMAKE_SCRIPT_MODE_FILE)
  # -DDVM= -DENGINE= -DN= -DWHAT=prime|kmeans -DGEN= -DREF= -DSRC= -DWORK=
  file(MAKE_DIRECTORY ${WORK})
  if(ENGINE STREQUAL "jit-eager")         # the translator at every entry
    set(ENV{DVM_JIT} eager)
    set(ENGINE jit)
  endif()

  function(dvm_run out_var)
    execute_process(COMMAND ${DVM} run -n ${N} --engine ${ENGINE} ${ARGN}
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                    TIMEOUT 600)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "dvm run ${ARGN} failed (${rc}):\n${err}\n${out}")
    endif()
    set(${out_var} "${out}" PARENT_SCOPE)
  endfunction()

  function(check_prime start r n expect)
    set(pfile ${WORK}/params_${start}_${r}_${n}.bin)
    execute_process(COMMAND ${GEN} prime ${start} ${r} ${n} ${pfile}
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gen_points prime failed")
    endif()
    dvm_run(out --in params=${pfile} ${SRC}/examples/prime.dasm)
    if(NOT out STREQUAL "${expect}\n")
      message(FATAL_ERROR "prime ${start} ${r} ${n}: expected ${expect}, got '${out}'")
    endif()
    message(STATUS "prime ${start} ${r} ${n}: ${expect}")
  endfunction()

  function(check_kmeans data k)
    execute_process(COMMAND ${REF} ${data} OUTPUT_VARIABLE expect
                    ERROR_QUIET RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "reference k-means failed on ${data}")
    endif()
    math(EXPR cnt "${k} * 4")
    dvm_run(out --in points=${data} --dump centroids:${cnt}:f
            ${SRC}/examples/kmeans.dasm)
    if(NOT out STREQUAL expect)
      message(FATAL_ERROR "kmeans ${data}: expected\n${expect}\ngot\n${out}")
    endif()
    message(STATUS "kmeans ${data}: ${k} centroids agree")
  endfunction()

  if(WHAT STREQUAL "prime")
    check_prime(0 10 100 168)
    check_prime(999000 20 100 140)
    check_prime(5 3 1 2)
    check_prime(1000 0 10 0)
  elseif(WHAT STREQUAL "kmeans")
    set(data ${WORK}/points.bin)
    execute_process(COMMAND ${GEN} points 3 3000 16 5 7 ${data}
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gen_points points failed")
    endif()
    check_kmeans(${data} 16)
    check_kmeans(${SRC}/tests/data/kmeans_empty.bin 4)
  else()
    message(FATAL_ERROR "WHAT must be prime or kmeans")
  endif()
  return()
endif()

# ---- registration (included from tests/tests.cmake) -------------------------
add_executable(wl_gen_points ${CMAKE_SOURCE_DIR}/tools/gen_points.c)
add_executable(wl_kmeans_ref ${CMAKE_SOURCE_DIR}/bench/peers/kmeans_omp.c)
target_compile_options(wl_kmeans_ref PRIVATE -ffp-contract=off)

set(wl_engines interp)
if(DVM_HAVE_LLVM)
  list(APPEND wl_engines jit jit-eager)
endif()
foreach(what prime kmeans)
  foreach(engine ${wl_engines})
    foreach(n 1 2)
      set(name examples/${what}/${engine}/n${n})
      add_test(NAME ${name}
        COMMAND ${CMAKE_COMMAND}
          -DDVM=${CMAKE_BINARY_DIR}/dvm -DENGINE=${engine} -DN=${n} -DWHAT=${what}
          -DGEN=$<TARGET_FILE:wl_gen_points> -DREF=$<TARGET_FILE:wl_kmeans_ref>
          -DSRC=${CMAKE_SOURCE_DIR}
          -DWORK=${CMAKE_BINARY_DIR}/examples-work/${what}-${engine}-n${n}
          -P ${CMAKE_CURRENT_LIST_FILE})
      set_tests_properties(${name} PROPERTIES TIMEOUT 600)
    endforeach()
  endforeach()
endforeach()
