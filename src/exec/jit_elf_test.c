/*
 * jit_elf_test.c -- unit tests of jit_elf.c, the loader of translated
 * object code without LLVM.
 *
 * A hand-made object (a .text calling an import through R_X86_64_64,
 * reading its .rodata through R_X86_64_64 and R_X86_64_PC32, an .eh_frame
 * whose relocation no loader handles, a FILE symbol of the function's
 * name) loads and runs; then every truncation of it, and each field made
 * wrong in turn, is refused: malformed as DVM_EFORMAT, unsupported (a
 * relocation type, an unknown import, a value out of range) as
 * DVM_EUNSUPP; allocation failures give DVM_ENOMEM.  With LLVM, real regions are translated with a copy of
 * their object code, which is loaded here and run against LLVM's own
 * load of it and against the interpreter.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "exec/jit_elf.h"
#include "util/alloc.h"

/* ---- a hand-made object ---------------------------------------------------- */

enum {                          /* sections */
    S_NULL, S_TEXT, S_RO, S_RELA, S_SYMTAB, S_STRTAB, S_SHSTR, S_EH,
    S_RELA_EH, S_N
};
enum { Y_NULL, Y_FILE, Y_RO, Y_FN, Y_IMP, Y_N };     /* symbols */

static const char strtab[] = "\0f\0dvm_rt_test";     /* f at 1, imp at 3 */
static const char shstr[] = "\0.text\0.rodata\0.rela.text\0.symtab\0"
                            ".strtab\0.shstrtab\0.eh_frame\0.rela.eh_frame";
static const uint32_t shname[S_N] = {0, 1, 7, 15, 26, 34, 42, 52, 62};

/* The object's parts, laid out at fixed offsets (OFF_*) before the
 * section table. */
typedef struct tobj {
    Elf64_Ehdr eh;
    uint8_t text[48];
    uint8_t ro[16];
    Elf64_Rela rela[3];
    Elf64_Sym sym[Y_N];
    char str[16];
    char shs[80];
    uint8_t ehf[8];
    Elf64_Rela rela_eh[1];
    Elf64_Shdr sh[S_N];
} tobj;

/* f: rax = [ro] (R_X86_64_64 ro+0); edx = [rip -> ro+8] (PC32);
 * if eax != edx + 1: return -1; else tail-call dvm_rt_test (R_X86_64_64). */
static const uint8_t code[] = {
    0x48, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0,         /* movabs rax, [ro] */
    0x8b, 0x15, 0, 0, 0, 0,                     /* mov edx, [rip+ro+8] */
    0xff, 0xc2,                                 /* inc edx */
    0x39, 0xd0,                                 /* cmp eax, edx */
    0x75, 0x0c,                                 /* jne fail */
    0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,         /* movabs rax, imp */
    0xff, 0xe0,                                 /* jmp rax */
    0xb8, 0xff, 0xff, 0xff, 0xff,               /* fail: mov eax, -1 */
    0xc3,                                       /* ret */
};

/* Section header i of t at file offset off, size n. */
static void sect(tobj *t, int i, uint32_t type, uint64_t flags, size_t off,
                 size_t n, uint32_t link, uint32_t info, uint64_t align,
                 uint64_t ent)
{
    t->sh[i] = (Elf64_Shdr){shname[i], type, flags, 0, off, n, link, info,
                            align, ent};
}

