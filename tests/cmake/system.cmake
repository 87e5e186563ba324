# System tests: several RComp processes, killed processes, identical
# results at every RComp count; on each engine built.
set(DVM_ENGINES interp)
if(DVM_HAVE_LLVM)
  list(APPEND DVM_ENGINES jit)
endif()
set(SYS ${CMAKE_SOURCE_DIR}/tests/system)
foreach(engine ${DVM_ENGINES})
  foreach(n 2 8)
    add_test(NAME system/counter/${engine}/n${n}
             COMMAND sh ${SYS}/counter.sh $<TARGET_FILE:dvm> ${engine} ${n})
  endforeach()
  add_test(NAME system/kill_rcomps/${engine}
           COMMAND sh ${SYS}/kill_rcomps.sh $<TARGET_FILE:dvm> ${engine})
  add_test(NAME system/same_result/sum/${engine}
           COMMAND sh ${SYS}/same_result.sh $<TARGET_FILE:dvm> ${engine}
                   ${CMAKE_SOURCE_DIR}/examples/sum.dasm --dump result:1:q)
  set_tests_properties(system/kill_rcomps/${engine} system/counter/${engine}/n2
                       system/counter/${engine}/n8 PROPERTIES TIMEOUT 300)
endforeach()
