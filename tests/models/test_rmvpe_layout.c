/*
 * RMVPE's U-Net in the engine's blocked layout (the default wherever the channel counts are
 * multiples of the block, as in the released model) against the same model on plain planes,
 * which the official-code golden case checks (its reduced model has 2 channels and so runs
 * plain). Random weights at 16 encoder channels, 2 encoder/decoder levels, 1 middle level.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/rmvpe/rmvpe.h"
#include "models/rvc/rvc_specs.h"
#include "nn/safetensors_write.h"
#include "nn/weights.h"

/* Uniform ±0.3; running variances in [0.5, 1.5] (they must be positive). */
static void fill(void *ctx, size_t index, float *dst, int64_t numel)
{
    const nn_tensor_spec *specs = ctx;
    int var = strstr(specs[index].name, "running_var") != NULL;
    unsigned seed = 77u + (unsigned)index * 7919u;
    for (int64_t i = 0; i < numel; i++) {
        seed = seed * 1103515245u + 12345u;
        float u = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
        dst[i] = var ? 1.0f + 0.5f * u : 0.3f * u;
    }
}

static void blocked_equals_plain(void **state)
{
    (void)state;
    rmvpe_size z = RMVPE_FULL;
    z.en_de_layers = 2;
    z.inter_layers = 1;
    z.n_blocks = 1;
    nn_tensor_spec *specs = NULL;
    size_t n = rmvpe_tensor_specs(&z, &specs);
    char path[] = "/tmp/vcs-test-rmvpe-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0 && n > 0);
    close(fd);
    vc_error err = {0};
    assert_int_equal(nn_safetensors_write(path, specs, n, fill, specs, &err), 0);
    nn_weights *w = NULL;
    rmvpe *m = NULL;
    if (nn_weights_open(path, &w, &err) != 0 || rmvpe_load(&m, w, "", &err) != 0) fail_msg("%s", err.message);
    const int frames = 70; /* padded to 96 frames inside */
    float *mel = malloc(sizeof(float) * frames * 128), *s[2];
    for (int i = 0; i < frames * 128; i++) mel[i] = (float)sin(i * 0.013) * 2.0f - 3.0f;
    for (int plain = 0; plain < 2; plain++) {
        rmvpe_set_plain(m, plain);
        s[plain] = malloc(sizeof(float) * frames * 360);
        assert_int_equal(rmvpe_salience(m, mel, frames, s[plain], &err), 0);
    }
    double worst = 0;
    for (int i = 0; i < frames * 360; i++) worst = fmax(worst, fabs((double)s[0][i] - s[1][i]));
    assert_true(worst < 1e-4);
    free(s[0]); free(s[1]); free(mel); free(specs);
    rmvpe_free(m);
    nn_weights_free(w);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(blocked_equals_plain)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
