/*
 * Speech to speech with the target's timing (whisper_clone_speak_timed) on the tiny golden
 * F5-TTS: a hand-made transcript of two segments must come back as speech inside exactly those
 * spans, silence everywhere else, as long as the target and at the target's loudness (EBU R128),
 * also when pitch-shifted. The input checks: a silent target is "no speech found" before Whisper
 * runs, music-only transcripts count as no words, a voice sample under 3 s is too short, and
 * segments given by the caller are checked.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sndfile.h>
#include <unistd.h>

#include "audio/audio_dsp.h"
#include "models/whisper/whisper_clone.h"
#include "support/test_audio.h"

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
    whisper_clone_target t = {.transcript = {.segments = segs, .n_segments = 3}, .seconds = 4.0, .lufs = -30.0};
    assert_int_equal(whisper_clone_speak_timed(&f5, &ref, "Some call me nature, others call me mother nature.", &t, &p,
                                               0.0, NULL, NULL, &out, &err), 0);
    assert_int_equal(out.sample_rate, F5_SAMPLE_RATE);
    assert_int_equal(out.frames, 4 * F5_SAMPLE_RATE);
    assert_float_equal(rms_between(&out, 0.0, 0.5), 0.0, 0);  /* before the first segment */
    assert_float_equal(rms_between(&out, 1.5, 2.0), 0.0, 0);  /* the pause between them */
    assert_float_equal(rms_between(&out, 3.0, 4.0), 0.0, 0);  /* after the last */
    assert_true(rms_between(&out, 0.5, 1.5) > 0.001);
    assert_true(rms_between(&out, 2.0, 3.0) > 0.001);
    assert_float_equal(audio_integrated_loudness(&out), -30.0, 0.5); /* the target's loudness */
    audio_buffer_free(&out);
    /* a fifth up: same length, same spans, same loudness */
    assert_int_equal(whisper_clone_speak_timed(&f5, &ref, "Some call me nature, others call me mother nature.", &t, &p,
                                               7.0, NULL, NULL, &out, &err), 0);
    assert_int_equal(out.frames, 4 * F5_SAMPLE_RATE);
    assert_true(rms_between(&out, 0.0, 0.45) < 1e-3);
    assert_true(rms_between(&out, 0.5, 1.5) > 0.001);
    assert_float_equal(audio_integrated_loudness(&out), -30.0, 0.5);
    audio_buffer_free(&out);
    audio_buffer_free(&ref);
    f5tts_engine_close(&f5);
}

static void music_and_annotations_are_not_words(void **state)
{
    assert_true(whisper_clone_is_nonspeech(""));
    assert_true(whisper_clone_is_nonspeech(" \u266a\u266a"));
    assert_true(whisper_clone_is_nonspeech(" [Music]"));
    assert_true(whisper_clone_is_nonspeech(" (upbeat music) \u266b"));
    assert_true(whisper_clone_is_nonspeech("*music playing* ..."));
    assert_true(whisper_clone_is_nonspeech("\U0001F3B5 \U0001F3B6 \u2026"));
    assert_false(whisper_clone_is_nonspeech(" Hello there."));
    assert_false(whisper_clone_is_nonspeech("\u266a la la la \u266a"));
    assert_false(whisper_clone_is_nonspeech("[Music] Welcome back."));
    assert_false(whisper_clone_is_nonspeech(" 42"));
    assert_false(whisper_clone_is_nonspeech(" \u4f60\u597d")); /* other scripts are words */
}

static audio_buffer tone(const char *kind, double seconds, double amplitude)
{
    char path[] = "/tmp/vcs-wc-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    audio_buffer b = {0};
    vc_error err;
    assert_int_equal(test_audio_tone(path, 16000, 1, seconds, SF_FORMAT_WAV | SF_FORMAT_PCM_16, kind, amplitude), 0);
    assert_int_equal(audio_decode_file(path, &b, NULL, &err), 0);
    unlink(path);
    return b;
}

