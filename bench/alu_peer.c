/*
 * alu_peer.c -- the C peer of bench/alu.dasm: the same LCG chain
 * x = x*a + c for COUNT steps, with seed, count, a and c taken from the
 * command line so that the compiler cannot fold the loop.  Prints x.
 *
 *     alu_peer SEED COUNT A C
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: alu_peer SEED COUNT A C\n");
        return 2;
    }
    uint64_t x = strtoull(argv[1], NULL, 0), n = strtoull(argv[2], NULL, 0);
    uint64_t a = strtoull(argv[3], NULL, 0), c = strtoull(argv[4], NULL, 0);
    do {                        /* like the DISA loop: test at the bottom */
        x = x * a;
        x = x + c;
    } while (--n != 0);
    printf("%" PRIu64 "\n", x);
    return 0;
}
