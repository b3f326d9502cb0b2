/* cmd_corpus.c: `dokja corpus ...` (placeholder until the corpus module lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_corpus(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "%s: not built yet\n", argv[0]);
    return 1;
}
