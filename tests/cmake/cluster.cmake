# Cluster tests: a master and nodes on loopback (127.0.0.1 only), started
# and cleaned up by tests/cluster/lib.sh; each test bounds every process.
#   cluster/corpus/<engine>/n<k>    every conformance program (against its
#                                   .out) and example (against dvm run)
#                                   on k nodes
#   cluster/kill, late, secret, cancel  lost RComps and nodes, joining,
#                                   refusal, Ctrl-C and a lost master
#   cluster/bigoutput/<engine>      256 MiB of output in one commit through
#                                   submit; the master's memory stays small
#   cluster/paced/<engine>          the same with the master stalled while
#                                   the node ships: its records wait for
#                                   the master to take them (TAKEN)
#   cluster/drain, resplit          nodes leaving in order (SIGTERM)
#   cluster/drain_cmd               dvm node --drain NAME (the operator)
#   cluster/faults, linkcut         random faults, cut links (netns)
#   cluster/homes                   versions at homes on nodes, a node lost
#   cluster/status_nomem            dvm status of a master out of memory
#   cluster/trace_nofd/<engine>     --trace on a master without a file for it
#   cluster/manyclients             257 clients at once: one refused
#   cluster/clock                   node clocks corrected in a trace
#   cluster/garbage, netns          hostile peers; nodes in network namespaces
#   cluster/restart/<prog>          the master killed and restarted (--state),
#                                   masks only; restart_data: with data
#   cluster/resubmit/<engine>       a restarted master without the program:
#                                   the client submits it again
#   cluster/verdict/<engine>        the master killed after a program ended,
#                                   before its verdict left: kept for the
#                                   client
#   cluster/take_back/<engine>      runners a node's RComp has not started
#                                   taken back and run on another node
#   cluster/take_back_parked/<engine>  the same from a dispatch parked
#                                   for its pages (DVM_TEST_PARK_MS)
#   cluster/bad_options, node_bad_* options refused before anything starts
#   cluster/heartbeat               the default bound: a stopped node given
#                                   up, stalls of master and node not
#   cluster/ackstored               output, and runners made by a commit,
#                                   only once home and backup keep its
#                                   versions (a stopped homing node)
#   cluster/datapath                a commit's page data goes from its node
#                                   to the homes, not from the master
#   cluster/stable                  snapshots at the stable epoch: no page
#                                   data from the master on four nodes
#   cluster/masksonly               --masks-only: results bring masks, not
#                                   data; versions made at the homes
#   cluster/dumps                   masks only: the dump fetched from the
#                                   holders, one or both killed first
#   cluster/examples_data, resplit_data
#                                   the examples on 2 nodes and resplit with
#                                   results that bring their pages' data
#   cluster/masks_kill              --masks-only: a committing node killed
#                                   while its result waits for DHELD
#   cluster/masks_join              masks only: a node joins mid-program
#                                   (DRESEND to the new holders)
#   cluster/masks_joinstop          masks only: a node joins while a homing
#                                   node is stopped, then the committing
#                                   node is killed
#   cluster/masks_remake            masks only: the only holder with a
#                                   delta dies before the other has the
#                                   version: made again from the
#                                   committing node's delta
#   cluster/masks_drain             masks only: a homing node leaves
#                                   mid-program (DRESEND)
#   cluster/masks_peerdown          masks only: the nodes' links to each
#                                   other break mid-program (reconnect)
#   cluster/masks_moves             masks only: two homing nodes join, or
#                                   leave, at once (tests/cluster/spread)
#   cluster/masks_mute              masks only: no home ever holds the
#                                   changes; the program fails clearly
set(DVM_CLUSTER_ENGINES interp)
if(DVM_HAVE_LLVM)
  list(APPEND DVM_CLUSTER_ENGINES jit)
