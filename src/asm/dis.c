/*
 * dis.c -- the disassembler: a dvm_program back to DISA source.
 *
 * The output is meant to re-assemble to a byte-identical image, so nothing
 * is left to defaults: every segment is introduced by its section and an
 * `.org`, every operand carries its type, `.entry` is explicit, and bytes
 * that are not at a recorded instruction offset are printed as data (.byte,
 * .quad 0 for stored runs of zeros) and a segment's zero tail as .zero,
 * which the assembler does not store.  Symbols become labels where their value is
 * a place the listing passes through (an instruction start or any data
 * byte of a segment); the others (constants, addresses outside the
 * segments, places inside an instruction) become `.equ`.  Either way the
 * re-assembled symbol table is the same.  Code segments are printed before
 * data segments because .data follows .text when the output is assembled.
 *
 * Operand values that equal a label (or a predefined symbol, for memory
 * operands) are printed by name, which keeps the listing readable and
 * changes nothing in the bytes.  The one thing that cannot be written in
 * source is a :f immediate holding a NaN; the loader refuses one (as it
 * refuses every instruction not in the assembler's form,
 * isa_check_canonical), and a program built in memory with one gets a
 * comment-marked 0, so the failure to round-trip is visible.
 */
#include "asm/dis.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asm/expr.h"
#include "asm/lex.h"
#include "isa/isa.h"
#include "util/alloc.h"

typedef struct dis_ctx {
    const dvm_program *p;
    FILE *out;
    const prog_symbol **labels; /* symbols printed as labels, by value */
    size_t nlabels;
} dis_ctx;

/* Size of the instruction at offset off of s, or 0 if it does not decode. */
static size_t insn_size_at(const prog_segment *s, uint32_t off)
{
    isa_insn in;
    size_t n;
    uint64_t stored = prog_seg_stored(s);
    if (off >= stored || isa_decode(s->bytes + off, stored - off, &in, &n))
        return 0;
    return n;
}

