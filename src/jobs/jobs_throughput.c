/*
 * Estimates from measured throughput (jobs_internal.h): seconds of work per unit of input (a
 * second of audio to convert, a second of speech to generate at 32 steps), kept per key — the job
 * kind plus what makes it faster or slower (the voice's version and rate, the F5-TTS weights in
 * use) — in data/throughput.json. Each finished job folds its own rate in (an exponential moving
 * average, 0.3 for the newest; the first measurement replaces the built-in default), so an
 * estimate scales with the input and follows this machine. The file is small and rewritten
 * atomically; it is kept out of the database on purpose (no schema, any store backend).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/jobs_internal.h"

static pthread_mutex_t MU = PTHREAD_MUTEX_INITIALIZER;

static void file_path(store *s, char *out, size_t cap) { store_path(s, out, cap, "throughput.json"); }

double jobs_throughput_estimate(store *s, const char *key, double units, double default_rate, double overhead)
{
    char path[1200];
    file_path(s, path, sizeof path);
    pthread_mutex_lock(&MU);
    json_t *all = json_load_file(path, 0, NULL);
    pthread_mutex_unlock(&MU);
    json_t *rate = json_object_get(json_object_get(all, key), "seconds_per_unit");
    json_t *ovh = json_object_get(json_object_get(all, key), "overhead_seconds");
    double r = json_is_number(rate) && json_number_value(rate) > 0 ? json_number_value(rate) : default_rate;
    double o = json_is_number(ovh) && json_number_value(ovh) >= 0 ? json_number_value(ovh) : overhead;
    json_decref(all);
    double est = r * (units > 0 ? units : 0) + o;
    return isfinite(est) ? round(est * 10) / 10 : -1;
}

void jobs_throughput_record(store *s, const char *key, double units, double seconds, double overhead)
{
    if (!(units > 0) || !(seconds > 0) || !isfinite(seconds)) return;
    char path[1200];
    file_path(s, path, sizeof path);
    double measured = fmax(seconds - overhead, 0.05 * seconds) / units;
    pthread_mutex_lock(&MU);
    json_t *all = json_load_file(path, 0, NULL);
    if (!json_is_object(all)) {
        json_decref(all);
        all = json_object();
    }
    json_t *k = json_object_get(all, key);
    json_t *old = json_object_get(k, "seconds_per_unit");
    double rate = json_is_number(old) && json_number_value(old) > 0 ? 0.7 * json_number_value(old) + 0.3 * measured : measured;
    json_int_t n = json_integer_value(json_object_get(k, "jobs")) + 1;
    json_object_set_new(all, key, json_pack("{s:f, s:f, s:I}", "seconds_per_unit", rate, "overhead_seconds", overhead, "jobs", n));
    char *text = json_dumps(all, JSON_INDENT(1) | JSON_SORT_KEYS);
    vc_error ignored; /* an estimate that is not saved only makes the next one less exact */
    if (text) vc_write_atomic(path, text, strlen(text), &ignored);
    free(text);
    json_decref(all);
    pthread_mutex_unlock(&MU);
}
