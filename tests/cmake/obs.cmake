# Observability: a real Prometheus server scrapes a running DVM; the
# dashboard in headless Chromium while a program runs (its screenshot is
# kept as ${CMAKE_BINARY_DIR}/obs-artifacts/dashboard.png); --http and
# --linger refused when malformed.  The first two skip (exit 77) without
# Prometheus, Chromium, node or the npm packages.
find_program(PYTHON3 NAMES python3)
find_program(PROMETHEUS NAMES prometheus)
if(NOT PROMETHEUS)
  set(PROMETHEUS prometheus)
endif()
set(OBS_T ${CMAKE_SOURCE_DIR}/tests/obs)
if(PYTHON3)
  add_test(NAME obs/prometheus
           COMMAND ${PYTHON3} ${OBS_T}/prometheus_check.py $<TARGET_FILE:dvm>
                   ${PROMETHEUS} ${CMAKE_SOURCE_DIR})
  add_test(NAME obs/dashboard
           COMMAND ${PYTHON3} ${OBS_T}/dashboard_check.py $<TARGET_FILE:dvm>
                   ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/obs-artifacts)
  set_tests_properties(obs/prometheus obs/dashboard PROPERTIES
                       SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()
add_test(NAME obs/http_bad_address
         COMMAND $<TARGET_FILE:dvm> run --http 127.0.0.1:99999
                 ${CMAKE_SOURCE_DIR}/examples/hello.dasm)
set_tests_properties(obs/http_bad_address PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm: --http 127.0.0.1:99999: bad http address")
add_test(NAME obs/master_http_bad_address
         COMMAND $<TARGET_FILE:dvm> master --listen 127.0.0.1:0
                 --http 127.0.0.1:99999)
set_tests_properties(obs/master_http_bad_address PROPERTIES
  PASS_REGULAR_EXPRESSION "dvm: --http 127.0.0.1:99999: bad http address"
  TIMEOUT 30)
add_test(NAME obs/linger_needs_http
         COMMAND $<TARGET_FILE:dvm> run --linger 1
                 ${CMAKE_SOURCE_DIR}/examples/hello.dasm)
set_tests_properties(obs/linger_needs_http PROPERTIES
  PASS_REGULAR_EXPRESSION "--linger needs --http")
add_test(NAME obs/version COMMAND $<TARGET_FILE:dvm> --version)
set_tests_properties(obs/version PROPERTIES
  PASS_REGULAR_EXPRESSION "^dvm [0-9]+\\.[0-9]+\\.[0-9]+ \\(DISA 1\\.1, c0 1\\.0\\)")

# Installing like a system service: the Debian package in a scratch root,
# and cmake --install (DESTDIR) with the same files.  In the normal build
# only: it checks files, not memory.
if(NOT DVM_SANITIZE)
  add_test(NAME obs/package
           COMMAND sh ${OBS_T}/package_check.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(obs/package PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()

# The dashboard under load: a feeder plays a two-node DVM at 100,000
# runners a second to the obs hub; the page must keep polling and drawing
# (a bounded number of bars), list every node and RComp, with no error.
add_executable(obs_feeder ${OBS_T}/obs_feeder.c)
target_link_libraries(obs_feeder dvm_obs)
if(PYTHON3)
  add_test(NAME obs/dashboard_load
           COMMAND ${PYTHON3} ${OBS_T}/dashboard_check.py $<TARGET_FILE:dvm>
                   ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/obs-artifacts
                   --feeder $<TARGET_FILE:obs_feeder>)
  set_tests_properties(obs/dashboard_load PROPERTIES
                       SKIP_RETURN_CODE 77 TIMEOUT 120)
  # Both install the npm packages into the same directory, once.
  set_tests_properties(obs/dashboard obs/dashboard_load PROPERTIES
                       RESOURCE_LOCK obs_npm)
endif()

# --linger ends by itself, and the run's output and status are unchanged.
add_test(NAME obs/linger_ends
         COMMAND $<TARGET_FILE:dvm> run -n 2 --engine interp
                 --http 127.0.0.1:0 --linger 0.3
                 ${CMAKE_SOURCE_DIR}/examples/hello.dasm)
set_tests_properties(obs/linger_ends PROPERTIES
  PASS_REGULAR_EXPRESSION "hello, world" TIMEOUT 30)

# A cluster master's --http: a master and two nodes (n1, n2) on loopback
# (tests/cluster/lib.sh) run examples/counter.dasm; a real Prometheus
# scrapes the master, and the dashboard in headless Chromium lists both
# nodes (screenshot ${CMAKE_BINARY_DIR}/obs-artifacts/dashboard_cluster.png).
if(PYTHON3)
  foreach(mode prometheus dashboard)
    add_test(NAME obs/cluster_${mode}
             COMMAND sh ${OBS_T}/cluster.sh $<TARGET_FILE:dvm> ${PROMETHEUS}
                     ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/obs-artifacts
                     ${mode})
    set_tests_properties(obs/cluster_${mode} PROPERTIES
                         SKIP_RETURN_CODE 77 TIMEOUT 180)
  endforeach()
  set_tests_properties(obs/cluster_dashboard PROPERTIES RESOURCE_LOCK obs_npm)
endif()
