/*
 * dis.h -- the disassembler: prints a program as source that re-assembles
 * to a byte-identical image (labels from the symbol table, data as data,
 * every operand with its explicit type).
 */
#ifndef DVM_DIS_H
#define DVM_DIS_H

#include <stdio.h>

#include "image/program.h"
#include "util/status.h"

/* Writes the source of p to out.  Returns DVM_EIO on a write error. */
dvm_status dis_write(const dvm_program *p, FILE *out);

#endif
