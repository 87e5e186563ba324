/*
 * home.c -- rendezvous placement of page regions on nodes.
 *
 * The score is a 64-bit mix (splitmix64's finaliser) of region and id;
 * ties, which need a 64-bit collision, go to the smaller id so that every
 * process orders the same way.  Picking is one pass keeping the best two.
 */
#include "dist/home.h"

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

uint64_t home_score(uint64_t region, uint64_t id)
{
    return mix(mix(region + 0x9E3779B97F4A7C15ULL) ^ id);
}

/* 1 when (sa, a) ranks before (sb, b). */
static int better(uint64_t sa, uint64_t a, uint64_t sb, uint64_t b)
{
    return sa > sb || (sa == sb && a < b);
}

size_t home_pick(uint64_t page, const uint64_t *ids, size_t n,
                 uint64_t out[HOME_COPIES])
{
    uint64_t r = home_region(page), s[HOME_COPIES] = { 0, 0 };
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t sc = home_score(r, ids[i]);
        if (k == 0 || better(sc, ids[i], s[0], out[0])) {
            s[1] = s[0];
            out[1] = out[0];
            s[0] = sc;
            out[0] = ids[i];
            k += k < HOME_COPIES;
        } else if (k == 1 || better(sc, ids[i], s[1], out[1])) {
            s[1] = sc;
            out[1] = ids[i];
            k = HOME_COPIES;
        }
    }
    return k;
}

int home_has(const uint64_t *h, size_t k, uint64_t id)
{
    for (size_t i = 0; i < k; i++)
        if (h[i] == id)
            return 1;
    return 0;
}
