/*
 * inpage.c -- the pages of the input windows (inpage.h).
 *
 * A page meets an input in two places at most: the length word at the
 * channel's address and the run of its bytes after it.  Each part is cut
 * to the page and written at its offset; the bytes come from the caller's
 * read function, one call per input and page.
 */
#include <assert.h>
#include <string.h>

#include "image/inpage.h"
#include "isa/isa.h"

/* The part of [lo0, lo0 + n) in the page at pa, as [*lo, *hi); 0 when
 * empty. */
static int page_part(uint64_t pa, uint64_t lo0, uint64_t n, uint64_t *lo,
                     uint64_t *hi)
{
    *lo = lo0 > pa ? lo0 : pa;
    *hi = lo0 + n < pa + DISA_PAGE ? lo0 + n : pa + DISA_PAGE;
    return *lo < *hi;
}

/* The length word of src where it falls in the page at pa. */
static int fill_len(const inpage_src *src, uint64_t pa, uint8_t *buf)
{
    uint64_t lo, hi;
    if (!page_part(pa, src->addr, 8, &lo, &hi))
        return 0;
    for (uint64_t a = lo; a < hi; a++)
        buf[a - pa] = (uint8_t)(src->len >> (8 * (a - src->addr)));
    return 1;
}

/* The bytes of src that fall in the page at pa. */
static int fill_bytes(const inpage_src *src, uint64_t pa, uint8_t *buf)
{
    uint64_t lo, hi;
    if (!page_part(pa, src->addr + 8, src->len, &lo, &hi))
        return 0;
    uint64_t got = src->read(src->arg, lo - src->addr - 8, buf + (lo - pa),
                             hi - lo);
    assert(got <= hi - lo);
    (void)got;                  /* short: the rest stays zeros */
    return 1;
}

int inpage_fill(const inpage_src *src, size_t n, uint64_t page,
                   uint8_t *buf)
{
    uint64_t pa = page * DISA_PAGE;
    int any = 0;
    memset(buf, 0, DISA_PAGE);
    for (size_t i = 0; i < n; i++) {
        assert(src[i].addr >= DISA_INPUT_BASE && src[i].addr < DISA_SYSPAGE);
        any |= fill_len(&src[i], pa, buf);
        any |= fill_bytes(&src[i], pa, buf);
    }
    return any;
}

int inpage_is_input(uint64_t page)
{
    return page >= DISA_INPUT_BASE / DISA_PAGE &&
           page < DISA_SYSPAGE / DISA_PAGE;
}

uint64_t inpage_index(uint64_t page)
{
    assert(inpage_is_input(page));
    return page - DISA_INPUT_BASE / DISA_PAGE;
}

int inpage_present(const uint64_t *map, uint64_t page)
{
    uint64_t i = inpage_index(page);
    return (int)(__atomic_load_n(&map[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) &
                 1);
}

void inpage_set_present(uint64_t *map, uint64_t page)
{
    uint64_t i = inpage_index(page);
    __atomic_fetch_or(&map[i / 64], 1ull << (i % 64), __ATOMIC_RELEASE);
}
