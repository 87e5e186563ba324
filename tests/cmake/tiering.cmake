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

# DVM_JIT_PASSES replaces the translator's pipeline (src/exec/jit_llvm.c).
# dvm_jit_passes_test(NAME PIPELINE REGEX): hello.dasm translated at
# first entry under PIPELINE prints its line, and its --stats (with
# whatever it says on stderr) match REGEX.  LLVM's default<O2> translates
# (this shows only that a valid override is taken whole; `bogus` shows
# that it is read); a pipeline LLVM does not know is said once, and the
# program still gives its result, interpreted.
function(dvm_jit_passes_test name pipeline regex)
  add_test(NAME tiering/passes_${name}
           COMMAND /bin/sh -c "DVM_JIT=eager DVM_JIT_PASSES=\"$2\" \"$0\" run --engine jit --stats \"$1\" 2>&1 >/dev/null | tr '\\n' ' '; DVM_JIT=eager DVM_JIT_PASSES=\"$2\" \"$0\" run --engine jit \"$1\" 2>/dev/null | grep -qx 'hello, world' || echo 'FAIL: hello.dasm printed something else'"
                   ${CMAKE_BINARY_DIR}/dvm ${CMAKE_SOURCE_DIR}/examples/hello.dasm "${pipeline}")
  set_tests_properties(tiering/passes_${name} PROPERTIES TIMEOUT 60
    PASS_REGULAR_EXPRESSION "${regex}" FAIL_REGULAR_EXPRESSION "FAIL")
endfunction()
if(TARGET dvm AND DVM_HAVE_LLVM)
  dvm_jit_passes_test(o2 "default<O2>" "regions translated [1-9]")
  dvm_jit_passes_test(bogus bogus
    "DVM_JIT_PASSES=bogus: translator: optimising: unknown pass name 'bogus'")
endif()
