/*
 * asm_int.h -- the assembler's internal state, shared by its modules:
 *
 *   asm.c       passes, layout convergence, building the dvm_program, API
 *   asm_src.c   reading files, splitting lines, expanding .include
 *   asm_sym.c   the symbol table (hash) with per-pass definitions
 *   asm_insn.c  instructions: operands, options, type propagation, encoding
 *   asm_dir.c   directives
 *
 * The assembler runs passes over the expanded line list until the layout
 * settles (every symbol keeps its value and the .data base stays), then one
 * final pass that reports errors and emits bytes.  A symbol used before its
 * definition in a pass takes its value from the previous pass, except a
 * constant (`NAME = E`, `.equ`), which from the second pass on is resolved
 * through its definition line at its first use (asm_sym.c).
 */
#ifndef DVM_ASM_INT_H
#define DVM_ASM_INT_H

#include <stdint.h>
#include <stdio.h>

#include "asm/expr.h"
#include "asm/lex.h"
#include "image/program.h"
#include "isa/isa.h"
#include "util/status.h"

#define ASM_MAX_ERRORS 50
#define ASM_MAX_INCLUDE_DEPTH 16
#define ASM_MAX_PASSES 8
#define ASM_MAX_FILE_BYTES (64u << 20)
#define ASM_MAX_SOURCE_BYTES (64u << 20)   /* all files, includes counted */
#define ASM_MAX_LINES (1u << 23)           /* all files, includes counted */
#define ASM_MAX_BYTES (64u << 20)          /* initialised bytes per program */
#define ASM_MAX_NAME 4096                  /* image limit on names */
#define ASM_SR_END DISA_INPUT_BASE         /* segments end at or below */
#define ASM_ZERO_SPLIT 4096u               /* a zero tail this long ends its
                                              segment when bytes follow */

enum { SEC_TEXT, SEC_DATA, SEC_COUNT };

typedef struct asm_file {
    char *path;         /* as used in diagnostics; owned */
    char *canon;        /* realpath, or path; owned (cycle detection) */
    char *buf;          /* contents; owned */
    size_t len;
} asm_file;

typedef struct asm_line {
    uint32_t file;      /* index into files */
    uint32_t lineno;    /* 1-based */
    const char *text;   /* into files[file].buf */
    size_t len;
} asm_line;

typedef struct asm_sym {
    char *name;         /* owned; NULL: empty slot */
    uint64_t value;     /* this pass's value, or the previous pass's */
    int pass;           /* last pass that defined it (0: none) */
    uint32_t def_line;  /* 1 + line index of its `=`/.equ, 0: a label */
    int early_pass;     /* pass whose early_value is valid (asm_sym.c) */
    uint64_t early_value; /* value resolved ahead of its line this pass */
    int visiting;       /* pass in which it is on the resolver's stack */
} asm_sym;

typedef struct asm_symtab {
    asm_sym *slots;     /* open addressing, cap a power of two */
    size_t cap, n;
} asm_symtab;

typedef struct asm_seg {
    uint64_t addr;
    int sec;
    uint8_t *bytes;     size_t size, cap;   /* stored bytes */
    uint64_t tail;      /* zero bytes after them, not stored */
    uint32_t *offs;     size_t noffs, offcap;
    uint32_t line;      /* index of the line that started it */
} asm_seg;

