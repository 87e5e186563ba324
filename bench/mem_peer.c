/*
 * mem_peer.c -- the C peer of bench/mem.dasm: writes, then reads, a 1 GiB
 * malloc'd array of 64-bit words, 8 passes each (word i of pass p is
 * i + p; the reads sum every word of every pass).  The word count comes
 * from the command line.  Prints the checksum.
 *
 *     mem_peer WORDS
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define PASSES 8

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mem_peer WORDS\n");
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 0);
    uint64_t *arr = malloc(n * sizeof *arr), sum = 0;
    if (!arr) {
        perror("mem_peer");
        return 1;
    }
    for (uint64_t p = 0; p < PASSES; p++)
        for (size_t i = 0; i < n; i++)
            arr[i] = i + p;
    for (uint64_t p = 0; p < PASSES; p++)
        for (size_t i = 0; i < n; i++)
            sum += arr[i];
    printf("%" PRIu64 "\n", sum);
    free(arr);
    return 0;
}
