/*
 * cc_int.h -- the compiler's internal data: tokens, types, the syntax tree,
 * objects, and the compilation context they all hang off.
 *
 * A compilation is one cc_ctx.  Everything it allocates comes from its
 * arena (carena.c) and is released at once when the compilation ends, so
 * the phases never free and a diagnostic can end the compilation from any
 * depth with a longjmp back to cc_compile (cdiag.c).  The phases:
 *
 *   clex    bytes -> tokens (with file, line, column)
 *   cpp     tokens -> tokens: directives and macro expansion
 *   cparse  tokens -> typed tree (ctypes for types and conversions,
 *           cfold for constants), one tree per translation unit
 *   cgen    trees -> DISA text
 *
 * The library (clib.c) is c0 source compiled as the last translation unit;
 * only the functions the program reaches are emitted.
 */
#ifndef DVM_CC_INT_H
#define DVM_CC_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>


struct cc_opts;
typedef struct cc_ctx cc_ctx;
typedef struct ctype ctype;
typedef struct cnode cnode;
typedef struct cobj cobj;

/* ---- buffers (cbuf.c) ---------------------------------------------- */

/*
 * A buffer's text is on the heap, not in the arena (the final text is
 * handed to the caller), so a diagnostic's longjmp would leak it.  While a
 * buffer holds text, its block is recorded in the compilation's table of
 * live blocks (cc_ctx.bufs, slot `slot`), which the failure path releases.
 * The table is on the heap because the cbufs themselves are often locals
 * of frames that the longjmp has already left.
 */
typedef struct cbuf {
    char *s;
    size_t len, cap;
    size_t slot;               /* in cc_ctx.bufs while s != NULL */
} cbuf;

