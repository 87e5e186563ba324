# The cluster transport: in a fuzzing build, a short smoke run of the
# envelope and handshake fuzzer over its seed corpus (tests/fuzz/wire/).
# The unit tests (src/cluster/*_test.c) register themselves.
dvm_fuzz_smoke(wire_smoke wire_fuzz wire 50000 256)