endif()
set(CL ${CMAKE_SOURCE_DIR}/tests/cluster)
# The engines the cluster's system tests (lost RComps and nodes, joins,
# drains, restarts, cut links, hostile peers) run on.  Their machinery --
# master, nodes, homes, transport -- is the same whatever engine runs the
# runners, and each run costs the suite 15-60 s of a CPU, so a build with
# LLVM runs them on the JIT only and the sanitizer build (which has no
# LLVM) on the interpreter: the suite covers both engines, each once.
# The examples and the corpus, which check the engines' results through
# the cluster, run on every engine.  -DDVM_CLUSTER_ALL_ENGINES=ON runs
# the system tests on every engine too.
option(DVM_CLUSTER_ALL_ENGINES "Cluster system tests on every engine" OFF)
set(DVM_CLUSTER_SYSTEM_ENGINES ${DVM_CLUSTER_ENGINES})
if(DVM_HAVE_LLVM AND NOT DVM_CLUSTER_ALL_ENGINES)
  set(DVM_CLUSTER_SYSTEM_ENGINES jit)
endif()
# Under a sanitizer the interpreter is ~15x slower and every process
# start costs ~0.2 s of a CPU (ASan's and LSan's own work), so there the
# suite takes each cluster code path once: the tests below, which take
# paths others already take under it, run in the normal build only.
#   late, masks_joinstop     joining: masks_join
#   drain, resplit           leaving: drain_cmd, masks_drain
#   resplit_data, restart_data, restart/treesum
#                            the data path and saves: examples_data and
#                            restart/counter
#   homes, heartbeat, linkcut, faults
#                            lost nodes and RComps: kill, masks_kill
#   bigoutput                output in frames: paced (the same, stalled)
#   ackstored, stable, masksonly
#                            masks only: datapath, dumps, the corpus
#   netns, clock, resubmit   the same code as on loopback; the client's
#                            resubmit as verdict's
#   masks_moves/leave        masks_drain
set(DVM_CLUSTER_UNSANITIZED late masks_joinstop drain resplit resplit_data
    restart_data restart/treesum homes heartbeat linkcut faults bigoutput
    ackstored stable masksonly netns clock resubmit)
# cluster_wanted(T VAR): VAR is true unless this is a sanitizer build and
# T is one of DVM_CLUSTER_UNSANITIZED.
function(cluster_wanted t var)
  if(DVM_SANITIZE AND t IN_LIST DVM_CLUSTER_UNSANITIZED)
    set(${var} FALSE PARENT_SCOPE)
  else()
    set(${var} TRUE PARENT_SCOPE)
  endif()
endfunction()
# A sanitizer's interpreter is ~15x slower: there the corpus runs on 2
# nodes only (1 node takes the path with data that examples_data and
# resplit_data cover, 4 only more of the same processes: 205 s of the
# suite under ASan), leaves out the example that only spins (corpus.sh
# says so), and its bound is doubled: it took 250 s on 4 nodes beside two
# other cluster tests, and once ran past 300 s, making progress all along.
set(corpus_nodes 1 2 4)
set(corpus_bound 300)
set(corpus_env "")
if(DVM_SANITIZE)
  set(corpus_nodes 2)
  set(corpus_bound 600)
  set(corpus_env DVM_SANITIZED=1)
endif()
math(EXPR corpus_limit "${corpus_bound} - 20")
list(APPEND corpus_env CLUSTER_LIMIT=${corpus_limit})
# The corpus test runs the examples after the conformance programs
# (tests/cluster/examples_lib.sh), on the same master.
foreach(engine ${DVM_CLUSTER_ENGINES})
  foreach(n ${corpus_nodes})
    add_test(NAME cluster/corpus/${engine}/n${n}
             COMMAND sh ${CL}/corpus.sh $<TARGET_FILE:dvm> ${engine} ${n})
    set_tests_properties(cluster/corpus/${engine}/n${n} PROPERTIES
                         TIMEOUT ${corpus_bound} ENVIRONMENT "${corpus_env}")
  endforeach()
