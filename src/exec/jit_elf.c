/*
 * jit_elf.c -- the translator's object code loaded without LLVM
 * (jit_elf.h).
 *
 * What the translator emits (LLVM's x86-64 ELF writer, one function per
 * object): .text, .rodata.cst8 / .cst16 and other .rodata sections, an
 * .eh_frame with its .rela.eh_frame, .rela.text, .symtab and .strtab,
 * and sections nothing loads (.note.GNU-stack, .llvm_addrsig, .comment).
 * Its relocations are R_X86_64_64 (to the runtime helpers, undefined
 * symbols, and to the constant sections) and R_X86_64_PC64 (in
 * .rela.eh_frame).
 *
 * Loading.  The object is checked whole before anything is mapped:
 * identity (ELF64, little-endian, x86-64, ET_REL), the section table
 * within the bytes, each section's bytes within them (overflow-safe),
 * alignments (powers of two, at most a page), the one symbol table (its
 * string table NUL-terminated, so that every name offset below its size
 * is a string), each symbol's section.  The sections with SHF_ALLOC are
 * then laid out in one anonymous mapping, executable ones first, then
 * read-only ones, then writable ones, each group on pages of its own,
 * each section at its alignment; NOBITS sections stay zero.  Every
 * SHT_RELA section whose target is loaded is applied: R_X86_64_NONE, 64,
 * PC64, PC32 and PLT32 (the same: the callee must be within +-2 GiB,
 * there is no PLT), 32 and 32S (the value must fit); the offset and width
 * within the target section.  Undefined symbols are bound by name to the
 * caller's imports (jit_rt.h).  Last, each group's pages get their
 * protection: text read and execute, constants read only.
 *
 * What is refused as unsupported (DVM_EUNSUPP, so that the caller can let
 * LLVM load it): any other relocation type, REL without addends against a
 * loaded section, an allocated section other than PROGBITS and NOBITS
 * (INIT_ARRAY, TLS, ...), COMMON or other special symbol sections, an
 * import not among the caller's, a relocation whose value does not fit.
 * What is malformed (DVM_EFORMAT): anything the checks above refuse, and
 * an object that does not define the function asked for.
 *
 * .eh_frame.  LLVM's LLJIT (RuntimeDyld for ELF in LLVM 15) loads it and
 * registers it with the unwinder (__register_frame) so that C++
 * exceptions and debuggers can walk through JIT code.  Here nothing
 * unwinds through translated code: it calls only the C helpers, which
 * neither throw nor longjmp, and a signal returns to where it struck.  So
 * .eh_frame is not loaded, and neither are its relocations (nor those of
 * any other section not loaded): a debugger's backtrace stops at a loaded
 * region, which is the only loss.
 */
#include "exec/jit_elf.h"

#include <assert.h>
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"

enum {
    ELF_MAX_SECTIONS = 4096,    /* more is not the translator's output */
    ELF_MAX_ALIGN = 4096,       /* a section's alignment, at most */
    ELF_MAX_IMAGE = 64 << 20,   /* bytes mapped, at most */
};

enum { GRP_TEXT, GRP_RO, GRP_RW, GRP_N };     /* page groups, in order */

struct jit_elf_image {
    uint8_t *base;              /* the mapping */
    size_t size;                /* ... its bytes */
};

/* One object being loaded: its bytes, its section table (copied, since
 * obj need not be aligned), and where each section went. */
typedef struct elf_obj {
    const uint8_t *p;
    size_t len;
    Elf64_Shdr *sh;             /* shnum entries */
    size_t shnum;
    uint8_t **at;               /* per section: its address, or NULL */
    size_t symtab;              /* the symbol table's section */
    size_t nsyms;
    const char *strs;           /* its string table ... */
    size_t nstrs;               /* ... of this many bytes, NUL at the end */
    const jit_helper *imp;
    size_t nimp;
} elf_obj;

/* Records a malformed object. */
#define BAD(...) status_set(DVM_EFORMAT, "translated object: " __VA_ARGS__)
/* Records an object this loader does not handle. */
#define UNSUPP(...) status_set(DVM_EUNSUPP, "translated object: " __VA_ARGS__)

/* True when [off, off + n) lies within len bytes (overflow-safe). */
static int within(uint64_t off, uint64_t n, uint64_t len)
{
    return off <= len && n <= len - off;
}

/* True when a is 0 or a power of two up to ELF_MAX_ALIGN. */
static int align_ok(uint64_t a)
{
    return (a & (a - 1)) == 0 && a <= ELF_MAX_ALIGN;
}