/* True when address a of segment s is strictly inside an instruction. */
static int inside_insn(const prog_segment *s, uint64_t a)
{
    uint64_t rel = a - s->addr;
    size_t lo = 0, hi = s->ninsns;
    while (lo < hi) {                   /* first offset > rel */
        size_t mid = lo + (hi - lo) / 2;
        if (s->insn_offs[mid] <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    uint32_t off = s->insn_offs[lo - 1];
    return off < rel && off + insn_size_at(s, off) > rel;
}

/* True when symbol i can be written as a name in the source at all. */
static int writable_name(const prog_symbol *sym)
{
    uint64_t v;
    return lex_valid_symbol(sym->name, strlen(sym->name)) &&
           !expr_predefined(sym->name, strlen(sym->name), &v);
}

/* True when symbol sym becomes a label. */
static int is_label(const dvm_program *p, const prog_symbol *sym)
{
    const prog_segment *s = program_segment_at(p, sym->value);
    return s && writable_name(sym) && !inside_insn(s, sym->value);
}

/* Orders labels by value, then name. */
static int label_cmp(const void *a, const void *b)
{
    const prog_symbol *x = *(const prog_symbol *const *)a;
    const prog_symbol *y = *(const prog_symbol *const *)b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Collects the label symbols of p sorted by value into d. */
static dvm_status collect_labels(dis_ctx *d)
{
    const dvm_program *p = d->p;
    if (!(d->labels = dvm_calloc(p->nsyms, sizeof *d->labels)))
        return status_set(DVM_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->nsyms; i++)
        if (is_label(p, &p->syms[i]))
            d->labels[d->nlabels++] = &p->syms[i];
    if (d->nlabels)
        qsort(d->labels, d->nlabels, sizeof *d->labels, label_cmp);
    return DVM_OK;
}

/* The first label with value v, or NULL. */
static const char *label_for(const dis_ctx *d, uint64_t v)
{
    size_t lo = 0, hi = d->nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->labels[mid]->value < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < d->nlabels && d->labels[lo]->value == v)
        return d->labels[lo]->name;
    return NULL;
}

/* Prints an address: a label, a predefined name (when mem), or hex. */
static void put_addr(const dis_ctx *d, uint64_t v, int mem)
{
    static const char *const pre[] = {"__sb",  "__ss",  "__rid",
                                      "__fi",  "__attempt", "__out",
                                      "__nrcomp", "__nnode"};
    const char *name = label_for(d, v);
    uint64_t pv;
    for (size_t i = 0; !name && mem && i < sizeof pre / sizeof pre[0]; i++)
        if (expr_predefined(pre[i], strlen(pre[i]), &pv) && pv == v)
            name = pre[i];
    if (name)
        fputs(name, d->out);
    else
        fprintf(d->out, "0x%" PRIx64, v);
}

/* Prints a :f immediate so that it reads back to the same bits. */
static void put_double(FILE *out, uint64_t bits)
{
    double x;
    char buf[64];
    memcpy(&x, &bits, sizeof x);
    if (isnan(x)) {
        fprintf(out, "0.0 # NaN 0x%" PRIx64 " cannot be written", bits);
        return;
    }
    if (isinf(x)) {
        fputs(x < 0 ? "-1e999" : "1e999", out);
        return;
    }
    snprintf(buf, sizeof buf, "%.17g", x);
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    fputs(buf, out);
}

/* Prints an immediate of the given type. */
static void put_imm(const dis_ctx *d, const isa_operand *o)
{
    const char *name;
    fputc('$', d->out);
    if (isa_type_float[o->type])
        put_double(d->out, o->value);
    else if (isa_type_bytes[o->type] == 8 && (name = label_for(d, o->value)))
        fputs(name, d->out);
    else if (isa_type_signed[o->type])
        fprintf(d->out, "%" PRId64, (int64_t)o->value);
    else
        fprintf(d->out, "0x%" PRIx64, o->value);
}

/* Prints one operand in its mode, with its type suffix. */
static void put_operand(const dis_ctx *d, const isa_operand *o)
{
    switch (o->mode) {
    case ISA_M_IMM:
        put_imm(d, o);
        break;
    case ISA_M_DIR:
        put_addr(d, o->value, 1);
        break;
    case ISA_M_DISP:
        fprintf(d->out, "%" PRId64, o->disp);
        /* fall through */
    case ISA_M_IND:
        fputc('(', d->out);
        put_addr(d, o->value, 1);
        fputc(')', d->out);
        break;
    default:
        assert(0);
    }
    fprintf(d->out, ":%s", isa_type_name[o->type]);
}

/* Prints the instruction at off of s; returns its size, or 0 (with a
 * message) when it does not decode. */
static size_t put_insn(const dis_ctx *d, const prog_segment *s, uint32_t off)
{
    isa_insn in;
    size_t n;
    uint64_t stored = prog_seg_stored(s);
    if (off >= stored || isa_decode(s->bytes + off, stored - off, &in, &n))
        return 0;
    fprintf(d->out, "        %s", isa_op_name[in.op]);
    if (in.opt != ISA_OPT_NONE)
        fprintf(d->out, ":%s", isa_opt_name[in.opt]);
    for (int i = 0; i < in.nops; i++) {
        fputs(i ? ", " : " ", d->out);
        put_operand(d, &in.ops[i]);
    }
    fputc('\n', d->out);
    return n;
}

/* Length of the run of zero bytes at b[0..n). */
static size_t zero_run(const uint8_t *b, size_t n)
{
    size_t k = 0;
    while (k < n && b[k] == 0)
        k++;
    return k;
}

/* Prints k (1 to 8) zero words as one .quad line: stored zeros (a .zero
 * would become an unstored zero tail when re-assembled). */
static void put_zero_words(FILE *out, size_t k)
{
    assert(k >= 1 && k <= 8);
    fputs("        .quad 0", out);
    while (--k)
        fputs(", 0", out);
    fputc('\n', out);
}

/* Prints b[0..n) as .quad 0 (runs of 8 or more zeros) and .byte lines. */
static void put_data(FILE *out, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t z = zero_run(b + i, n - i);
        if (z >= 8) {
            size_t k = z / 8 < 8 ? z / 8 : 8;
            put_zero_words(out, k);
            i += 8 * k;
            continue;
        }
        fputs("        .byte ", out);
        for (size_t k = 0; k < 16 && i < n; k++, i++) {
            if (k && zero_run(b + i, n - i) >= 8)
                break;
            fprintf(out, k ? ", 0x%02x" : "0x%02x", b[i]);
        }
        fputc('\n', out);
    }
}

/* Prints the data of s at offsets [pos, next): stored bytes, or the part
 * of the zero tail there as .zero.  Returns where it stopped (next, or the
 * start of the tail). */
static uint64_t put_span(FILE *out, const prog_segment *s, uint64_t pos,
                         uint64_t next)
{
    uint64_t stored = prog_seg_stored(s);
    if (pos >= stored) {
        fprintf(out, "        .zero %" PRIu64 "\n", next - pos);
        return next;
    }
    if (next > stored)
        next = stored;
    put_data(out, s->bytes + pos, (size_t)(next - pos));
    return next;
}

/* Prints segment s; *li walks the sorted labels.  Returns DVM_OK or
 * DVM_EFORMAT for an instruction that does not decode. */
static dvm_status put_segment(const dis_ctx *d, const prog_segment *s)
{
    const prog_symbol *const *lab = d->labels;
    size_t li = 0, k = 0;
    uint64_t pos = 0;
    fprintf(d->out, "\n%s\n        .org 0x%" PRIx64 "\n",
            (s->flags & PROG_SEG_CODE) ? ".text" : ".data", s->addr);
    while (li < d->nlabels && lab[li]->value < s->addr)
        li++;
    while (pos < s->size) {
        while (li < d->nlabels && lab[li]->value == s->addr + pos)
            fprintf(d->out, "%s:\n", lab[li++]->name);
        if (k < s->ninsns && s->insn_offs[k] == pos) {
            size_t n = put_insn(d, s, (uint32_t)pos);
            if (!n)
                return status_set(DVM_EFORMAT, "undecodable instruction at "
                                  "0x%" PRIx64, s->addr + pos);
            pos += n;
            k++;
            continue;
        }
        uint64_t next = k < s->ninsns ? s->insn_offs[k] : s->size;
        if (li < d->nlabels && lab[li]->value - s->addr < next)
            next = lab[li]->value - s->addr;
        assert(next > pos);
        pos = put_span(d->out, s, pos, next);
    }
    return DVM_OK;
}

/* Prints the directives: constants, entry, heap ranges, channels. */
static void put_directives(const dis_ctx *d)
{
    const dvm_program *p = d->p;
    for (size_t i = 0; i < p->nsyms; i++) {
        if (!writable_name(&p->syms[i]))
            fprintf(d->out, "# symbol '%s' cannot be written\n",
                    p->syms[i].name);
        else if (!is_label(p, &p->syms[i]))
            fprintf(d->out, "        .equ %s, 0x%" PRIx64 "\n",
                    p->syms[i].name, p->syms[i].value);
    }
    uint64_t mv;
    int main_entry = program_symbol(p, "main", &mv) == DVM_OK &&
                     mv == p->entry && is_label(p, &(prog_symbol){"main", mv});
    fputs("        .entry ", d->out);
    if (main_entry)
        fputs("main", d->out);
    else
        put_addr(d, p->entry, 0);
    fputc('\n', d->out);
    for (size_t i = 0; i < p->nheap; i++)
        fprintf(d->out, "        .heap 0x%" PRIx64 ", 0x%" PRIx64 "\n",
                p->heap[i].base, p->heap[i].len);
    for (size_t i = 0; i < p->nchans; i++)
        fprintf(d->out, "        .channel %s, 0x%" PRIx64 ", %s\n",
                p->chans[i].name, p->chans[i].addr,
                p->chans[i].dir == PROG_CHAN_IN ? "in" : "out");
}

dvm_status dis_write(const dvm_program *p, FILE *out)
{
    dis_ctx d = {p, out, NULL, 0};
    dvm_status st = collect_labels(&d);
    if (st)
        return st;
    fputs("# DISA source written by `dvm dis`\n", out);
    put_directives(&d);
    for (int code = 1; code >= 0 && !st; code--)
        for (size_t i = 0; i < p->nsegs && !st; i++)
            if (!(p->segs[i].flags & PROG_SEG_CODE) == !code)
                st = put_segment(&d, &p->segs[i]);
    dvm_free(d.labels);
    if (st)
        return st;
    if (fflush(out) || ferror(out))
        return status_set_errno(DVM_EIO, "cannot write the listing");
    return DVM_OK;
}
