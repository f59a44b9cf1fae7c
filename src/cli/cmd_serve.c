/* Placeholder until this verb is built; it says so and fails, it never pretends. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "voiceclone %s: not implemented yet\n", argv[0]);
    return 2;
}