/* Rounds n up to a multiple of a (a power of two; n far below 2^63). */
static size_t round_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

/* ---- checking -------------------------------------------------------------- */

/* Checks the ELF header of o and copies it into *eh. */
static dvm_status check_header(const elf_obj *o, Elf64_Ehdr *eh)
{
    if (o->len < sizeof *eh)
        return BAD("%zu bytes: shorter than an ELF header", o->len);
    memcpy(eh, o->p, sizeof *eh);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
        return BAD("not ELF");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_ident[EI_VERSION] != EV_CURRENT)
        return BAD("not ELF64 little-endian version 1");
    if (eh->e_type != ET_REL || eh->e_machine != EM_X86_64)
        return BAD("type %u machine %u: not an x86-64 relocatable object",
                   eh->e_type, eh->e_machine);
    if (eh->e_shentsize != sizeof(Elf64_Shdr))
        return BAD("section header size %u", eh->e_shentsize);
    if (eh->e_shnum == 0 || eh->e_shnum > ELF_MAX_SECTIONS)
        return BAD("%u sections", eh->e_shnum);
    if (!within(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr),
                o->len))
        return BAD("section table at %llu beyond the object's %zu bytes",
                   (unsigned long long)eh->e_shoff, o->len);
    return DVM_OK;
}

/* Checks section i's bytes and alignment. */
static dvm_status check_section(const elf_obj *o, size_t i)
{
    const Elf64_Shdr *s = &o->sh[i];
    if (s->sh_type != SHT_NOBITS && s->sh_type != SHT_NULL &&
        !within(s->sh_offset, s->sh_size, o->len))
        return BAD("section %zu: bytes [%llu, +%llu) beyond the object's "
                   "%zu", i, (unsigned long long)s->sh_offset,
                   (unsigned long long)s->sh_size, o->len);
    if (!align_ok(s->sh_addralign))
        return BAD("section %zu: alignment %llu", i,
                   (unsigned long long)s->sh_addralign);
    if ((s->sh_flags & SHF_ALLOC) && s->sh_size > ELF_MAX_IMAGE)
        return BAD("section %zu: %llu bytes", i,
                   (unsigned long long)s->sh_size);
    return DVM_OK;
}

/* Finds and checks o's symbol table and its string table. */
static dvm_status check_symtab(elf_obj *o)
{
    o->symtab = 0;
    for (size_t i = 1; i < o->shnum; i++) {
        if (o->sh[i].sh_type != SHT_SYMTAB)
            continue;
        if (o->symtab)
            return BAD("more than one symbol table");
        o->symtab = i;
    }
    if (!o->symtab)
        return BAD("no symbol table");
    const Elf64_Shdr *s = &o->sh[o->symtab];
    if (s->sh_entsize != sizeof(Elf64_Sym) ||
        s->sh_size % sizeof(Elf64_Sym))
        return BAD("symbol table of %llu bytes, entries of %llu",
                   (unsigned long long)s->sh_size,
                   (unsigned long long)s->sh_entsize);
    if (s->sh_link == 0 || s->sh_link >= o->shnum ||
        o->sh[s->sh_link].sh_type != SHT_STRTAB)
        return BAD("symbol table's strings: section %u", s->sh_link);
    const Elf64_Shdr *t = &o->sh[s->sh_link];
    o->strs = (const char *)o->p + t->sh_offset;
    o->nstrs = t->sh_size;
    if (o->nstrs == 0 || o->strs[o->nstrs - 1] != '\0')
        return BAD("string table not NUL-terminated");
    o->nsyms = s->sh_size / sizeof(Elf64_Sym);
    return DVM_OK;
}

/* Reads o's symbol k (k < nsyms) into *sym and checks its name. */
static dvm_status read_sym(const elf_obj *o, size_t k, Elf64_Sym *sym)
{
    assert(k < o->nsyms);
    memcpy(sym, o->p + o->sh[o->symtab].sh_offset + k * sizeof *sym,
           sizeof *sym);
    if (sym->st_name >= o->nstrs)
        return BAD("symbol %zu: name at %u beyond the strings", k,
                   sym->st_name);
    return DVM_OK;
}

/* Copies and checks o's section table; its entries stay in o->sh. */
static dvm_status check_sections(elf_obj *o, const Elf64_Ehdr *eh)
{
    o->shnum = eh->e_shnum;
    o->sh = dvm_malloc(o->shnum * sizeof *o->sh);
    o->at = dvm_calloc(o->shnum, sizeof *o->at);
    if (!o->sh || !o->at)
        return status_set(DVM_ENOMEM, "translated object: out of memory");
    memcpy(o->sh, o->p + eh->e_shoff, o->shnum * sizeof *o->sh);
    for (size_t i = 0; i < o->shnum; i++) {
        dvm_status st = check_section(o, i);
        if (st)
            return st;
    }
    return check_symtab(o);
}

