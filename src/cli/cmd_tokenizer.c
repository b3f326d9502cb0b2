/* cmd_tokenizer.c: `dokja tokenizer train|encode|decode|stats`. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_tokenizer(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "%s: not built yet\n", argv[0]);
    return 1;
}
