/*
 * libFuzzer target for the weight loaders: the bytes become a file that nn_weights_open reads
 * (safetensors or PyTorch zip + restricted unpickler, chosen by content). Any crash, leak,
 * overflow or undefined behaviour is a finding; errors are the expected outcome.
 * Built and run by tests/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nn/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/vcs-fuzz-%d.bin", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    nn_weights *w = NULL;
    vc_error err;
    if (nn_weights_open(path, &w, &err) == 0) {
        for (size_t i = 0; i < nn_weights_count(w); i++) (void)nn_weights_get(w, nn_weights_name(w, i));
        nn_weights_free(w);
    }
    unlink(path);
    return 0;
}
