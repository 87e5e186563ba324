/*
 * cmd_translate.c -- `dvm translate [run options] PROG`: the translator's
 * work done ahead of a program's runs.
 *
 * The jit engine interprets a program first and translates a loop once
 * it is hot; the translations are kept per host (jit.h, jit_cache.h), so
 * only a program's first run on a host pays for LLVM, and pays for it
 * while its runners wait.  This command does that work before any run, as
 * a compiler builds ahead of time: it loads the program exactly as `dvm
 * run` would with the same options (the same code, so the same program
 * hash), and translates the region of every loop head into the keeping
 * directory that run will look in (DVM_JIT_KEEP, else the user's cache
 * directory).  Loops already kept are left as they are, so a second
 * translate does nothing.  The run then loads each region the first time
 * its loop is entered (`--stats`: "kept from earlier runs").
 *
 * Exit status: 0 done, 2 a usage or load error, no translator, or nowhere
 * to keep translations.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cmd_run.h"
#include "cli/srcmap.h"
#include "exec/code.h"
#include "exec/jit.h"
#include "exec/jit_cache.h"
#include "util/alloc.h"

/* Translates the loops of p into the keeping directory and says what it
 * did on stdout.  Returns 0 or 2 (message printed). */
static int translate_program(const dvm_program *p, const char *path)
{
    vm_code *code = NULL;
    jit_engine *j = NULL;
    char *dir = NULL;
    jit_ahead a;
    dvm_status st = code_build(p, &code);
    if (!st)
        st = jit_create(code, &j);
    if (!st)
        st = jit_cache_dir_make(&dir);
    if (!st)
        st = jit_share(j, dir, jit_cache_program_hash(p));
    if (!st)
        st = jit_translate_ahead(j, &a);
    if (st)
        fprintf(stderr, "dvm translate: %s: %s\n", path, status_message());
    else
        printf("%s: %" PRIu64 " loops, %" PRIu64 " translated, %" PRIu64
               " kept already, %" PRIu64 " not translated\n", path, a.loops,
               a.translated, a.kept, a.refused);
    jit_destroy(j);
    jit_cache_dir_remove(dir);
    dvm_free(dir);
    code_free(code);
    return st ? 2 : 0;
}

int cmd_translate(int argc, char **argv)
{
    run_opts o;
    int rc = run_opts_init(&o, "translate", argc, argv);
    if (rc)
        return rc;
    if (!jit_available()) {
        fprintf(stderr, "dvm translate: the translator is not built in\n");
        return 2;
    }
    dvm_program *p;
    srcmap *map;
    if (run_load(&o, &p, &map))
        return 2;
    rc = translate_program(p, o.path);
    srcmap_free(map);
    program_free(p);
    return rc;
}
