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
  if(DVM_SANITIZE)
    # Sanitized RComps start and run several times slower: kills every
    # 10-30 ms hit the same first runner the 8 times that fault it.
    set_tests_properties(system/kill_rcomps/${engine} PROPERTIES
                         ENVIRONMENT DVM_SANITIZED=1)
  endif()
endforeach()

# DISA 1.1: stacks chosen by the DVM are reused as runners finish: far
# more of them over a run than the stack area holds at once.
foreach(engine ${DVM_ENGINES})
  foreach(n 1 2 4)
    add_test(NAME system/stack_reuse/${engine}/n${n}
             COMMAND sh ${SYS}/stack_reuse.sh $<TARGET_FILE:dvm> ${engine} ${n})
    set_tests_properties(system/stack_reuse/${engine}/n${n} PROPERTIES TIMEOUT 120)
  endforeach()
endforeach()

# Watchers: the paper's tree sum at every RComp count, many producers, a
# pipeline, and repeated runs that would expose a lost wake-up.
foreach(engine ${DVM_ENGINES})
  foreach(n 1 2 8)
    add_test(NAME system/treesum/${engine}/n${n}
             COMMAND sh -c "out=$($<TARGET_FILE:dvm> run --engine ${engine} -n ${n} --dump slots+16:1:q ${CMAKE_SOURCE_DIR}/examples/treesum.dasm) && test \"$out\" = \"$(printf '209725440\\n209725440')\" || { echo \"got: $out\"; exit 1; }")
  endforeach()
  add_test(NAME system/producers/${engine}
           COMMAND sh ${SYS}/repeat.sh $<TARGET_FILE:dvm> ${engine} 20 300
                   ${CMAKE_SOURCE_DIR}/examples/producers.dasm)
  add_test(NAME system/pipeline/${engine}
           COMMAND sh ${SYS}/repeat.sh $<TARGET_FILE:dvm> ${engine} 20 20101
                   ${CMAKE_SOURCE_DIR}/examples/pipeline.dasm)
  set_tests_properties(system/producers/${engine} system/pipeline/${engine}
                       PROPERTIES TIMEOUT 300)
endforeach()

# The trace file is valid Chrome trace-event JSON with the expected events.
find_program(PYTHON3 NAMES python3)
if(PYTHON3)
  add_test(NAME system/trace
           COMMAND ${PYTHON3} ${SYS}/trace_check.py $<TARGET_FILE:dvm>
                   ${CMAKE_SOURCE_DIR}/examples/treesum.dasm)
endif()

# System page signals: a watcher on __nrcomp wakes when an RComp dies.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/signal/${engine}
           COMMAND sh ${SYS}/signal.sh $<TARGET_FILE:dvm> ${engine})
endforeach()

# A 2 GiB input file is mapped, not copied.
if(PYTHON3)
  add_test(NAME system/bigfile
           COMMAND ${PYTHON3} ${SYS}/bigfile.py $<TARGET_FILE:dvm> interp)
  set_tests_properties(system/bigfile PROPERTIES TIMEOUT 600)
endif()

# A 256 MiB commit of output arrives exact, on every engine, and the master
# streams it from frames: its peak resident set stays far below 256 MiB.
if(PYTHON3)
  foreach(engine ${DVM_ENGINES})
    add_test(NAME system/bigoutput/${engine}
             COMMAND ${PYTHON3} ${SYS}/bigoutput.py $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(system/bigoutput/${engine} PROPERTIES TIMEOUT 120)
  endforeach()
endif()

# The small examples, with their known answers, on every engine.
set(EX ${CMAKE_SOURCE_DIR}/examples)
foreach(engine ${DVM_ENGINES})
  foreach(n 1 2)
    add_test(NAME examples/hello/${engine}/n${n}
             COMMAND sh ${SYS}/expect.sh $<TARGET_FILE:dvm> ${engine} ${n}
                     "hello, world" ${EX}/hello.dasm)
    add_test(NAME examples/sum/${engine}/n${n}
             COMMAND sh ${SYS}/expect.sh $<TARGET_FILE:dvm> ${engine} ${n}
                     "42|1" ${EX}/sum.dasm --dump result:2:q)
    add_test(NAME examples/subleq/${engine}/n${n}
             COMMAND sh ${SYS}/expect.sh $<TARGET_FILE:dvm> ${engine} ${n}
                     "500500" ${EX}/subleq.dasm)
  endforeach()
endforeach()

# Named output channels, bound and unbound.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/channels/${engine}
           COMMAND sh ${SYS}/channels.sh $<TARGET_FILE:dvm> ${engine})
endforeach()

# A million watching watchers: the writer's commit wakes exactly its 1000.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/million_watchers/${engine}
           COMMAND $<TARGET_FILE:dvm> run --engine ${engine} -n 2 --stats
                   ${CMAKE_SOURCE_DIR}/examples/million.dasm)
  set_tests_properties(system/million_watchers/${engine} PROPERTIES
    PASS_REGULAR_EXPRESSION "watchers: created 1000000, woken 1000, dropped 999000"
    TIMEOUT 300)