/* Builds the valid object into t (sizeof *t bytes). */
static void make(tobj *t)
{
    _Static_assert(sizeof code <= sizeof t->text, "code fits .text");
    memset(t, 0, sizeof *t);
    memcpy(t->eh.e_ident, ELFMAG, SELFMAG);
    t->eh.e_ident[EI_CLASS] = ELFCLASS64;
    t->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    t->eh.e_ident[EI_VERSION] = EV_CURRENT;
    t->eh.e_type = ET_REL;
    t->eh.e_machine = EM_X86_64;
    t->eh.e_version = EV_CURRENT;
    t->eh.e_ehsize = sizeof t->eh;
    t->eh.e_shentsize = sizeof(Elf64_Shdr);
    t->eh.e_shnum = S_N;
    t->eh.e_shstrndx = S_SHSTR;
    t->eh.e_shoff = offsetof(tobj, sh);
    memcpy(t->text, code, sizeof code);
    uint64_t q = 0x1122334455667788ull;
    uint32_t d = 0x55667787u;
    memcpy(t->ro, &q, 8);
    memcpy(t->ro + 8, &d, 4);
    memcpy(t->str, strtab, sizeof strtab);
    memcpy(t->shs, shstr, sizeof shstr);
    t->rela[0] = (Elf64_Rela){2, ELF64_R_INFO(Y_RO, R_X86_64_64), 0};
    t->rela[1] = (Elf64_Rela){12, ELF64_R_INFO(Y_RO, R_X86_64_PC32), 8 - 4};
    t->rela[2] = (Elf64_Rela){24, ELF64_R_INFO(Y_IMP, R_X86_64_64), 0};
    t->rela_eh[0] = (Elf64_Rela){0, ELF64_R_INFO(Y_FN, R_X86_64_GOTPCREL),
                                 0};
    t->sym[Y_FILE] = (Elf64_Sym){1, ELF64_ST_INFO(STB_LOCAL, STT_FILE), 0,
                                 SHN_ABS, 0, 0};
    t->sym[Y_RO] = (Elf64_Sym){0, ELF64_ST_INFO(STB_LOCAL, STT_SECTION), 0,
                               S_RO, 0, 0};
    t->sym[Y_FN] = (Elf64_Sym){1, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 0,
                               S_TEXT, 0, sizeof code};
    t->sym[Y_IMP] = (Elf64_Sym){3, ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), 0,
                                SHN_UNDEF, 0, 0};
    sect(t, S_TEXT, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
         offsetof(tobj, text), sizeof code, 0, 0, 16, 0);
    sect(t, S_RO, SHT_PROGBITS, SHF_ALLOC | SHF_MERGE,
         offsetof(tobj, ro), 16, 0, 0, 16, 16);
    sect(t, S_RELA, SHT_RELA, SHF_INFO_LINK, offsetof(tobj, rela),
         sizeof t->rela, S_SYMTAB, S_TEXT, 8, sizeof(Elf64_Rela));
    sect(t, S_SYMTAB, SHT_SYMTAB, 0, offsetof(tobj, sym), sizeof t->sym,
         S_STRTAB, Y_FN, 8, sizeof(Elf64_Sym));
    sect(t, S_STRTAB, SHT_STRTAB, 0, offsetof(tobj, str), sizeof strtab,
         0, 0, 1, 0);
    sect(t, S_SHSTR, SHT_STRTAB, 0, offsetof(tobj, shs), sizeof shstr,
         0, 0, 1, 0);
    sect(t, S_EH, SHT_X86_64_UNWIND, SHF_ALLOC, offsetof(tobj, ehf), 8,
         0, 0, 8, 0);
    sect(t, S_RELA_EH, SHT_RELA, SHF_INFO_LINK, offsetof(tobj, rela_eh),
         sizeof t->rela_eh, S_SYMTAB, S_EH, 8, sizeof(Elf64_Rela));
}

/* The import the object calls. */
static int imp_test(jit_ctx *c, uint8_t *w)
{
    (void)c;
    (void)w;
    return 42;
}

static const jit_helper imps[] = {
    {"dvm_rt_other", (void (*)(void))abort},
    {"dvm_rt_test", (void (*)(void))imp_test},
};

/* Loads a copy of the n bytes at p (on the heap, exactly n bytes) with
 * imports imp (nimp) and function name; on success *fn runs and the
 * image is freed. */
static dvm_status load(const void *p, size_t n, const jit_helper *imp,
                       size_t nimp, const char *name, int *ran)
{
    uint8_t *copy = dvm_malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, p, n);
    jit_elf_image *img = NULL;
    jit_fn fn = NULL;
    dvm_status st = jit_elf_load(copy, n, imp, nimp, name, &img, &fn);
    dvm_free(copy);
    if (!st) {
        assert_non_null(img);
        *ran = fn(NULL, NULL);
        jit_elf_free(img);
    } else {
        assert_null(img);
        assert_null(fn);
    }
    return st;
}

/* Loads t with imps and "f". */
static dvm_status load_t(const tobj *t, int *ran)
{
    return load(t, sizeof *t, imps, 2, "f", ran);
}

/* The object loads, its relocations (absolute, PC-relative, the import)
 * hold, and its .eh_frame, with a relocation nothing handles, is skipped
 * (by its type, or else by its name). */
static void test_loads_and_runs(void **state)
{
    (void)state;
    tobj t;
    int ran = 0;
    make(&t);
    assert_int_equal(load_t(&t, &ran), DVM_OK);
    assert_int_equal(ran, 42);
    t.sh[S_EH].sh_type = SHT_PROGBITS;
    ran = 0;
    assert_int_equal(load_t(&t, &ran), DVM_OK);
    assert_int_equal(ran, 42);
    t.sh[S_EH].sh_name = shname[S_RO];      /* loaded now: GOTPCREL */
    assert_int_equal(load_t(&t, &ran), DVM_EUNSUPP);
    assert_non_null(strstr(status_message(), "type 9"));
}

