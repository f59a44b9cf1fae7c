/*
 * libFuzzer target for the voice .zip reader (rvc_import_unzip): the bytes become an archive
 * that is extracted into a scratch folder. Crashes, leaks, undefined behaviour and output past
 * the caps (the scratch folder is measured) are findings. Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/rvc/rvc_import.h"

static long long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char zip[64], dir[64], out[96];
    snprintf(zip, sizeof zip, "/tmp/vcs-fuzz-zip-%d.zip", (int)getpid());
    snprintf(dir, sizeof dir, "/tmp/vcs-fuzz-zip-%d.d", (int)getpid());
    mkdir(dir, 0700);
    FILE *f = fopen(zip, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    int has_index = 0;
    vc_error err;
    rvc_import_unzip(zip, dir, &has_index, &err);
    /* whatever was written stays within 100x the archive plus 1 MiB per entry */
    long long written = 0;
    snprintf(out, sizeof out, "%s/model.pth", dir);
    written += size_of(out);
    unlink(out);
    snprintf(out, sizeof out, "%s/model.index", dir);
    written += size_of(out);
    unlink(out);
    if (written > (long long)size * 100 + (2 << 20)) abort();
    unlink(zip);
    return 0;
}