/* ---- layout ---------------------------------------------------------------- */

/* True when section i is .eh_frame (by type, as LLVM marks it on x86-64,
 * or by name), which is not loaded (see the top comment). */
static int is_eh_frame(const elf_obj *o, const Elf64_Ehdr *eh, size_t i)
{
    if (o->sh[i].sh_type == SHT_X86_64_UNWIND)
        return 1;
    size_t n = eh->e_shstrndx;
    if (n == SHN_UNDEF || n >= o->shnum || o->sh[n].sh_type != SHT_STRTAB)
        return 0;
    const Elf64_Shdr *t = &o->sh[n];
    uint64_t at = o->sh[i].sh_name;
    static const char eh_frame[] = ".eh_frame";
    return within(at, sizeof eh_frame, t->sh_size) &&
           !memcmp(o->p + t->sh_offset + at, eh_frame, sizeof eh_frame);
}

/* The page group of loaded section s. */
static int group_of(const Elf64_Shdr *s)
{
    if (s->sh_flags & SHF_EXECINSTR)
        return GRP_TEXT;
    return (s->sh_flags & SHF_WRITE) ? GRP_RW : GRP_RO;
}

/* True when section i is to be loaded; DVM_EUNSUPP in *st (message set)
 * for an allocated one this loader cannot. */
static int loaded(const elf_obj *o, const Elf64_Ehdr *eh, size_t i,
                  dvm_status *st)
{
    const Elf64_Shdr *s = &o->sh[i];
    *st = DVM_OK;
    if (!(s->sh_flags & SHF_ALLOC) || is_eh_frame(o, eh, i))
        return 0;
    if (s->sh_flags & SHF_TLS)
        *st = UNSUPP("section %zu: thread-local", i);
    else if (s->sh_type != SHT_PROGBITS && s->sh_type != SHT_NOBITS)
        *st = UNSUPP("section %zu: allocated, of type %u", i, s->sh_type);
    return *st == DVM_OK;
}

/* Lays out o's loaded sections: off[i] is section i's offset in the
 * mapping (SIZE_MAX: not loaded), grp[g] the end of group g's bytes
 * (each group starts on a page), *size the mapping's bytes. */
static dvm_status lay_out(const elf_obj *o, const Elf64_Ehdr *eh,
                          size_t *off, size_t grp[GRP_N], size_t *size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), at = 0;
    for (size_t i = 0; i < o->shnum; i++)
        off[i] = SIZE_MAX;
    for (int g = 0; g < GRP_N; g++) {
        for (size_t i = 0; i < o->shnum; i++) {
            dvm_status st;
            if (!loaded(o, eh, i, &st)) {
                if (st)
                    return st;
                continue;
            }
            const Elf64_Shdr *s = &o->sh[i];
            if (group_of(s) != g)
                continue;
            at = round_up(at, s->sh_addralign ? s->sh_addralign : 1);
            off[i] = at;
            at += s->sh_size;
            if (at > ELF_MAX_IMAGE)
                return BAD("%zu bytes to load", at);
        }
        grp[g] = at;
        at = round_up(at, page);
    }
    *size = at;
    return DVM_OK;
}

/* Maps size bytes (at least one page) and copies the loaded sections in
 * at their offsets; sets o->at and *base. */