/* Every truncation of the object is refused as malformed. */
static void test_truncated(void **state)
{
    (void)state;
    tobj t;
    int ran;
    make(&t);
    for (size_t n = 0; n < sizeof t; n++)
        assert_int_equal(load(&t, n, imps, 2, "f", &ran), DVM_EFORMAT);
}

/* One field of the object made wrong, and what loading it returns. */
typedef struct mutation {
    const char *what;
    void (*apply)(tobj *t);
    dvm_status want;
} mutation;

static void m_class(tobj *t) { t->eh.e_ident[EI_CLASS] = ELFCLASS32; }
static void m_machine(tobj *t) { t->eh.e_machine = EM_386; }
static void m_type(tobj *t) { t->eh.e_type = ET_EXEC; }
static void m_shoff(tobj *t) { t->eh.e_shoff = UINT64_MAX - 10; }
static void m_shnum(tobj *t) { t->eh.e_shnum = 0; }
static void m_shentsize(tobj *t) { t->eh.e_shentsize = 40; }
static void m_text_off(tobj *t) { t->sh[S_TEXT].sh_offset = sizeof *t; }
static void m_text_size(tobj *t) { t->sh[S_TEXT].sh_size = UINT64_MAX; }
static void m_ro_off(tobj *t) { t->sh[S_RO].sh_offset = UINT64_MAX - 4; }
static void m_align3(tobj *t) { t->sh[S_RO].sh_addralign = 3; }
static void m_align_big(tobj *t) { t->sh[S_TEXT].sh_addralign = 1 << 20; }
static void m_symtab_link(tobj *t) { t->sh[S_SYMTAB].sh_link = 0; }
static void m_symtab_link_far(tobj *t) { t->sh[S_SYMTAB].sh_link = 99; }
static void m_symtab_ent(tobj *t) { t->sh[S_SYMTAB].sh_entsize = 16; }
static void m_no_symtab(tobj *t) { t->sh[S_SYMTAB].sh_type = SHT_PROGBITS; }
static void m_two_symtabs(tobj *t) { t->sh[S_SHSTR].sh_type = SHT_SYMTAB; }
static void m_str_unterminated(tobj *t) { t->sh[S_STRTAB].sh_size = 2; }
static void m_sym_name(tobj *t) { t->sym[Y_IMP].st_name = 1000; }
static void m_sym_index(tobj *t)
{
    t->rela[2].r_info = ELF64_R_INFO(99, R_X86_64_64);
}
static void m_sym_section(tobj *t) { t->sym[Y_RO].st_shndx = 99; }
static void m_sym_value(tobj *t) { t->sym[Y_RO].st_value = 1000; }
static void m_rel_off(tobj *t) { t->rela[2].r_offset = 36; }
static void m_rel_off_wrap(tobj *t) { t->rela[2].r_offset = UINT64_MAX - 2; }
static void m_rel_target(tobj *t) { t->sh[S_RELA].sh_info = 99; }
static void m_rel_link(tobj *t) { t->sh[S_RELA].sh_link = S_STRTAB; }
static void m_rel_ent(tobj *t) { t->sh[S_RELA].sh_entsize = 16; }
static void m_rel_size(tobj *t) { t->sh[S_RELA].sh_size = 30; }
static void m_fn_undef(tobj *t) { t->sym[Y_FN].st_shndx = SHN_UNDEF; }
static void m_fn_data(tobj *t) { t->sym[Y_FN].st_shndx = S_RO; }
static void m_fn_beyond(tobj *t) { t->sym[Y_FN].st_value = 48; }
static void m_rel_type(tobj *t)
{
    t->rela[0].r_info = ELF64_R_INFO(Y_RO, R_X86_64_GOTPCREL);
}
static void m_rel_nobits(tobj *t) { t->sh[S_RELA].sh_type = SHT_REL; }
static void m_init_array(tobj *t) { t->sh[S_RO].sh_type = SHT_INIT_ARRAY; }
static void m_tls(tobj *t) { t->sh[S_RO].sh_flags |= SHF_TLS; }
static void m_common(tobj *t) { t->sym[Y_RO].st_shndx = SHN_COMMON; }
static void m_abs32s(tobj *t)   /* the mapping lies above 2 GiB */
{
    t->rela[1].r_info = ELF64_R_INFO(Y_RO, R_X86_64_32S);
}
static void m_abs32(tobj *t)    /* ... and above 4 GiB */
{
    t->rela[1].r_info = ELF64_R_INFO(Y_RO, R_X86_64_32);
}

