/* empty.c -- placeholder translation unit for a subsystem with no sources yet. */
typedef int dvm_empty_unit;