static dvm_status map_sections(elf_obj *o, const size_t *off, size_t size,
                               uint8_t **base)
{
    size_t n = size ? size : 1;
    uint8_t *m = mmap(NULL, n, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return status_set(DVM_ESYS, "translated object: mmap of %zu bytes "
                          "failed", n);
    for (size_t i = 0; i < o->shnum; i++) {
        if (off[i] == SIZE_MAX)
            continue;
        o->at[i] = m + off[i];
        if (o->sh[i].sh_type != SHT_NOBITS)
            memcpy(o->at[i], o->p + o->sh[i].sh_offset, o->sh[i].sh_size);
    }
    *base = m;
    return DVM_OK;
}

/* ---- relocation ------------------------------------------------------------ */

/* The address of o's symbol k into *val. */
static dvm_status sym_value(const elf_obj *o, size_t k, uint64_t *val)
{
    Elf64_Sym sym;
    if (k >= o->nsyms)
        return BAD("relocation against symbol %zu of %zu", k, o->nsyms);
    dvm_status st = read_sym(o, k, &sym);
    if (st)
        return st;
    const char *name = o->strs + sym.st_name;
    if (sym.st_shndx == SHN_UNDEF) {
        if (k == 0) {
            *val = 0;
            return DVM_OK;
        }
        for (size_t i = 0; i < o->nimp; i++)
            if (!strcmp(o->imp[i].name, name)) {
                *val = (uint64_t)(uintptr_t)o->imp[i].fn;
                return DVM_OK;
            }
        return UNSUPP("unknown symbol '%s'", name);
    }
    if (sym.st_shndx == SHN_ABS) {
        *val = sym.st_value;
        return DVM_OK;
    }
    if (sym.st_shndx >= SHN_LORESERVE)
        return UNSUPP("symbol '%s' in special section %#x", name,
                      sym.st_shndx);
    if (sym.st_shndx >= o->shnum)
        return BAD("symbol '%s' in section %u of %zu", name, sym.st_shndx,
                   o->shnum);
    if (!o->at[sym.st_shndx])
        return UNSUPP("symbol '%s' in section %u, not loaded", name,
                      sym.st_shndx);
    if (sym.st_value > o->sh[sym.st_shndx].sh_size)
        return BAD("symbol '%s' beyond its section", name);
    *val = (uint64_t)(uintptr_t)o->at[sym.st_shndx] + sym.st_value;
    return DVM_OK;
}

/* The bytes relocation type t writes; 0 for a type not handled. */
static unsigned reloc_width(uint32_t t)
{
    switch (t) {
    case R_X86_64_NONE:
        return 0;
    case R_X86_64_64:
    case R_X86_64_PC64:
        return 8;
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_32:
    case R_X86_64_32S:
        return 4;
    default:
        return 0;
    }
}

/* Writes the value of relocation type t (width w) at p: s + a, made
 * relative to p for the PC types, checked to fit 4 bytes. */
static dvm_status reloc_apply(uint8_t *p, uint32_t t, uint64_t s, int64_t a)
{
    uint64_t v = s + (uint64_t)a;
    if (t == R_X86_64_PC64 || t == R_X86_64_PC32 || t == R_X86_64_PLT32)
        v -= (uint64_t)(uintptr_t)p;
    if (t == R_X86_64_64 || t == R_X86_64_PC64) {
        memcpy(p, &v, 8);
        return DVM_OK;
    }
    int fits = t == R_X86_64_32 ? v <= UINT32_MAX
                                : (int64_t)v == (int64_t)(int32_t)v;
    if (!fits)
        return UNSUPP("relocation type %u: value %#llx out of range", t,
                      (unsigned long long)v);
    uint32_t w = (uint32_t)v;
    memcpy(p, &w, 4);
    return DVM_OK;
}

/* Applies relocation r to loaded section tgt. */
static dvm_status relocate_one(const elf_obj *o, size_t tgt,
                               const Elf64_Rela *r)
{
    uint32_t t = ELF64_R_TYPE(r->r_info);
    if (t == R_X86_64_NONE)
        return DVM_OK;
    unsigned w = reloc_width(t);
    if (w == 0)
        return UNSUPP("relocation type %u", t);
    if (!within(r->r_offset, w, o->sh[tgt].sh_size))
        return BAD("relocation at %llu beyond section %zu",
                   (unsigned long long)r->r_offset, tgt);
    uint64_t s;
    dvm_status st = sym_value(o, ELF64_R_SYM(r->r_info), &s);
    return st ? st : reloc_apply(o->at[tgt] + r->r_offset, t, s,
                                 r->r_addend);
}

/* Applies relocation section i of o if its target is loaded. */
static dvm_status relocate_section(const elf_obj *o, size_t i)
{
    const Elf64_Shdr *s = &o->sh[i];
    if (s->sh_info >= o->shnum)
        return BAD("relocations %zu: target section %u", i, s->sh_info);
    if (!o->at[s->sh_info])
        return DVM_OK;          /* .eh_frame, debug sections */
    if (s->sh_type == SHT_REL)
        return UNSUPP("relocations without addends (section %zu)", i);
    if (s->sh_link != o->symtab)
        return BAD("relocations %zu: symbol table %u", i, s->sh_link);
    if (s->sh_entsize != sizeof(Elf64_Rela) ||
        s->sh_size % sizeof(Elf64_Rela))
        return BAD("relocations %zu: %llu bytes, entries of %llu", i,
                   (unsigned long long)s->sh_size,
                   (unsigned long long)s->sh_entsize);
    for (size_t k = 0; k < s->sh_size / sizeof(Elf64_Rela); k++) {
        Elf64_Rela r;
        memcpy(&r, o->p + s->sh_offset + k * sizeof r, sizeof r);
        dvm_status st = relocate_one(o, s->sh_info, &r);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* Applies every relocation section of o. */
static dvm_status relocate(const elf_obj *o)
{
    for (size_t i = 0; i < o->shnum; i++) {
        if (o->sh[i].sh_type != SHT_RELA && o->sh[i].sh_type != SHT_REL)
            continue;
        dvm_status st = relocate_section(o, i);
        if (st)
            return st;
    }
    return DVM_OK;
}

/* ---- the entry and protection ---------------------------------------------- */

/* The address of o's function `name` (a FUNC or NOTYPE symbol), defined
 * in a loaded executable section, into *fn. */
static dvm_status find_fn(const elf_obj *o, const char *name, jit_fn *fn)
{
    for (size_t k = 1; k < o->nsyms; k++) {
        Elf64_Sym sym;
        dvm_status st = read_sym(o, k, &sym);
        if (st)
            return st;
        int t = ELF64_ST_TYPE(sym.st_info);
        if ((t != STT_FUNC && t != STT_NOTYPE) ||
            strcmp(o->strs + sym.st_name, name))
            continue;           /* the FILE symbol bears the name too */
        size_t i = sym.st_shndx;
        if (i == SHN_UNDEF || i >= o->shnum || !o->at[i] ||
            !(o->sh[i].sh_flags & SHF_EXECINSTR) ||
            sym.st_value >= o->sh[i].sh_size)
            return BAD("'%s' is not a function defined in its text", name);
        *fn = (jit_fn)(uintptr_t)(o->at[i] + sym.st_value);
        return DVM_OK;
    }
    return BAD("no function '%s'", name);
}

/* Gives each group of the mapping at base its protection. */
static dvm_status protect(uint8_t *base, const size_t grp[GRP_N])
{
    static const int prot[GRP_N] = {PROT_READ | PROT_EXEC, PROT_READ,
                                    PROT_READ | PROT_WRITE};
    size_t page = (size_t)sysconf(_SC_PAGESIZE), from = 0;
    for (int g = 0; g < GRP_N; g++) {
        size_t to = round_up(grp[g], page);
        if (to > from && mprotect(base + from, to - from, prot[g]) < 0)
            return status_set(DVM_ESYS, "translated object: mprotect "
                              "failed");
        from = to;
    }
    return DVM_OK;
}

/* Maps, relocates and protects checked object o into *img; *fn its
 * function `name`. */
static dvm_status load_checked(elf_obj *o, const Elf64_Ehdr *eh,
                               const char *name, jit_elf_image *img,
                               jit_fn *fn)
{
    size_t grp[GRP_N], size;
    size_t *off = dvm_malloc(o->shnum * sizeof *off);
    if (!off)
        return status_set(DVM_ENOMEM, "translated object: out of memory");
    dvm_status st = lay_out(o, eh, off, grp, &size);
    if (!st)
        st = map_sections(o, off, size, &img->base);
    dvm_free(off);
    if (st)
        return st;
    img->size = size ? size : 1;
    st = relocate(o);
    if (!st)
        st = find_fn(o, name, fn);
    if (!st)
        st = protect(img->base, grp);
    if (st)
        munmap(img->base, img->size);
    return st;
}

dvm_status jit_elf_load(const uint8_t *obj, size_t len,
                        const jit_helper *imp, size_t nimp, const char *name,
                        jit_elf_image **out, jit_fn *fn)
{
    assert((obj || len == 0) && (imp || nimp == 0) && name && out && fn);
    elf_obj o = {obj, len, NULL, 0, NULL, 0, 0, NULL, 0, imp, nimp};
    Elf64_Ehdr eh;
    jit_fn f;
    jit_elf_image *img = dvm_calloc(1, sizeof *img);
    dvm_status st = img ? check_header(&o, &eh)
                        : status_set(DVM_ENOMEM, "translated object: out "
                                     "of memory");
    if (!st)
        st = check_sections(&o, &eh);
    if (!st)
        st = load_checked(&o, &eh, name, img, &f);
    dvm_free(o.sh);
    dvm_free(o.at);
    if (st) {
        dvm_free(img);
        return st;
    }
    *out = img;
    *fn = f;
    return DVM_OK;
}

void jit_elf_free(jit_elf_image *img)
{
    if (!img)
        return;
    munmap(img->base, img->size);
    dvm_free(img);
}