static const mutation mutations[] = {
    {"ELF32", m_class, DVM_EFORMAT},
    {"i386", m_machine, DVM_EFORMAT},
    {"ET_EXEC", m_type, DVM_EFORMAT},
    {"section table offset wraps", m_shoff, DVM_EFORMAT},
    {"no sections", m_shnum, DVM_EFORMAT},
    {"section header size", m_shentsize, DVM_EFORMAT},
    {"text beyond the end", m_text_off, DVM_EFORMAT},
    {"text size wraps", m_text_size, DVM_EFORMAT},
    {"rodata offset wraps", m_ro_off, DVM_EFORMAT},
    {"alignment 3", m_align3, DVM_EFORMAT},
    {"alignment 1 MiB", m_align_big, DVM_EFORMAT},
    {"symtab without strings", m_symtab_link, DVM_EFORMAT},
    {"symtab strings far", m_symtab_link_far, DVM_EFORMAT},
    {"symtab entry size", m_symtab_ent, DVM_EFORMAT},
    {"no symtab", m_no_symtab, DVM_EFORMAT},
    {"two symtabs", m_two_symtabs, DVM_EFORMAT},
    {"strings unterminated", m_str_unterminated, DVM_EFORMAT},
    {"symbol name beyond strings", m_sym_name, DVM_EFORMAT},
    {"symbol index out of range", m_sym_index, DVM_EFORMAT},
    {"symbol section out of range", m_sym_section, DVM_EFORMAT},
    {"symbol beyond its section", m_sym_value, DVM_EFORMAT},
    {"relocation beyond its section", m_rel_off, DVM_EFORMAT},
    {"relocation offset wraps", m_rel_off_wrap, DVM_EFORMAT},
    {"relocation target out of range", m_rel_target, DVM_EFORMAT},
    {"relocation symbol table", m_rel_link, DVM_EFORMAT},
    {"relocation entry size", m_rel_ent, DVM_EFORMAT},
    {"relocation section size", m_rel_size, DVM_EFORMAT},
    {"function undefined", m_fn_undef, DVM_EFORMAT},
    {"function in data", m_fn_data, DVM_EFORMAT},
    {"function beyond its text", m_fn_beyond, DVM_EFORMAT},
    {"relocation type", m_rel_type, DVM_EUNSUPP},
    {"relocations without addends", m_rel_nobits, DVM_EUNSUPP},
    {"allocated INIT_ARRAY", m_init_array, DVM_EUNSUPP},
    {"thread-local section", m_tls, DVM_EUNSUPP},
    {"common symbol", m_common, DVM_EUNSUPP},
    {"32S out of range", m_abs32s, DVM_EUNSUPP},
    {"32 out of range", m_abs32, DVM_EUNSUPP},
};

/* Each field made wrong: malformed refused as such, unsupported said. */
static void test_mutations(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof mutations / sizeof mutations[0]; k++) {
        tobj t;
        int ran = 0;
        make(&t);
        mutations[k].apply(&t);
        dvm_status st = load_t(&t, &ran);
        if (st != mutations[k].want)
            fail_msg("%s: status %d, want %d (%s)", mutations[k].what, st,
                     mutations[k].want, st ? status_message() : "loaded");
    }
}

/* An import not among the caller's is unsupported, and named. */
static void test_unknown_import(void **state)
{
    (void)state;
    tobj t;
    int ran;
    make(&t);
    assert_int_equal(load(&t, sizeof t, imps, 1, "f", &ran), DVM_EUNSUPP);
    assert_non_null(strstr(status_message(), "dvm_rt_test"));
    assert_int_equal(load(&t, sizeof t, NULL, 0, "f", &ran), DVM_EUNSUPP);
}

/* A function the object does not define is malformed (the FILE symbol
 * of the same name is no function), and named. */
static void test_missing_name(void **state)
{
    (void)state;
    tobj t;
    int ran;
    make(&t);
    assert_int_equal(load(&t, sizeof t, imps, 2, "g", &ran), DVM_EFORMAT);
    assert_non_null(strstr(status_message(), "'g'"));
    t.sym[Y_FN].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
    assert_int_equal(load_t(&t, &ran), DVM_EFORMAT);
}

