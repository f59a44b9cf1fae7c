/*
 * The RVC tensor lists (rvc_specs.c) used to write full-size benchmark models must name and
 * shape every tensor exactly as the released files do: checked both ways against the golden
 * files of the small configs (every spec is in the file with its shape; every float tensor of
 * the file is in the specs, BatchNorm's integer counters aside), and the full-size lists
 * against the parameter counts docs/PERFORMANCE.md ("PyTorch baseline") gives for the official models.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/rvc/rvc_specs.h"
#include "nn/weights.h"

static nn_weights *open_golden(const char *rel)
{
    const char *r = getenv("VCS_TEST_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/rvc/%s", r ? r : ".", rel);
    nn_weights *w = NULL;
    vc_error err;
    if (nn_weights_open(path, &w, &err) != 0) fail_msg("%s: %s", path, err.message);
    return w;
}

static int spec_index(const nn_tensor_spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(specs[i].name, name)) return (int)i;
    return -1;
}

static void assert_specs_match_file(const nn_tensor_spec *specs, size_t n, const nn_weights *w)
{
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const nn_tensor *t = nn_weights_get(w, specs[i].name);
        if (!t) fail_msg("spec %s is not in the golden file", specs[i].name);
        assert_int_equal(t->ndim, specs[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] != specs[i].shape[d])
                fail_msg("%s: dim %d is %lld in the file, %lld in the spec", specs[i].name, d, (long long)t->shape[d],
                         (long long)specs[i].shape[d]);
    }
    for (size_t i = 0; i < nn_weights_count(w); i++) {
        const char *name = nn_weights_name(w, i);
        if (strstr(name, "num_batches_tracked")) continue;
        if (spec_index(specs, n, name) < 0) fail_msg("file tensor %s has no spec", name);
    }
}

/* Checks specs[0..n) (taken over: freed here) against a golden weight file. */
static void check_against_golden(nn_tensor_spec *specs, size_t n, const char *rel)
{
    nn_weights *w = open_golden(rel);
    assert_specs_match_file(specs, n, w);
    nn_weights_free(w);
    free(specs);
}

static void hubert_specs_match_the_golden_file(void **state)
{
    const hubert_size small = {128, 96, 3, 192, 128, 16, 32};
    nn_tensor_spec *specs = NULL;
    size_t n = hubert_tensor_specs(&small, &specs);
    check_against_golden(specs, n, "hubert_small/hubert.safetensors");
}

static void rmvpe_specs_match_the_golden_file(void **state)
{
    const rmvpe_size small = {2, 5, 2, 1, 128, 256, 360};
    nn_tensor_spec *specs = NULL;
    size_t n = rmvpe_tensor_specs(&small, &specs);
    check_against_golden(specs, n, "rmvpe_small/rmvpe.safetensors");
}

static void synth_specs_match_the_golden_file(void **state)
{
    json_error_t jerr;
    json_t *cfg_json = json_loads("[1025, 36, 32, 32, 64, 2, 2, 3, 0, \"1\", [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "
                                  "[12, 10, 2, 2], 64, [24, 20, 4, 4], 4, 16, 48000]", 0, &jerr);
    rvc_synth_config c;
    vc_error err;
    assert_int_equal(rvc_synth_config_parse(cfg_json, &c, &err), 0);
    c.phone_dim = 768;
    c.f0 = 1;
    nn_tensor_spec *specs = NULL;
    size_t n = rvc_synth_tensor_specs(&c, &specs);
    check_against_golden(specs, n, "synth_v2_48k_small/synthesizer.safetensors");
    json_decref(cfg_json);
}

static double millions(nn_tensor_spec *specs, size_t n)
{
    double params = 0;
    for (size_t i = 0; i < n; i++) {
        double k = 1;
        for (int d = 0; d < specs[i].ndim; d++) k *= (double)specs[i].shape[d];
        params += k;
    }
    free(specs);
    return params / 1e6;
}

static void full_size_lists_have_the_released_parameter_counts(void **state)
{
    nn_tensor_spec *specs = NULL;
    size_t n = hubert_tensor_specs(&HUBERT_BASE, &specs);
    double hubert = millions(specs, n);
    n = rmvpe_tensor_specs(&RMVPE_FULL, &specs);
    double rmvpe = millions(specs, n);
    json_t *cfg_json = json_loads(RVC_V2_48K_CONFIG_JSON, 0, NULL);
    rvc_synth_config c;
    vc_error err;
    assert_int_equal(rvc_synth_config_parse(cfg_json, &c, &err), 0);
    json_decref(cfg_json);
    c.phone_dim = 768;
    c.f0 = 1;
    n = rvc_synth_tensor_specs(&c, &specs);
    double synth = millions(specs, n);
    print_message("HuBERT %.2f M, RMVPE %.2f M, v2 48k synthesizer %.2f M parameters\n", hubert, rmvpe, synth);
    /* PyTorch baseline (docs/PERFORMANCE.md): HuBERT base 94.4 M (torchaudio's model, which has no final_proj: 0.2 M more here),
     * RMVPE 90.4 M (BatchNorm running statistics counted here, 0.01 M), synthesizer 28.7 M. */
    assert_true(hubert > 94.3 && hubert < 94.8);
    assert_true(rmvpe > 90.3 && rmvpe < 90.5);
    assert_true(synth > 28.6 && synth < 28.8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hubert_specs_match_the_golden_file), cmocka_unit_test(rmvpe_specs_match_the_golden_file),
        cmocka_unit_test(synth_specs_match_the_golden_file),
        cmocka_unit_test(full_size_lists_have_the_released_parameter_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
