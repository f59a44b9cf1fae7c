/*
 * voiceclone worker [--data DIR]: the scale-out job worker. Jobs (queue, lanes, job kinds) are
 * not in the studio yet, so this verb says so and fails instead of pretending to work.
 */
#include <stdio.h>

#include "cli/cli.h"

int cmd_worker(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "voiceclone %s: not available yet — the jobs module (queue and workers) has not landed; "
                    "`voiceclone serve` covers uploads, analysis and downloads meanwhile\n",
            argv[0]);
    return 2;
}