/* Allocation failures (a build with DVM_ALLOC_FAILPOINTS): the N-th
 * allocation and every later one failing, a load succeeds or returns
 * DVM_ENOMEM, and leaves nothing behind. */
static void test_alloc_failures(void **state)
{
    (void)state;
    if (!dvm_alloc_fail_from(0))
        skip();
    tobj t;
    make(&t);
    for (long n = 1; n < 100; n++) {
        jit_elf_image *img = NULL;
        jit_fn fn = NULL;
        dvm_alloc_fail_from(n);
        dvm_status st = jit_elf_load((const uint8_t *)&t, sizeof t, imps, 2,
                                     "f", &img, &fn);
        dvm_alloc_fail_from(0);
        if (!st) {
            assert_int_equal(fn(NULL, NULL), 42);
            jit_elf_free(img);
            return;
        }
        assert_int_equal(st, DVM_ENOMEM);
        assert_null(img);
    }
    fail_msg("no load succeeded");
}

/* ---- real regions (with LLVM) ---------------------------------------------- */

#if DVM_HAVE_LLVM
#include "exec/jit.h"

#define CODE    DISA_TEXT_BASE
#define HEAP    0x50000000ULL           /* writable SR range */
#define HEAPLEN 0x1000ULL

static uint8_t *win;

#define OP(m, t, v) ((isa_operand){ISA_M_##m, ISA_T_##t, (uint64_t)(v), 0})

/* A loop of 100 iterations over a counter, a double and an SR word (an
 * rt_write), then exit: its insns into in, their count returned; insn 5
 * branches back to insn 2, whose address is filled in by build(). */
static size_t loop_insns(isa_insn *in)
{
    double one = 1.0, step = 1.0001;
    uint64_t b1, bs;
    memcpy(&b1, &one, 8);
    memcpy(&bs, &step, 8);
    const isa_insn l[] = {
        {ISA_OP_MOV, ISA_OPT_NONE, 2, {OP(IMM, Q, 0), OP(DIR, Q, 0x40)}},
        {ISA_OP_MOV, ISA_OPT_NONE, 2, {OP(IMM, F, b1), OP(DIR, F, 0x48)}},
        {ISA_OP_ADD, ISA_OPT_NONE, 3,
         {OP(DIR, Q, 0x40), OP(IMM, Q, 1), OP(DIR, Q, 0x40)}},
        {ISA_OP_MUL, ISA_OPT_NONE, 3,
         {OP(DIR, F, 0x48), OP(IMM, F, bs), OP(DIR, F, 0x48)}},
        {ISA_OP_MOV, ISA_OPT_NONE, 2, {OP(DIR, Q, 0x40), OP(DIR, Q, HEAP)}},
        {ISA_OP_BR, ISA_OPT_L, 3,
         {OP(DIR, Q, 0x40), OP(IMM, Q, 100), OP(DIR, Q, 0)}},
        {ISA_OP_EXIT, ISA_OPT_C, 0, {{0, 0, 0, 0}}},
    };
    memcpy(in, l, sizeof l);
    return sizeof l / sizeof l[0];
}

/* The loop as a program of one code segment at CODE. */
static dvm_program *build(void)
{
    isa_insn in[8];
    size_t n = loop_insns(in);
    uint64_t addr[8], a = CODE;
    for (size_t k = 0; k < n; k++) {
        addr[k] = a;
        a += isa_encoded_size(&in[k]);
    }
    in[5].ops[2].value = addr[2];
    dvm_program *p = program_new();
    assert_non_null(p);
    p->segs = dvm_calloc(1, sizeof *p->segs);
    prog_segment *s = &p->segs[0];
    s->addr = CODE;
    s->size = a - CODE;
    s->flags = PROG_SEG_CODE;
    s->bytes = dvm_malloc(s->size);
    s->insn_offs = dvm_malloc(n * sizeof(uint32_t));
    s->ninsns = n;
    for (size_t k = 0; k < n; k++) {
        s->insn_offs[k] = (uint32_t)(addr[k] - CODE);
        isa_encode(&in[k], s->bytes + (addr[k] - CODE));
    }
    p->nsegs = 1;
    p->entry = CODE;
    return p;
}

/* What a run left: its exit, where native code left its region (the
 * interpreter went on from there), the PR words and the SR word. */
typedef struct result {
    int rc;
    uint64_t next, pr[3], heap;
} result;

/* Runs code c from insn i on fn (NULL: the interpreter), then the
 * interpreter where fn left off, into *out. */
