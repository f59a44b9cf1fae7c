/*
 * HuBERT polls its cancel hook before each transformer layer's attention and feed-forward halves
 * and, in the convolutional feature
 * encoder and the positional convolution, before every HUBERT_CONV_CHUNK output frames of each
 * convolution and of each GELU after one and before every NN_GN_BLOCK channels of the GroupNorm
 * (hubert_extract_cancellable), so a feature-extraction
 * pass (training-set preparation, a conversion chunk of up to 41 s) stops within one layer or one
 * chunk of a request; before, the encoder ran seconds before the first poll. Golden small model
 * (3 layers): the hook is asked exactly where documented (the count follows the frames of each
 * stage); a request at poll k stops there with VC_ERR_CANCELLED (nothing after it runs or asks
 * again), in the encoder's chunks as between layers; a hook that never asks gives exactly
 * hubert_extract's features. Golden hubert_small (2 s: two chunks of the first convolution)
 * checks the chunked encoder against PyTorch.
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
#include "nn/ops.h"

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

static int chunks(int frames) { return (frames + HUBERT_CONV_CHUNK - 1) / HUBERT_CONV_CHUNK; }

/* where the hook is asked over n samples: each convolution and the GELU after it once per chunk
 * of its output frames, the first one's GroupNorm per block of channels, the positional
 * convolution (T + 1 frames) per chunk, then each layer's two halves */
static int expected_polls(const hubert_model *m, int n, int layers)
{
    int polls = (m->conv_dim + NN_GN_BLOCK - 1) / NN_GN_BLOCK, T = n;
    for (int i = 0; i < HUBERT_CONV_LAYERS; i++) {
        T = (T - m->conv_kernel[i]) / m->conv_stride[i] + 1;
        polls += 2 * chunks(T);
    }
    return polls + chunks(T + 1) + 2 * layers;
}

static void cancel_between_layers_and_chunks(void **state)
{
    hubert_model m;
    nn_weights *w = NULL;
    load(&m, &w);
    assert_int_equal(m.layers, 3);
    int n = 5 * 16000, T = hubert_frames(&m, n); /* 16 000 frames after the first convolution: 4 chunks */
    float *wave = malloc(sizeof(float) * (size_t)n), *a = calloc((size_t)T * m.embed, sizeof(float)),
          *b = calloc((size_t)T * m.embed, sizeof(float));
    for (int i = 0; i < n; i++) wave[i] = (float)(0.3 * sin(2 * M_PI * 170.0 * i / 16000.0));
    vc_error err;
    assert_int_equal(hubert_extract(&m, wave, n, 3, 0, a, NULL, NULL, &err), 0);
    poll never = {0, 1 << 30};
    assert_int_equal(hubert_extract_cancellable(&m, wave, n, 3, 0, b, asked, &never, &err), 0);
    assert_memory_equal(a, b, sizeof(float) * (size_t)T * m.embed);
    int total = expected_polls(&m, n, 3);
    assert_true(total > 2 * 7 + 1 + 1 + 2 * 3); /* the first convolution took several chunks */
    assert_int_equal(never.calls, total);
    for (int k = 1; k <= total; k++) { /* the last 6 are the layers', the rest the convolutions' */
        poll p = {0, k};
        memset(&err, 0, sizeof err);
        assert_int_equal(hubert_extract_cancellable(&m, wave, n, 3, 0, b, asked, &p, &err), -1);
        assert_int_equal(err.code, VC_ERR_CANCELLED);
        assert_int_equal(p.calls, k); /* stopped there: nothing after it ran or asked */
    }
    free(wave); free(a); free(b);
    hubert_free(&m);
    nn_weights_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(cancel_between_layers_and_chunks)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
