/*
 * Retention against the real server with windows of seconds (uploads 3.6 s, outputs and finished
 * jobs 4.3 s, a sweep every 0.3 s): an old unused upload disappears (404 and its file gone) while
 * a recent one, one named by a queued job, one named by a running job and an old model stay; a
 * finished job and its output file go after the outputs window; once the jobs that protected the
 * audio are cancelled, that audio goes too (so the protection, not luck, kept it). Crash leftovers
 * (temp files, import staging) go at the next start; real files and writes in flight stay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_server.h"

static test_server S;
static const char *const ENV[] = {"VCS_JOBS_TEST_KINDS=1", "VCS_RETAIN_UPLOADS_HOURS=0.001",
                                  "VCS_RETAIN_OUTPUTS_DAYS=0.00005", "VCS_RETENTION_INTERVAL_S=0.3", NULL};

static int setup(void **state) { return test_server_start(&S, ENV, NULL); }
static int teardown(void **state) { return test_server_stop(&S) == 0 ? 0 : -1; }

static long audio_status_on(test_server *srv, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/audio/%s", id);
    return api_status(srv, "GET", path);
}

static long audio_status(const char *id) { return audio_status_on(&S, id); }

static int files_named(const char *sub, const char *id)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", S.data_dir, sub);
    return api_count_files(dir, id);
}

/* Polls until GET path answers want (seconds at most); returns the last status. */
static long wait_status(const char *path, long want, double seconds)
{
    long st = 0;
    for (double t0 = api_now_ms(); api_now_ms() - t0 < seconds * 1000; usleep(100000))
        if ((st = api_status(&S, "GET", path)) == want) break;
    return st;
}

/* A model row from long ago with its folder, written straight into the store (no API creates one). */
static void add_old_model(void)
{
    char dir[400], cmd[900];
    snprintf(dir, sizeof dir, "%s/models/model_keep", S.data_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && echo weights > %s/model.pth && touch -d '2020-01-01' %s/model.pth", dir,
             dir, dir);
    assert_int_equal(system(cmd), 0);
    store *st; /* a second connection beside the server's (SQLite file or PostgreSQL) */
    vc_error err;
    assert_int_equal(store_open_url(&st, S.data_dir, S.db_url, &err), 0);
    assert_int_equal(store_exec(st,
                                "INSERT INTO models (model_id, user_id, name, created_at, file_path) VALUES "
                                "('model_keep', 'local', 'old', '2020-01-01T00:00:00Z', 'models/model_keep')",
                                &err),
                     0);
    store_close(st);
}

static void old_unused_audio_goes_what_is_needed_stays(void **state)
{
    char a[64], b[64], c[64], d[64], params[256], j_block[64], j_queued[64], j_running[64], j_done[64], path[160];
    api_upload_tone(&S, 1.0, a, sizeof a);
    api_upload_tone(&S, 1.0, b, sizeof b);
    api_upload_tone(&S, 1.0, c, sizeof c);
    add_old_model();
    api_submit_sleep(&S, "{\"seconds\":60,\"steps\":600,\"lane\":\"train\"}", j_block, sizeof j_block);
    snprintf(params, sizeof params, "{\"lane\":\"train\",\"audio_id\":\"%s\"}", b); /* waits behind j_block */
    api_submit_sleep(&S, params, j_queued, sizeof j_queued);
    snprintf(params, sizeof params, "{\"seconds\":60,\"steps\":600,\"inputs\":[\"%s\"]}", c);
    api_submit_sleep(&S, params, j_running, sizeof j_running);
    api_submit_sleep(&S, "{\"seconds\":0,\"steps\":1,\"output_bytes\":1000}", j_done, sizeof j_done);
    assert_string_equal(api_wait_terminal(&S, j_done, 5), "complete");
    assert_int_equal(files_named("outputs", "audio_"), 1);
    assert_int_equal(files_named("uploads", a), 1);

    snprintf(path, sizeof path, "/api/audio/%s", a);
    assert_int_equal(wait_status(path, 404, 10), 404); /* 3.6 s window + sweep interval */
    assert_int_equal(files_named("uploads", a), 0);
    api_upload_tone(&S, 1.0, d, sizeof d);
    usleep(1500000); /* several sweeps */
    assert_int_equal(audio_status(d), 200);
    assert_int_equal(audio_status(b), 200);
    assert_int_equal(audio_status(c), 200);
    assert_int_equal(files_named("uploads", b), 1);
    assert_int_equal(files_named("uploads", c), 1);
    assert_string_equal(api_job_status(&S, j_queued), "queued");
    assert_string_equal(api_job_status(&S, j_running), "running");
    assert_int_equal(api_status(&S, "GET", "/api/models/model_keep"), 200);
    assert_int_equal(files_named("models", "model.pth"), 1);

    /* the finished job (row + event log) and its output file go after the outputs window */
    snprintf(path, sizeof path, "/api/jobs/%s", j_done);
    assert_int_equal(wait_status(path, 404, 8), 404);
    snprintf(path, sizeof path, "/api/progress/%s", j_done);
    assert_int_equal(api_status(&S, "GET", path), 404);
    for (double t0 = api_now_ms(); files_named("outputs", "audio_") && api_now_ms() - t0 < 4000;) usleep(100000);
    assert_int_equal(files_named("outputs", "audio_"), 0);

    /* released by cancelling the jobs that named them */
    snprintf(path, sizeof path, "/api/jobs/%s", j_queued);
    api_call(&S, "DELETE", path, NULL, 200);
    snprintf(path, sizeof path, "/api/jobs/%s", j_running);
    api_call(&S, "DELETE", path, NULL, 200);
    snprintf(path, sizeof path, "/api/audio/%s", b);
    assert_int_equal(wait_status(path, 404, 5), 404);
    snprintf(path, sizeof path, "/api/audio/%s", c);
    assert_int_equal(wait_status(path, 404, 5), 404);
    assert_int_equal(files_named("uploads", b) + files_named("uploads", c), 0);
    assert_int_equal(api_status(&S, "GET", "/api/models/model_keep"), 200);
    snprintf(path, sizeof path, "/api/jobs/%s", j_block);
    api_call(&S, "DELETE", path, NULL, 200);
}

