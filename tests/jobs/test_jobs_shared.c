/*
 * The cache of models shared by concurrent jobs (jobs_shared.c): one open per (kind, key) however
 * many jobs ask at once, the same object for all of them, failures not cached, idle entries
 * beyond the limit closed least recently used first, everything closed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jobs/jobs.h"

typedef struct fake_model { char key[64]; } fake_model;

static int opens, closes;
static pthread_mutex_t counts_mu = PTHREAD_MUTEX_INITIALIZER;

static int fake_open(const char *key, void **out, vc_error *err)
{
    if (!strcmp(key, "broken")) return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "no such weights");
    usleep(20000); /* slow enough that concurrent askers overlap */
    fake_model *m = calloc(1, sizeof *m);
    snprintf(m->key, sizeof m->key, "%s", key);
    pthread_mutex_lock(&counts_mu);
    opens++;
    pthread_mutex_unlock(&counts_mu);
    *out = m;
    return 0;
}

static void fake_close(void *m)
{
    closes++;
    free(m);
}

static const job_shared_kind FAKE = {"fake", fake_open, fake_close};

typedef struct asker { jobs_shared *s; void *got; } asker;

static void *ask(void *arg)
{
    asker *a = arg;
    vc_error err;
    if (jobs_shared_acquire(a->s, &FAKE, "weights/f5tts", &a->got, &err) != 0) a->got = NULL;
    return NULL;
}

static void concurrent_askers_share_one_open(void **state)
{
    opens = closes = 0;
    jobs_shared *s = jobs_shared_new();
    asker a[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) { a[i] = (asker){s, NULL}; pthread_create(&t[i], NULL, ask, &a[i]); }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_int_equal(opens, 1);
    for (int i = 0; i < 4; i++) {
        assert_non_null(a[i].got);
        assert_ptr_equal(a[i].got, a[0].got);
        jobs_shared_release(s, a[i].got);
    }
    assert_int_equal(closes, 0); /* idle, kept loaded for the next job */
    assert_int_equal(jobs_shared_count(s), 1);
    jobs_shared_free(s);
    assert_int_equal(closes, 1);
}

static void failures_are_not_cached(void **state)
{
    opens = closes = 0;
    jobs_shared *s = jobs_shared_new();
    void *m = NULL;
    vc_error err;
    assert_int_equal(jobs_shared_acquire(s, &FAKE, "broken", &m, &err), -1);
    assert_int_equal(err.code, VC_ERR_WEIGHTS_MISSING);
    assert_null(m);
    assert_int_equal(jobs_shared_count(s), 0);
    jobs_shared_free(s);
}

static void idle_entries_beyond_two_close_oldest_first(void **state)
{
    opens = closes = 0;
    jobs_shared *s = jobs_shared_new();
    void *m[4];
    vc_error err;
    const char *keys[] = {"voice_a", "voice_b", "voice_c", "voice_d"};
    for (int i = 0; i < 4; i++) assert_int_equal(jobs_shared_acquire(s, &FAKE, keys[i], &m[i], &err), 0);
    for (int i = 0; i < 4; i++) { jobs_shared_release(s, m[i]); usleep(2000); }
    assert_int_equal(jobs_shared_count(s), 2);
    assert_int_equal(closes, 2);
    void *again = NULL;
    assert_int_equal(jobs_shared_acquire(s, &FAKE, "voice_d", &again, &err), 0); /* still loaded: no open */
    assert_int_equal(opens, 4);
    assert_string_equal(((fake_model *)again)->key, "voice_d");
    jobs_shared_release(s, again);
    assert_int_equal(jobs_shared_acquire(s, &FAKE, "voice_a", &again, &err), 0); /* closed earlier: reopened */
    assert_int_equal(opens, 5);
    jobs_shared_release(s, again);
    jobs_shared_free(s);
    assert_int_equal(closes, opens);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The stamp that keys loaded weights changes when a weight file is replaced or added. */
static void stamp_follows_the_files(void **state)
{
    char dir[] = "/tmp/vcs-stamp-XXXXXX", s1[JOBS_STAMP_MAX], s2[JOBS_STAMP_MAX], s3[JOBS_STAMP_MAX], s4[JOBS_STAMP_MAX];
    assert_non_null(mkdtemp(dir));
    const char *const dirs[] = {dir};
    write_file(dir, "model.safetensors", "weights v1");
    jobs_files_stamp(dirs, 1, s1);
    jobs_files_stamp(dirs, 1, s2);
    assert_string_equal(s1, s2);
    write_file(dir, "model.safetensors", "weights v2, longer");
    jobs_files_stamp(dirs, 1, s3);
    assert_string_not_equal(s1, s3);
    write_file(dir, "vocab.txt", "a");
    jobs_files_stamp(dirs, 1, s4);
    assert_string_not_equal(s3, s4);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_askers_share_one_open),
        cmocka_unit_test(failures_are_not_cached),
        cmocka_unit_test(idle_entries_beyond_two_close_oldest_first),
        cmocka_unit_test(stamp_follows_the_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