endforeach()
# kill -9 of RComps and whole nodes; nodes joining a running program and
# dvm status; the cluster secret.
foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
  foreach(t kill late secret cancel bigoutput paced drain resplit homes
            drain_cmd
            heartbeat
            ackstored datapath stable masksonly dumps masks_kill masks_join
            masks_joinstop masks_remake
            masks_drain masks_peerdown take_back take_back_parked)
    cluster_wanted(${t} wanted)
    if(NOT wanted)
      continue()
    endif()
    add_test(NAME cluster/${t}/${engine}
             COMMAND sh ${CL}/${t}.sh $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(cluster/${t}/${engine} PROPERTIES TIMEOUT 300)
  endforeach()
  # The examples on 2 nodes and resplit again with results that bring
  # their pages' data to the master (dvm master --results-with-data):
  # the path a one-homing-node cluster takes.
  add_test(NAME cluster/examples_data/${engine}
           COMMAND sh ${CL}/examples.sh $<TARGET_FILE:dvm> ${engine} 2)
  set(examples_env DVM_TEST_RESULTS_WITH_DATA=1 CLUSTER_LIMIT=280)
  if(DVM_SANITIZE)
    list(APPEND examples_env DVM_SANITIZED=1)
  endif()
  set_tests_properties(cluster/examples_data/${engine} PROPERTIES TIMEOUT 300
                       ENVIRONMENT "${examples_env}")
  cluster_wanted(resplit_data wanted)
  if(wanted)
    add_test(NAME cluster/resplit_data/${engine}
             COMMAND sh ${CL}/resplit.sh $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(cluster/resplit_data/${engine} PROPERTIES TIMEOUT 300
                         ENVIRONMENT DVM_TEST_RESULTS_WITH_DATA=1)
  endif()
endforeach()
# Masks only: two nodes that home pages join, or leave in order, at once
# while tests/cluster/spread.dasm keeps a version in each of 64 regions
# (masks_moves.sh); and the only RComps on a node whose changes reach no
# home: the program fails with a clear message, then the next one runs
# (masks_mute.sh).  The data path is the same on either engine: the
# interpreter only.  In the normal build only (they wait out heartbeat
# bounds, and the leave took 95 s under ASan; masks_drain and masks_kill
# take the same paths there).
if(NOT DVM_SANITIZE)
  foreach(move join leave)
    add_test(NAME cluster/masks_moves/${move}
             COMMAND sh ${CL}/masks_moves.sh $<TARGET_FILE:dvm> interp ${move})
    set_tests_properties(cluster/masks_moves/${move} PROPERTIES TIMEOUT 180)
  endforeach()
  add_test(NAME cluster/masks_mute
           COMMAND sh ${CL}/masks_mute.sh $<TARGET_FILE:dvm> interp)
  set_tests_properties(cluster/masks_mute PROPERTIES TIMEOUT 240)
endif()
# Node clocks measured and corrected in a cluster trace (clock.sh).
cluster_wanted(clock wanted)
if(wanted)
  foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
    add_test(NAME cluster/clock/${engine}
             COMMAND sh ${CL}/clock.sh $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(cluster/clock/${engine} PROPERTIES TIMEOUT 120)
  endforeach()
endif()
# Node options refused before anything starts.
add_test(NAME cluster/node_bad_name
         COMMAND $<TARGET_FILE:dvm> node --master 127.0.0.1:9 --name "a/b")
set_tests_properties(cluster/node_bad_name PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm node: bad node name .*: a/b" TIMEOUT 30)
add_test(NAME cluster/bad_options
         COMMAND sh ${CL}/bad_options.sh $<TARGET_FILE:dvm>)
set_tests_properties(cluster/bad_options PROPERTIES TIMEOUT 60)
add_test(NAME cluster/node_bad_skew
         COMMAND $<TARGET_FILE:dvm> node --master 127.0.0.1:9
                 --clock-skew-ns 1x)
set_tests_properties(cluster/node_bad_skew PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm node: bad clock skew: 1x" TIMEOUT 30)
# Random faults during the counter, the tree sum and k-means (its data
# and independent result from tests/cmake/examples.cmake's tools).
cluster_wanted(faults wanted)
if(wanted)
  foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
    add_test(NAME cluster/faults/${engine}
             COMMAND sh ${CL}/faults.sh $<TARGET_FILE:dvm> ${engine}
                     $<TARGET_FILE:wl_gen_points> $<TARGET_FILE:wl_kmeans_ref>)
    set_tests_properties(cluster/faults/${engine} PROPERTIES TIMEOUT 240)
  endforeach()
endif()
# Inputs stay with the master: a node fetches the input pages its RComps
# touch (16 bytes of a 16 MiB input; k-means reading all of its own).
foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
  add_test(NAME cluster/inputs/${engine}
           COMMAND sh ${CL}/inputs.sh $<TARGET_FILE:dvm> ${engine}
                   $<TARGET_FILE:wl_gen_points>)
  set_tests_properties(cluster/inputs/${engine} PROPERTIES TIMEOUT 240)
endforeach()
# Placement keeps input-heavy runners off a slow link (network
# namespaces, node 3 behind 2 Mbit/s; root only, 77 = skipped).  Not
# under a sanitizer: its slower runners make the link's share of a
# runner's time another question.
if(NOT DVM_SANITIZE)
  list(GET DVM_CLUSTER_SYSTEM_ENGINES 0 engine)
  add_test(NAME cluster/slowlink/${engine}
           COMMAND sh ${CL}/slowlink.sh $<TARGET_FILE:dvm> ${engine}
                   $<TARGET_FILE:wl_gen_points>)
  set_tests_properties(cluster/slowlink/${engine} PROPERTIES TIMEOUT 120
                       SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()
# The same programs while a node's link is cut (network namespaces; root
# only, 77 = skipped): heartbeat loss, rerun elsewhere, rejoin.
cluster_wanted(linkcut wanted)
if(wanted)
  foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
    add_test(NAME cluster/linkcut/${engine}
             COMMAND sh ${CL}/linkcut.sh $<TARGET_FILE:dvm> ${engine}
                     $<TARGET_FILE:wl_gen_points> $<TARGET_FILE:wl_kmeans_ref>)
    set_tests_properties(cluster/linkcut/${engine} PROPERTIES TIMEOUT 120
                         SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
# --heartbeat: fractions of a second from 0.4 on (a bound of at least four
# signs of life); less, or not a number, is refused before anything starts.
add_test(NAME cluster/master_bad_heartbeat
         COMMAND $<TARGET_FILE:dvm> master --heartbeat 0.3)
set_tests_properties(cluster/master_bad_heartbeat PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm master: bad heartbeat \\(0.4..3600 seconds\\): 0.3"
  TIMEOUT 30)
add_test(NAME cluster/node_bad_heartbeat
         COMMAND $<TARGET_FILE:dvm> node --master 127.0.0.1:9 --heartbeat 1x)
set_tests_properties(cluster/node_bad_heartbeat PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm node: bad heartbeat \\(0.4..3600 seconds\\): 1x"
  TIMEOUT 30)
# 0.5 is taken: the error is the next option's.
add_test(NAME cluster/master_fraction_heartbeat
         COMMAND $<TARGET_FILE:dvm> master --heartbeat 0.5 --listen nonsense)
set_tests_properties(cluster/master_fraction_heartbeat PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm master: nonsense: address is not HOST:PORT"
  TIMEOUT 30)
add_test(NAME cluster/node_bad_listen
         COMMAND $<TARGET_FILE:dvm> node --master 127.0.0.1:9
                 --listen nonsense)
set_tests_properties(cluster/node_bad_listen PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm node: bad --listen address 'nonsense'"
  TIMEOUT 30)
# Peers that send garbage after the handshake, and raw bytes.
add_executable(cluster_garbage ${CMAKE_SOURCE_DIR}/tests/cluster/garbage.c)
target_link_libraries(cluster_garbage dvm_cluster)
foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
  add_test(NAME cluster/garbage/${engine}
           COMMAND sh ${CL}/garbage.sh $<TARGET_FILE:dvm>
                   $<TARGET_FILE:cluster_garbage> ${engine})
  set_tests_properties(cluster/garbage/${engine} PROPERTIES TIMEOUT 300)
endforeach()
# More clients at once than the master tracks: the one beyond is refused.
add_executable(cluster_manyclients ${CMAKE_SOURCE_DIR}/tests/cluster/manyclients.c)
target_link_libraries(cluster_manyclients dvm_cluster)
add_test(NAME cluster/manyclients
         COMMAND sh ${CL}/manyclients.sh $<TARGET_FILE:dvm>
                 $<TARGET_FILE:cluster_manyclients>)
set_tests_properties(cluster/manyclients PROPERTIES TIMEOUT 120)
# A master whose open_memstream fails answers `dvm status` by closing it;
# one that cannot make a --trace file fails that submit with the reason.
add_library(cluster_fail_libc MODULE
            ${CMAKE_SOURCE_DIR}/tests/cluster/fail_libc.c)
target_compile_options(cluster_fail_libc PRIVATE -fno-sanitize=all)
target_link_options(cluster_fail_libc PRIVATE -fno-sanitize=all)
target_link_libraries(cluster_fail_libc ${CMAKE_DL_LIBS})
add_test(NAME cluster/status_nomem
         COMMAND sh ${CL}/status_nomem.sh $<TARGET_FILE:dvm>
                 $<TARGET_FILE:cluster_fail_libc>)
set_tests_properties(cluster/status_nomem PROPERTIES TIMEOUT 120)
foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
  add_test(NAME cluster/trace_nofd/${engine}
           COMMAND sh ${CL}/trace_nofd.sh $<TARGET_FILE:dvm>
                   $<TARGET_FILE:cluster_fail_libc> ${engine})
  set_tests_properties(cluster/trace_nofd/${engine} PROPERTIES TIMEOUT 120)
endforeach()
# Three network namespaces joined by veth pairs (root only; 77 = skipped).
cluster_wanted(netns wanted)
if(wanted)
  foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
    add_test(NAME cluster/netns/${engine}
             COMMAND sh ${CL}/netns.sh $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(cluster/netns/${engine} PROPERTIES TIMEOUT 300
                         SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
# The cluster transport: in a fuzzing build, a short smoke run of the
# envelope and handshake fuzzer over its seed corpus (tests/fuzz/wire/).
# The unit tests (src/cluster/*_test.c) register themselves.
dvm_fuzz_smoke(wire_smoke wire_fuzz wire 50000 256)
# The cluster's payload decoders: in a fuzzing build, a short smoke run
# over their seed corpus (tests/fuzz/cmsg/).
dvm_fuzz_smoke(cmsg_smoke cmsg_fuzz cmsg 50000 8192)
# The master killed mid-run and started again with its --state: nodes and
# client come back, the output is exactly dvm run's.
foreach(engine ${DVM_CLUSTER_SYSTEM_ENGINES})
  foreach(prog counter treesum)
    cluster_wanted(restart/${prog} wanted)
    if(NOT wanted)
      continue()
    endif()
    add_test(NAME cluster/restart/${prog}/${engine}
             COMMAND sh ${CL}/restart.sh $<TARGET_FILE:dvm> ${engine} ${prog})
    set_tests_properties(cluster/restart/${prog}/${engine} PROPERTIES TIMEOUT 300)
  endforeach()
  # The same with results that bring their data (--results-with-data):
  # saves read the master's own copy.
  cluster_wanted(restart_data wanted)
  if(wanted)
    add_test(NAME cluster/restart_data/counter/${engine}
             COMMAND sh ${CL}/restart.sh $<TARGET_FILE:dvm> ${engine} counter)
    set_tests_properties(cluster/restart_data/counter/${engine} PROPERTIES
                         TIMEOUT 300 ENVIRONMENT DVM_TEST_RESULTS_WITH_DATA=1)
  endif()
  cluster_wanted(resubmit wanted)
  if(wanted)
    add_test(NAME cluster/resubmit/${engine}
             COMMAND sh ${CL}/resubmit.sh $<TARGET_FILE:dvm> ${engine})
    set_tests_properties(cluster/resubmit/${engine} PROPERTIES TIMEOUT 300)
  endif()
  add_test(NAME cluster/verdict/${engine}
           COMMAND sh ${CL}/verdict.sh $<TARGET_FILE:dvm> ${engine})
  set_tests_properties(cluster/verdict/${engine} PROPERTIES TIMEOUT 300)
endforeach()
