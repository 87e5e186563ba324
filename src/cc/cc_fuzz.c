/*
 * cc_fuzz.c -- libFuzzer target for the c0 front end and code generator.
 *
 * The input is compiled as one c0 source; whatever it holds, the compiler
 * must answer with DISA text or diagnostics, never crash, hang or leak.
 * The source is named under a directory that does not exist, so relative
 * #include lines find only the bundled headers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cc/cc.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null;
    if (!null && !(null = fopen("/dev/null", "w")))
        abort();
    cc_opts o = {0};
    char *out = NULL;
    size_t len;
    if (cc_compile_string(&o, "/nonexistent/fuzz.c0", (const char *)data,
                          size, null, &out, &len) == 0)
        dvm_free(out);
    return 0;
}
