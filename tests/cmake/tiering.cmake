# tiering -- the jit engine on the programs that made the translator cost
# more than it saves: a c0-style program with 800 return points reached
# once each, and a straight line of 300,000 instructions run once.  Each
# must give the interpreter's (and the generator's) result, in bounded
# memory and CPU time (tests/tiering/run.py).  Only with the translator.
if(TARGET dvm AND DVM_HAVE_LLVM)
  foreach(kind_n calls:800 straight:300000)
    string(REPLACE ":" ";" kn ${kind_n})
    list(GET kn 0 kind)
    list(GET kn 1 n)
    add_test(NAME tiering/${kind}
             COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tiering/run.py
                     ${CMAKE_BINARY_DIR}/dvm ${CMAKE_SOURCE_DIR} ${kind} ${n})
    set_tests_properties(tiering/${kind} PROPERTIES TIMEOUT 60)
  endforeach()
endif()

# The RComps of one program translate a hot region once and share it
# (src/exec/jit_cache.h): tests/tiering/shared.sh.
if(TARGET dvm AND DVM_HAVE_LLVM)
  add_test(NAME tiering/shared
           COMMAND /bin/sh ${CMAKE_SOURCE_DIR}/tests/tiering/shared.sh
                   ${CMAKE_BINARY_DIR}/dvm ${CMAKE_SOURCE_DIR})
  set_tests_properties(tiering/shared PROPERTIES TIMEOUT 60)
endif()