static void run(const dvm_program *p, const vm_code *c, uint32_t i,
                jit_fn fn, result *out)
{
    assert_int_equal(madvise(win, 0x1000, MADV_DONTNEED), 0);
    assert_int_equal(madvise(win + HEAP, HEAPLEN, MADV_DONTNEED), 0);
    memcpy(win + CODE, p->segs[0].bytes, p->segs[0].size);
    vm_runner r;
    vm_runner_init(&r, win, c);
    assert_int_equal(vm_runner_add_writable(&r, HEAP, HEAP + HEAPLEN), 0);
    jit_ctx ctx = {&r, 0, 0, 0, 0, DISA_RB, 0};
    out->rc = fn ? fn(&ctx, win) : interp_run(&r, c->insns[i].pc);
    out->next = ctx.next;
    if (out->rc == JIT_CONTINUE)        /* the interpreter goes on */
        out->rc = interp_run(&r, ctx.next);
    memcpy(out->pr, win + 0x40, sizeof out->pr);
    memcpy(&out->heap, win + HEAP, 8);
    vm_runner_destroy(&r);
}

/* The region of insn i of c translated by LLVM (*llvm, in backend a,
 * with its object code in *obj), that object loaded by LLVM in backend b
 * (*again) and by jit_elf (*elf, *img). */
static void three_loads(const jit_backend_ops *ops, jit_backend *a,
                        jit_backend *b, const vm_code *c, uint32_t i,
                        jit_fn fns[3], jit_elf_image **img)
{
    char name[32];
    snprintf(name, sizeof name, "dvm_region_%u", i);
    /* x86's default NaN; none arises in the loop */
    jit_request q = {c, i, 2000, 0xfff8000000000000ull, name};
    jit_object obj = {NULL, 0};
    size_t size;
    assert_int_equal(ops->translate(a, &q, &fns[0], &size, &obj), 0);
    assert_int_equal(ops->load(b, obj.p, obj.len, name, &fns[1]), 0);
    assert_int_equal(jit_elf_load(obj.p, obj.len, jit_helpers, jit_nhelpers,
                                  name, img, &fns[2]), 0);
    assert_true(size > 0 && fns[2] != fns[0] && fns[2] != fns[1]);
    dvm_free(obj.p);
}

/* Real regions (from the first insn, and from the loop's head, each to
 * the exit): LLVM's object code loaded here runs as LLVM's own loads of
 * it do, and as the interpreter does. */
static void test_real_regions(void **state)
{
    (void)state;
    const jit_backend_ops *ops;
    jit_backend *a, *b;
    vm_code *c;
    dvm_program *p = build();
    assert_int_equal(code_build(p, &c), 0);
    assert_int_equal(jit_backend_load(&ops), 0);
    assert_int_equal(ops->create(&a), 0);
    assert_int_equal(ops->create(&b), 0);
    for (uint32_t i = 0; i < 3; i += 2) {
        jit_fn fns[3];
        jit_elf_image *img;
        result want, got;
        uint64_t nexts = 0;
        three_loads(ops, a, b, c, i, fns, &img);
        run(p, c, i, NULL, &want);
        for (int k = 0; k < 3; k++) {
            run(p, c, i, fns[k], &got);
            assert_int_equal(got.rc, want.rc);
            assert_int_equal(got.next, k ? nexts : got.next);
            nexts = got.next;
            assert_memory_equal(got.pr, want.pr, sizeof want.pr);
            assert_int_equal(got.heap, want.heap);
        }
        assert_int_equal(want.heap, 100);
        jit_elf_free(img);
    }
    ops->destroy(a);
    ops->destroy(b);
    code_free(c);
    program_free(p);
}

static int llvm_setup(void **state)
{
    (void)state;
    win = mmap(NULL, DISA_ADDR_LIMIT, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return win == MAP_FAILED ? -1 : 0;
}

static int llvm_teardown(void **state)
{
    (void)state;
    munmap(win, DISA_ADDR_LIMIT);
    return 0;
}

/* The tests that need LLVM, when it is here. */
static int run_llvm_tests(void)
{
    if (!jit_available()) {
        printf("translator not available: real regions skipped\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_regions),
    };
    return cmocka_run_group_tests(tests, llvm_setup, llvm_teardown);
}
#else
static int run_llvm_tests(void)
{
    return 0;
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_and_runs),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_unknown_import),
        cmocka_unit_test(test_missing_name),
        cmocka_unit_test(test_alloc_failures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | run_llvm_tests();
}