void cbuf_putn(cc_ctx *c, cbuf *b, const char *s, size_t n);
void cbuf_puts(cc_ctx *c, cbuf *b, const char *s);
void cbuf_printf(cc_ctx *c, cbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cbuf_free(cc_ctx *c, cbuf *b);
char *cbuf_take(cc_ctx *c, cbuf *b);
void cbuf_free_all(cc_ctx *c);

/* ---- arena (carena.c) ---------------------------------------------- */

void *carena_alloc(cc_ctx *c, size_t n);
char *carena_strndup(cc_ctx *c, const char *s, size_t n);
char *carena_printf(cc_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void carena_free_all(cc_ctx *c);

/* ---- tokens (clex.c) ----------------------------------------------- */

typedef enum {
    TK_IDENT, TK_PUNCT, TK_KEYWORD, TK_NUM, TK_STR, TK_CHAR, TK_PPNUM, TK_EOF
} tk_kind;

typedef struct cfile {
    const char *name;          /* as given or as found */
    const char *text;
    size_t len;
    int index;
    bool prelude;              /* the library's declarations */
} cfile;

typedef struct hideset hideset;

typedef struct token {
    tk_kind kind;
    struct token *next;
    const char *loc;           /* into the file's text */
    int len;
    const cfile *file;
    int line, col;
    bool bol;                  /* first on its line */
    bool space;                /* preceded by white space */
    hideset *hs;               /* macros that may not expand it again */
    /* literals */
    int64_t ival;
    double fval;
    ctype *ty;                 /* of a number, character or string */
    char *str;                 /* a string's bytes (with its NUL) */
    int strlen;                /* bytes including the NUL */
} token;

token *clex_file(cc_ctx *c, const cfile *f);
token *clex_copy(cc_ctx *c, const token *t);
bool clex_is(const token *t, const char *s);
void clex_convert_keywords(cc_ctx *c, token *t);
void clex_number(cc_ctx *c, token *t);

/* ---- diagnostics (cdiag.c) ----------------------------------------- */

_Noreturn void cdiag_error(cc_ctx *c, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cdiag_warn(cc_ctx *c, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void cdiag_error_at(cc_ctx *c, const cfile *f, const char *at,
                              const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
_Noreturn void cdiag_fatal(cc_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- preprocessor (cpp.c) ------------------------------------------ */

token *cpp_run(cc_ctx *c, token *t);
void cpp_init(cc_ctx *c);
void cpp_define(cc_ctx *c, const char *name, const char *value);
void cpp_undef(cc_ctx *c, const char *name);
cfile *cpp_new_file(cc_ctx *c, const char *name, const char *text,
                    size_t len);
char *cpp_read_file(cc_ctx *c, const char *path, size_t *len);
const char *clib_header(const char *name);
const char *clib_prelude(void);
const char *clib_source(void);

/* ---- types (ctypes.c) ---------------------------------------------- */

typedef enum {
    TY_VOID, TY_BOOL, TY_CHAR, TY_SHORT, TY_INT, TY_LONG, TY_ENUM,
    TY_DOUBLE, TY_PTR, TY_ARRAY, TY_FUNC, TY_STRUCT, TY_UNION
} ty_kind;

typedef struct member {
    struct member *next;
    ctype *ty;
    token *name;
    long offset;
} member;

struct ctype {
    ty_kind kind;
    long size;
    int align;
    bool uns;
    bool is_const;
    ctype *base;               /* pointer target, array element, result */
    long len;                  /* array length; -1 incomplete */
    member *members;
    bool complete;
    ctype *origin;             /* the unqualified type a const copy came from */
    /* functions */
    ctype *params;             /* list through next */
    ctype *next;
    token *name;               /* declarator name */
    bool oldstyle;             /* f() : parameters unknown */
};

extern ctype *ty_void, *ty_bool, *ty_char, *ty_uchar, *ty_short, *ty_ushort,
    *ty_int, *ty_uint, *ty_long, *ty_ulong, *ty_double;

bool ctypes_is_integer(const ctype *t);
bool ctypes_is_arith(const ctype *t);
bool ctypes_is_scalar(const ctype *t);
bool ctypes_is_ptr(const ctype *t);      /* pointer or array */
bool ctypes_is_aggr(const ctype *t);
ctype *ctypes_copy(cc_ctx *c, const ctype *t);
ctype *ctypes_ptr_to(cc_ctx *c, ctype *base);
ctype *ctypes_array_of(cc_ctx *c, ctype *base, long len);
ctype *ctypes_func(cc_ctx *c, ctype *ret);
ctype *ctypes_struct(cc_ctx *c, bool is_union);
ctype *ctypes_unqual(ctype *t);
bool ctypes_compatible(const ctype *a, const ctype *b);
ctype *ctypes_common(ctype *a, ctype *b);
char *ctypes_name(cc_ctx *c, const ctype *t);
/* DISA suffix of a scalar type: "b", "ub", ..., "f" */
const char *ctypes_sfx(const ctype *t);

/* ---- tree (cparse.c) ----------------------------------------------- */

typedef enum {
    ND_NUM, ND_FNUM, ND_VAR, ND_STR, ND_FUNCREF,
    ND_ADD, ND_SUB, ND_MUL, ND_DIV, ND_MOD, ND_SHL, ND_SHR,
    ND_BITAND, ND_BITOR, ND_BITXOR,
    ND_EQ, ND_NE, ND_LT, ND_LE, ND_GT, ND_GE,
    ND_LOGAND, ND_LOGOR, ND_NOT, ND_BITNOT, ND_NEG,
    ND_ASSIGN, ND_COND, ND_COMMA, ND_MEMBER, ND_ADDR, ND_DEREF,
    ND_CAST, ND_CALL, ND_PREINC, ND_POSTINC, /* val = +1 or -1, scaled */
    ND_OPASSIGN, /* lhs op= rhs: op in node->op */
    ND_BUILTIN,  /* __rid, __attempt */
    /* statements */
    ND_BLOCK, ND_EXPR_STMT, ND_IF, ND_FOR, ND_DO, ND_SWITCH, ND_CASE,
    ND_BREAK, ND_CONTINUE, ND_RETURN, ND_GOTO, ND_LABEL, ND_COMMIT,
    ND_ABORT, ND_RUNNER, ND_ASM, ND_NULL, ND_VARINIT, ND_SEG, ND_ZERO
} nd_kind;

typedef struct range {
    struct range *next;
    cnode *base;               /* address (pointer value) */
    cnode *lo, *hi;            /* segment bounds (long), or NULL */
    long elem;                 /* segment element size */
    long size;                 /* plain range length */
    token *tok;
} range;

struct cnode {
    nd_kind kind;
    cnode *next;               /* statements in a block, arguments */
    ctype *ty;
    token *tok;
    cnode *lhs, *rhs;
    nd_kind op;                /* ND_OPASSIGN: the operator */
    /* if / for / while / do / ?: */
    cnode *cond, *then, *els, *init, *inc;
    cnode *body;
    /* values */
    int64_t val;
    double fval;
    cobj *var;
    member *mem;
    /* calls and runners */
    cnode *args;
    ctype *fty;                /* called function type */
    cobj *func;                /* direct callee, or NULL */
    range *usings, *watches;
    /* switch / case / labels */
    cnode *cases, *next_case, *default_case;
    char *label;               /* generated label of a case/loop end */
    char *brk, *cont;
    char *name;                /* goto / label: user name */
    int line;
    /* asm */
    char *asm_text;
    int builtin;
};

/* ---- objects ------------------------------------------------------- */

typedef enum { SC_NONE, SC_STATIC, SC_EXTERN, SC_REGISTER, SC_STANDALONE,
               SC_TYPEDEF } storage;

typedef struct reloc {
    struct reloc *next;
    long offset;
    const char *sym;
    long addend;
} reloc;

struct cobj {
    cobj *next;
    char *name;                /* C name */
    char *sym;                 /* assembler symbol */
    ctype *ty;
    token *tok;
    bool is_local, is_func, is_def, is_static, is_lib;
    storage sc;
    /* locals */
    long offset;               /* frame offset (negative from FP, or fixed) */
    bool is_param;
    int param_slot;
    /* globals */
    unsigned char *init;       /* initial bytes, or NULL: zero */
    reloc *relocs;
    bool in_text;              /* const initialised / string literal */
    bool tentative;
    /* functions */
    cnode *body;
    cobj *locals;              /* all locals incl. params (list) */
    cobj *params;              /* through next_param */
    cobj *next_param;
    long stack_size;           /* locals */
    bool addr_taken, is_runner_target, calls_indirect, frame, reached;
    bool is_builtin_decl;      /* declared by the prelude only */
    bool addr_word;            /* c0.a.SYM (its address) emitted */
    struct calledge *calls;
    int scc_index, scc_low;
    bool on_stack;
    int tu;
};

typedef struct calledge {
    struct calledge *next;
    cobj *to;
} calledge;

/* ---- context ------------------------------------------------------- */

struct arena_chunk;

struct cc_ctx {
    jmp_buf fail;
    FILE *diag;
    const struct cc_opts *opts;
    int nerrors, nwarnings;
    struct arena_chunk *chunks;
    char **bufs;               /* live buffer blocks (cbuf.c) */
    size_t nbufs, capbufs;
    /* preprocessor */
    struct macro *macros;
    struct cond_incl *conds;
    cfile **files;
    int nfiles;
    int depth;
    int nesting;               /* #if operators and macro arguments */
    /* whole program */
    cobj *globals;             /* every global object and function */
    cobj *funcs;
    int tu;
    bool in_lib;
    int nstrings;
    cbuf *strings_out;
};

cnode *cparse_unit(cc_ctx *c, token *t);
void cgen_program(cc_ctx *c, cbuf *out);
cobj *cparse_find_global(cc_ctx *c, const char *name);

/* constant evaluation (cfold.c) */
bool cfold_is_const(cnode *n);
int64_t cfold_int(cc_ctx *c, cnode *n);
cnode *cfold(cc_ctx *c, cnode *n);
int64_t cfold_trunc(const ctype *t, int64_t v);

#endif
