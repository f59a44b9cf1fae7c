/*
 * Speech to speech with the target's timing (whisper_clone_speak_timed) on the tiny golden
 * F5-TTS: a hand-made transcript of two segments must come back as speech inside exactly those
 * spans, silence everywhere else, as long as the target and at the target's RMS.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/whisper/whisper_clone.h"

static double rms_between(const audio_buffer *a, double t0, double t1)
{
    size_t i0 = (size_t)(t0 * a->sample_rate), i1 = (size_t)(t1 * a->sample_rate);
    double s = 0;
    for (size_t i = i0; i < i1 && i < a->frames; i++) s += (double)a->samples[i] * a->samples[i];
    return i1 > i0 ? sqrt(s / (double)(i1 - i0)) : 0;
}

static void segments_land_in_their_spans(void **state)
{
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char dit[1024], vocab[1024], vocos[1024], ref_path[1024];
    snprintf(dit, sizeof dit, "%s/tests/golden/f5tts/tiny/weights.safetensors", root);
    snprintf(vocab, sizeof vocab, "%s/tests/golden/f5tts/tiny/vocab.txt", root);
    snprintf(vocos, sizeof vocos, "%s/tests/golden/f5tts/tiny/pytorch_model.bin", root);
    snprintf(ref_path, sizeof ref_path, "%s/tests/golden/f5tts/tiny/ref.wav", root);
    f5tts_engine f5;
    vc_error err;
    assert_int_equal(f5tts_engine_open(&f5, dit, vocab, vocos, &err), 0);
    audio_buffer ref = {0}, out = {0};
    assert_int_equal(audio_decode_file(ref_path, &ref, NULL, &err), 0);
    f5tts_params p;
    f5tts_params_default(&p);
    p.sampler.nfe = 2;
    assert_int_equal(whisper_clone_clip_reference(&ref, &p, &err), 0);
    assert_int_equal(ref.sample_rate, F5_SAMPLE_RATE);
    assert_int_equal(p.clip_reference, 0);

    whisper_segment segs[3] = {
        {.id = 0, .start = 0.5, .end = 1.5, .text = " Hello there, my friend."},
        {.id = 1, .start = 2.0, .end = 3.0, .text = " How are you today?"},
        {.id = 2, .start = 3.5, .end = 3.5, .text = ""}, /* a cleared segment: nothing to say */
    };
    whisper_clone_target t = {.transcript = {.segments = segs, .n_segments = 3}, .seconds = 4.0, .rms = 0.05};
    assert_int_equal(whisper_clone_speak_timed(&f5, &ref, "Some call me nature, others call me mother nature.", &t, &p,
                                               NULL, NULL, &out, &err), 0);
    assert_int_equal(out.sample_rate, F5_SAMPLE_RATE);
    assert_int_equal(out.frames, 4 * F5_SAMPLE_RATE);
    assert_float_equal(rms_between(&out, 0.0, 0.5), 0.0, 0);  /* before the first segment */
    assert_float_equal(rms_between(&out, 1.5, 2.0), 0.0, 0);  /* the pause between them */
    assert_float_equal(rms_between(&out, 3.0, 4.0), 0.0, 0);  /* after the last */
    assert_true(rms_between(&out, 0.5, 1.5) > 0.001);
    assert_true(rms_between(&out, 2.0, 3.0) > 0.001);
    assert_float_equal(rms_between(&out, 0.0, 4.0), 0.05, 0.002); /* the target's loudness */
    audio_buffer_free(&out);
    audio_buffer_free(&ref);
    f5tts_engine_close(&f5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(segments_land_in_their_spans)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