static void silence_is_no_speech_before_whisper_runs(void **state)
{
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char model[1024], vocab[1024], speech_path[] = "/tmp/vcs-wcs-XXXXXX";
    snprintf(model, sizeof model, "%s/tests/golden/whisper/tiny_multilingual/model.pt", root);
    snprintf(vocab, sizeof vocab, "%s/tests/golden/whisper/tiny_multilingual/multilingual.tiktoken", root);
    whisper_engine e;
    vc_error err;
    assert_int_equal(whisper_engine_open(&e, model, vocab, &err), 0);
    audio_buffer silent = tone("silence", 5.0, 0.0), hiss = tone("noise", 5.0, 0.001);
    assert_int_equal(whisper_clone_has_sound(&silent, &err), 0);
    assert_int_equal(whisper_clone_has_sound(&hiss, &err), 0);
    whisper_clone_target t;
    assert_int_equal(whisper_clone_read_target(&e, &silent, NULL, NULL, &t, &err), -1);
    assert_int_equal(err.code, VC_ERR_QUALITY_TOO_LOW);
    assert_non_null(strstr(err.message, "no speech found"));
    assert_int_equal(whisper_clone_read_target(&e, &hiss, NULL, NULL, &t, &err), -1);
    assert_non_null(strstr(err.message, "no speech found"));
    int fd = mkstemp(speech_path);
    close(fd);
    audio_buffer speech = {0};
    assert_int_equal(test_audio_speech(speech_path, 3.0), 0);
    assert_int_equal(audio_decode_file(speech_path, &speech, NULL, &err), 0);
    unlink(speech_path);
    assert_int_equal(whisper_clone_has_sound(&speech, &err), 1);
    audio_buffer_free(&speech);
    audio_buffer_free(&silent);
    audio_buffer_free(&hiss);
    whisper_engine_close(&e);
}

static void short_voice_sample_is_refused(void **state)
{
    vc_error err;
    audio_buffer two = {.samples = calloc(48000, sizeof(float)), .frames = 48000, .sample_rate = 24000};
    assert_int_equal(whisper_clone_check_reference(&two, &err), -1);
    assert_int_equal(err.code, VC_ERR_AUDIO_TOO_SHORT);
    assert_non_null(strstr(err.message, "2.0 s"));
    audio_buffer three = {.samples = two.samples, .frames = 72000, .sample_rate = 24000};
    assert_int_equal(whisper_clone_check_reference(&three, &err), 0);
    free(two.samples);
}

static void caller_segments_are_checked(void **state)
{
    audio_buffer target = tone("sine", 4.0, 0.3);
    whisper_clone_target t;
    vc_error err;
    double start[2] = {0.5, 2.0}, end[2] = {1.5, 3.0};
    const char *text[2] = {" Hello", "world."};
    assert_int_equal(whisper_clone_target_from_segments(&target, 2, start, end, text, &t, &err), 0);
    assert_string_equal(t.text, "Hello world.");
    assert_float_equal(t.seconds, 4.0, 1e-6);
    assert_true(t.lufs > -30 && t.lufs < 0);
    whisper_clone_target_free(&t);
    double late[2] = {0.5, 9.0};
    assert_int_equal(whisper_clone_target_from_segments(&target, 2, late, (double[]){1.5, 9.5}, text, &t, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    const char *blank[2] = {" ", ""};
    assert_int_equal(whisper_clone_target_from_segments(&target, 2, start, end, blank, &t, &err), -1);
    assert_non_null(strstr(err.message, "no text"));
    audio_buffer_free(&target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(segments_land_in_their_spans), cmocka_unit_test(music_and_annotations_are_not_words),
                                       cmocka_unit_test(silence_is_no_speech_before_whisper_runs),
                                       cmocka_unit_test(short_voice_sample_is_refused), cmocka_unit_test(caller_segments_are_checked)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