endforeach()

# Runners queued behind a long one are taken back, each run exactly once
# (src/sched/master.c, "taking back"), and RComps that skip runners all
# the time give the same results.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/take_back/${engine}
           COMMAND sh ${SYS}/take_back.sh $<TARGET_FILE:dvm> ${engine} ${SYS})
  set_tests_properties(system/take_back/${engine} PROPERTIES TIMEOUT 120)
endforeach()

# Task Bench graphs (bench/taskbench/gen): many small tasks on stacks the
# DVM chooses, reused by the RComps that ran them, each checking its
# inputs; the same slots at 1, 2 and 3 RComps and with runners taken back.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/taskbench/${engine}
           COMMAND sh ${SYS}/taskbench.sh $<TARGET_FILE:dvm> ${engine})
  set_tests_properties(system/taskbench/${engine} PROPERTIES TIMEOUT 300)
endforeach()

# Children started where their creator ran: chains of them, many runs;
# creators that conflict, with a reader of what their attempts wrote.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/local_repeat/${engine}
           COMMAND sh ${SYS}/local_repeat.sh $<TARGET_FILE:dvm> ${engine} 150)
  add_test(NAME system/local_discard/${engine}
           COMMAND sh ${SYS}/local_discard.sh $<TARGET_FILE:dvm> ${engine} 10)
  set_tests_properties(system/local_repeat/${engine}
                       system/local_discard/${engine} PROPERTIES TIMEOUT 300)
endforeach()

# Every wait sleeps (DVM_SPIN_US=0): each message between the master and
# its RComps reaches its peer by a doorbell (src/net/shmq.h).
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/sleepers/${engine}
           COMMAND sh ${SYS}/sleepers.sh $<TARGET_FILE:dvm> ${engine})
  set_tests_properties(system/sleepers/${engine} PROPERTIES TIMEOUT 300)
endforeach()

# Pages that stay (src/rcomp/keep.c): the tree sum fetches at most one page
# on touch per 100 runners.
foreach(engine ${DVM_ENGINES})
  add_test(NAME system/kept_pages/${engine}
           COMMAND sh ${SYS}/kept_pages.sh $<TARGET_FILE:dvm> ${engine})
  set_tests_properties(system/kept_pages/${engine} PROPERTIES TIMEOUT 120)
endforeach()

# RComps never outlive the master, however it is stopped.
if(PYTHON3)
  foreach(engine ${DVM_ENGINES})
    add_test(NAME system/orphans/${engine}
             COMMAND ${PYTHON3} ${SYS}/orphans.py $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(system/orphans/${engine} PROPERTIES TIMEOUT 300)
  endforeach()
endif()

# A stopped RComp (SIGSTOP) is replaced after the heartbeat bound instead
# of stalling the run (the interpreter: its runner takes long enough).
if(PYTHON3)
  add_test(NAME system/stopped
           COMMAND ${PYTHON3} ${SYS}/stopped.py $<TARGET_FILE:dvm>)
  set_tests_properties(system/stopped PROPERTIES TIMEOUT 300)
endif()

# The binary loads its libraries from the system's places only: no empty
# or relative RPATH/RUNPATH entry (an empty one means the current
# directory).
add_test(NAME system/libpath COMMAND sh ${SYS}/libpath.sh $<TARGET_FILE:dvm>)
set_tests_properties(system/libpath PROPERTIES TIMEOUT 30 SKIP_RETURN_CODE 77)
add_test(NAME system/libpath_rcomp
         COMMAND sh ${SYS}/libpath.sh $<TARGET_FILE:dvm_rcomp_exe>)
set_tests_properties(system/libpath_rcomp PROPERTIES TIMEOUT 30
                     SKIP_RETURN_CODE 77)

# RComps run dvm-rcomp where it sits beside dvm, else `dvm __rcomp`.
add_test(NAME system/rcomp_exe
         COMMAND sh ${SYS}/rcomp_exe.sh $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR})
set_tests_properties(system/rcomp_exe PROPERTIES TIMEOUT 120)

# Translations kept across runs by default (~/.cache/dvm/jit), and
# DVM_JIT_KEEP's other settings; in a home of the test's own.
if(DVM_HAVE_LLVM)
  add_test(NAME system/jit_keep
           COMMAND sh ${SYS}/jit_keep.sh $<TARGET_FILE:dvm>
                   ${CMAKE_SOURCE_DIR}/examples/sum.dasm)
  set_tests_properties(system/jit_keep PROPERTIES TIMEOUT 120)
  # dvm translate: the translator's work ahead of a program's runs.
  add_test(NAME system/jit_ahead
           COMMAND sh ${SYS}/jit_ahead.sh $<TARGET_FILE:dvm> ${CMAKE_SOURCE_DIR})
  set_tests_properties(system/jit_ahead PROPERTIES TIMEOUT 120)
endif()
