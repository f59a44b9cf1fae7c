/*
 * libFuzzer target for the faiss .index reader (rvc_index_load): the bytes become a file; any
 * crash, leak, overflow, undefined behaviour or allocation beyond -rss_limit_mb is a finding.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "models/rvc/rvc_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/vcs-fuzz-index-%d.index", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    float *bank = NULL;
    int n = 0, d = 0;
    vc_error err;
    if (rvc_index_load(path, &bank, &n, &d, &err) == 0) {
        volatile float sum = 0;
        for (size_t i = 0; i < (size_t)n * (size_t)d; i++) sum += bank[i]; /* every row is readable */
        free(bank);
    }
    unlink(path);
    return 0;
}