/* Makes data/rel (folders too) with a line of text; old: last changed in 2020. */
static void plant(const test_server *srv, const char *rel, int old)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "f='%s/%s'; mkdir -p \"$(dirname \"$f\")\" && echo leftover > \"$f\"%s", srv->data_dir, rel,
             old ? " && touch -d 2020-01-01 \"$f\" \"$(dirname \"$f\")\"" : "");
    assert_int_equal(system(cmd), 0);
}

static int exists(const test_server *srv, const char *rel)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", srv->data_dir, rel);
    return access(path, F_OK) == 0;
}

/* What a crash leaves (temp files of atomic writes, an import's staging folder) goes at the next
 * start once untouched for VCS_RETAIN_TEMPS_HOURS; a temp file still being written (fresh), real
 * files (however old) and resumable downloads (.part) stay. Planted while the server runs with a
 * sweep only at startup (env), so they are seen to survive until the restart. */
static void leftovers_go_at_restart(const char *const *env)
{
    test_server srv;
    assert_int_equal(test_server_start(&srv, env, NULL), 0);
    char a[64], file[200], cmd[600];
    api_upload_tone(&srv, 1.0, a, sizeof a);
    snprintf(file, sizeof file, "uploads/target/local/%s.wav", a);
    assert_true(exists(&srv, file));
    snprintf(cmd, sizeof cmd, "touch -d 2020-01-01 '%s/%s'", srv.data_dir, file);
    assert_int_equal(system(cmd), 0);

    static const char *const GONE[] = {
        "outputs/local/audio_dead00.wav.tmp.Ab12Cd", /* files layer put / stage */
        "uploads/target/local/audio_dead.wav.tmp.QQQQQQ",
        "models/model_dead/model.pth.tmp4242",       /* .pth writer: .tmp<pid> */
        "models/.import-model_dead/model.pth",       /* a crashed import's staging folder */
        "weights/rvc-pretrained/f0G48k.pth.tmp.Zz9Zz9",
    };
    static const char *const STAY[] = {
        "models/model_keep/model.pth", "models/model_keep/notes.tmp", "models/model_keep/x.tmpfile",
        "weights/hubert/hubert_base.pt.part", /* a download resumes from it */
    };
    for (size_t i = 0; i < sizeof GONE / sizeof GONE[0]; i++) plant(&srv, GONE[i], 1);
    for (size_t i = 0; i < sizeof STAY / sizeof STAY[0]; i++) plant(&srv, STAY[i], 1);
    plant(&srv, "outputs/local/audio_live00.wav.tmp.Li1Ve2", 0); /* a write in flight */
    usleep(500000);
    for (size_t i = 0; i < sizeof GONE / sizeof GONE[0]; i++) assert_true(exists(&srv, GONE[i]));

    assert_int_equal(test_server_restart(&srv), 0);
    for (double t0 = api_now_ms(); exists(&srv, GONE[0]) && api_now_ms() - t0 < 5000;) usleep(100000);
    for (size_t i = 0; i < sizeof GONE / sizeof GONE[0]; i++)
        if (exists(&srv, GONE[i])) fail_msg("the leftover %s is still there after the restart", GONE[i]);
    assert_false(exists(&srv, "models/.import-model_dead"));
    for (size_t i = 0; i < sizeof STAY / sizeof STAY[0]; i++)
        if (!exists(&srv, STAY[i])) fail_msg("%s was removed, but it is no crash leftover", STAY[i]);
    assert_true(exists(&srv, "outputs/local/audio_live00.wav.tmp.Li1Ve2"));
    assert_true(exists(&srv, file));
    assert_int_equal(audio_status_on(&srv, a), 200);
    assert_int_equal(test_server_stop(&srv), 0);
}

static void crash_leftovers_go_at_startup_real_files_stay(void **state)
{
    static const char *const ENV2[] = {"VCS_RETAIN_TEMPS_HOURS=0.01", "VCS_RETENTION_INTERVAL_S=3600", NULL};
    leftovers_go_at_restart(ENV2);
}

/* No periodic sweep (interval 0) and no audio or job retention (both windows 0): the startup
 * sweep still takes what a crash left. */
static void crash_leftovers_go_at_startup_without_periodic_sweeps(void **state)
{
    static const char *const ENV3[] = {"VCS_RETAIN_TEMPS_HOURS=0.01", "VCS_RETENTION_INTERVAL_S=0", "VCS_RETAIN_UPLOADS_HOURS=0",
                                       "VCS_RETAIN_OUTPUTS_DAYS=0", NULL};
    leftovers_go_at_restart(ENV3);
}

static void bad_retention_setting_refuses_to_start(void **state)
{
    static const char *const BAD[] = {"VCS_RETAIN_OUTPUTS_DAYS=soon", NULL};
    test_server bad;
    assert_int_equal(test_server_start(&bad, BAD, NULL), -1);
    test_server_cleanup(&bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(old_unused_audio_goes_what_is_needed_stays),
        cmocka_unit_test(crash_leftovers_go_at_startup_real_files_stay),
        cmocka_unit_test(crash_leftovers_go_at_startup_without_periodic_sweeps),
        cmocka_unit_test(bad_retention_setting_refuses_to_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
