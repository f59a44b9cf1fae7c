/*
 * voiceclone worker [--data DIR]: a separate job-worker process. The queue, lanes and job kinds
 * run inside `voiceclone serve` (its worker threads); a worker of its own, for running jobs on
 * another process or machine, is not built, so this verb says so and fails instead of pretending.
 */
#include <stdio.h>

#include "cli/cli.h"

int cmd_worker(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "voiceclone %s: not available — jobs run inside `voiceclone serve` (its worker threads, "
                    "VCS_LANE_TRAIN/CONVERT/CPU set how many); a separate worker process is not built\n",
            argv[0]);
    return 2;
}