typedef struct asm_ctx {
    FILE *diag;
    int nerrors;        /* reported in the final pass (or while reading) */
    int report;         /* 1 in the final pass */
    int pass;
    int unstable;       /* a definition changed in this pass */
    dvm_status fatal;   /* DVM_ENOMEM once memory ran out */

    asm_file *files;    size_t nfiles, filecap;
    uint64_t src_bytes;             /* read so far, every include counted */
    asm_line *lines;    size_t nlines, linecap;
    size_t cur;         /* index of the line being assembled */
    lex_buf lex;

    asm_symtab syms;
    /* Resolving constants ahead of their lines (asm_sym.c). */
    const asm_sym *defining;        /* constant whose line is being run */
    asm_sym *missing;               /* what a resolving evaluation lacked */
    int resolving;                  /* evaluating on the resolver's behalf */
    asm_sym **stack;    size_t nstack, stackcap;
    lex_buf early_lex;              /* tokens of a constant's line */

    int sec;                        /* current section */
    uint64_t loc[SEC_COUNT];        /* location counters */
    uint64_t data_base;             /* used in this pass */
    int open_seg[SEC_COUNT];        /* index into segs or -1 */
    asm_seg *segs;      size_t nsegs, segcap;
    uint64_t total;                 /* bytes emitted */

    int have_entry;     uint64_t entry;
    prog_range *heap;   size_t nheap, heapcap;
    prog_channel *chans; size_t nchans, chancap;
} asm_ctx;

/* Reports "file:line:col: error: fmt" for the current line (in the final
 * pass only) and counts it. */
void asm_error(asm_ctx *c, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reports at a given line index (used while reading, before any pass). */
void asm_error_at(asm_ctx *c, size_t line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* asm_src.c: reads the top file (from disk, or src when non-NULL) and every
 * file it includes into c->files and c->lines.  Unreadable top file: DVM_EIO
 * with a message, nothing printed; problems with included files are
 * reported at the .include line.  Returns DVM_OK, DVM_EIO or DVM_ENOMEM. */
dvm_status asm_read_source(asm_ctx *c, const char *path, const char *src,
                           size_t len);
void asm_free_source(asm_ctx *c);

/* asm_sym.c */
void symtab_free(asm_symtab *t);
/* Finds name[0..len); NULL when absent. */
asm_sym *symtab_find(const asm_symtab *t, const char *name, size_t len);
/* Finds or inserts name[0..len); NULL on ENOMEM. */
asm_sym *symtab_intern(asm_symtab *t, const char *name, size_t len);
/* Defines the symbol of token tok with value v in the current pass,
 * reporting duplicates and predefined names.  Returns DVM_OK or failure. */
dvm_status asm_define(asm_ctx *c, const lex_token *tok, uint64_t v);
/* Defines a constant (`NAME = E`, `.equ NAME, E`) like asm_define and
 * remembers its line, so later passes can resolve it ahead of the line. */
dvm_status asm_define_constant(asm_ctx *c, const lex_token *tok, uint64_t v);
/* The expression lookup callback over c's symbols and the predefined.  A
 * constant used before its line is resolved through its own definition
 * (and those it uses, in dependency order) rather than taken from the
 * previous pass, so chains of forward definitions of any length settle in
 * one pass; a cycle is an error. */
dvm_status asm_lookup(void *ctx, const lex_token *tok, uint64_t *v);

/* asm_insn.c: assembles the instruction at the cursor (the mnemonic). */
void asm_instruction(asm_ctx *c, expr_cursor *cur);

/* asm_dir.c: executes the directive at the cursor (its name). */
void asm_directive(asm_ctx *c, expr_cursor *cur);

/* asm.c: emission and expressions for the modules. */
/* Appends n bytes (p, or zeros when p is NULL) at the location counter of
 * the current section; in the final pass stores them, recording an
 * instruction start when insn.  Reports range errors at col. */
dvm_status asm_emit(asm_ctx *c, const uint8_t *p, size_t n, int insn,
                    int col);
/* Evaluates an expression, reporting failures at the offending token. */
dvm_status asm_expr(asm_ctx *c, expr_cursor *cur, uint64_t *v);
/* Reports unless the cursor is at the end of the line. */
dvm_status asm_expect_eol(asm_ctx *c, expr_cursor *cur);
/* Reports unless the cursor is at punctuation ch, then moves past it. */
dvm_status asm_expect(asm_ctx *c, expr_cursor *cur, int ch, const char *what);

#endif
