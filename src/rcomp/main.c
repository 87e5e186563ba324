/*
 * main.c -- `dvm-rcomp`: the RComp process (rcomp.h) in an executable of
 * its own.  The master and the node start every RComp as `EXE __rcomp
 * OPTIONS`; EXE is this file's executable when it is found beside dvm or
 * where it is installed (util/exe.h), else dvm itself.  It links the
 * RComp's layers only: without dvm's cluster transport (UCX), HTTP
 * server, TLS and database libraries, which an RComp never calls, it
 * starts in ~2 ms instead of ~12 (the loader's relocations and those
 * libraries' constructors, paid by every RComp of every run and by every
 * replacement of a lost one).  Being a file of its own, it can be left
 * from another install: the master names its dvm version
 * (--dvm-version), and an RComp of another refuses at setup.
 */
#include <stdio.h>
#include <string.h>

#include "rcomp/rcomp.h"
#include "util/stdfds.h"
#include "util/status.h"

int main(int argc, char **argv)
{
    /* As dvm's main: a closed standard descriptor must not become the
     * frame store or the window. */
    if (stdfds_ensure()) {
        fprintf(stderr, "dvm-rcomp: %s\n", status_message());
        return 2;
    }
    if (argc < 2 || strcmp(argv[1], "__rcomp") != 0) {
        fputs("dvm-rcomp: an RComp, started by dvm (dvm run, dvm node), "
              "never by hand\n", stderr);
        return 2;
    }
    return rcomp_main(argc - 1, argv + 1);
}
