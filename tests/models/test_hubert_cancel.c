/*
 * HuBERT polls its cancel hook before each transformer layer (hubert_extract_cancellable), so a
 * feature-extraction pass (training-set preparation, a conversion chunk of up to 41 s) stops
 * within one layer of a request. Golden small model (3 layers): the hook is asked once per layer;
 * a request at layer k stops there with VC_ERR_CANCELLED (no later layer runs); a hook that never
 * asks gives exactly hubert_extract's features.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/hubert/hubert.h"

typedef struct poll { int calls, stop_at; } poll;

static int asked(void *ctx)
{
    poll *p = ctx;
    return ++p->calls >= p->stop_at;
}

static void load(hubert_model *m, nn_weights **w)
{
    const char *r = getenv("VCS_TEST_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/rvc/hubert_small/hubert.safetensors", r ? r : ".");
    vc_error err;
    if (nn_weights_open(path, w, &err) != 0 || hubert_load(m, *w, "", 2, &err) != 0) fail_msg("%s", err.message);
}

static void cancel_between_layers(void **state)
{
    hubert_model m;
    nn_weights *w = NULL;
    load(&m, &w);
    assert_int_equal(m.layers, 3);
    int n = 16000, T = hubert_frames(&m, n);
    float *wave = malloc(sizeof(float) * (size_t)n), *a = calloc((size_t)T * m.embed, sizeof(float)),
          *b = calloc((size_t)T * m.embed, sizeof(float));
    for (int i = 0; i < n; i++) wave[i] = (float)(0.3 * sin(2 * M_PI * 170.0 * i / 16000.0));
    vc_error err;
    assert_int_equal(hubert_extract(&m, wave, n, 3, 0, a, NULL, NULL, &err), 0);
    poll never = {0, 1 << 30};
    assert_int_equal(hubert_extract_cancellable(&m, wave, n, 3, 0, b, asked, &never, &err), 0);
    assert_int_equal(never.calls, 3); /* once before each layer */
    assert_memory_equal(a, b, sizeof(float) * (size_t)T * m.embed);
    for (int k = 1; k <= 3; k++) {
        poll p = {0, k};
        memset(&err, 0, sizeof err);
        assert_int_equal(hubert_extract_cancellable(&m, wave, n, 3, 0, b, asked, &p, &err), -1);
        assert_int_equal(err.code, VC_ERR_CANCELLED);
        assert_int_equal(p.calls, k); /* stopped at that layer: nothing after it ran or asked */
    }
    free(wave); free(a); free(b);
    hubert_free(&m);
    nn_weights_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(cancel_between_layers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
