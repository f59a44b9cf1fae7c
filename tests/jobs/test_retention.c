/*
 * Unit tests of the retention policy (src/jobs/retention.c) on a bare store with a chosen clock:
 * which audio rows are due (age per purpose, protection by queued/running jobs and by completed
 * training jobs, exact id matching, disabled windows), and what a sweep removes on disk and in
 * the database (rows + files, tus rows naming the audio, old orphan files, old finished jobs with
 * their event logs) and what it leaves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "jobs/jobs_internal.h"
#include "jobs/retention.h"

#define HOUR 3600
#define DAY (24 * HOUR)

typedef struct fixture {
    char dir[256];
    char url[512]; /* "" = SQLite; else a fresh PostgreSQL database (test_db.h) */
    store *s;
    int64_t now;
    retention_config cfg;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vcs-retention-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    vc_error err;
    assert_true(test_db_fresh(f->url, sizeof f->url) >= 0);
    assert_int_equal(store_open_url(&f->s, f->dir, f->url, &err), 0);
    f->now = (int64_t)time(NULL);
    retention_config_defaults(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->s);
    test_db_drop(f->url);
    vc_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

static void exec_sql(fixture *f, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    vc_error err;
    if (store_exec(f->s, sql, &err)) fail_msg("%s: %s", sql, err.message);
}

/* An audio row of age_s seconds with its file on disk. */
static void add_audio(fixture *f, const char *id, const char *purpose, int64_t age_s)
{
    store_audio a = {0};
    snprintf(a.audio_id, sizeof a.audio_id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "local");
    snprintf(a.filename, sizeof a.filename, "%s.wav", id);
    snprintf(a.purpose, sizeof a.purpose, "%s", purpose);
    if (!strcmp(purpose, "output")) snprintf(a.file_path, sizeof a.file_path, "outputs/local/%s.wav", id);
    else snprintf(a.file_path, sizeof a.file_path, "uploads/%s/local/%s.wav", purpose, id);
    vc_error err;
    assert_int_equal(store_audio_insert(f->s, &a, &err), 0);
    time_t created = (time_t)(f->now - age_s);
    struct tm tm;
    char iso[32];
    gmtime_r(&created, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm); /* in C: the SQL spelling differs per dialect */
    exec_sql(f, "UPDATE audio_files SET created_at = '%s' WHERE audio_id = '%s'", iso, id);
    char path[1600], dir[1600];
    store_path(f->s, path, sizeof path, "%s", a.file_path);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(vc_mkdirs(dir, &err), 0);
    assert_int_equal(vc_write_atomic(path, "RIFF", 4, &err), 0);
}

static void add_job(fixture *f, const char *id, const char *kind, const char *state, const char *params,
                    int64_t finished_ago_s)
{
    jobs_row r = {0};
    snprintf(r.job_id, sizeof r.job_id, "%s", id);
    snprintf(r.user_id, sizeof r.user_id, "local");
    snprintf(r.kind, sizeof r.kind, "%s", kind);
    snprintf(r.lane, sizeof r.lane, "cpu");
    r.params_json = (char *)params;
    vc_error err;
    assert_int_equal(jobs_db_insert(f->s, &r, &err), 0);
    assert_int_equal(jobs_db_event(f->s, id, "progress", "{}", NULL, NULL, NULL, NULL, &err), 0);
    exec_sql(f, "UPDATE jobs SET state = '%s', finished_ms = %lld WHERE job_id = '%s'", state,
             finished_ago_s < 0 ? 0LL : (long long)((f->now - finished_ago_s) * 1000), id);
}

static int row_count(fixture *f, const char *sql_fmt, const char *id)
{
    char sql[512];
    snprintf(sql, sizeof sql, sql_fmt, id);
    db_stmt *st;
    vc_error err;
    store_lock(f->s);
    assert_int_equal(db_prepare(store_db(f->s), sql, &st, &err), 0);
    assert_int_equal(db_step(st, &err), 1);
    int n = db_col_int(st, 0);
    db_finalize(st);
    store_unlock(f->s);
    return n;
}

static int audio_exists(fixture *f, const char *id)
{
    return row_count(f, "SELECT COUNT(*) FROM audio_files WHERE audio_id = '%s'", id);
}

static int file_exists(fixture *f, const char *rel)
{
    char path[1600];
    struct stat st;
    store_path(f->s, path, sizeof path, "%s", rel);
    return stat(path, &st) == 0;
}

/* The selected ids joined with ',' in selection order. */
static void selected(fixture *f, char *out, size_t cap)
{
    retention_item *items;
    int n;
    vc_error err;
    assert_int_equal(retention_select(f->s, &f->cfg, f->now, &items, &n, &err), 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, items[i].audio_id, cap - strlen(out) - 1);
        strncat(out, ",", cap - strlen(out) - 1);
    }
    free(items);
}

/* The common scene: every case of the policy once. */
static void scene(fixture *f)
{
    add_audio(f, "audio_old", "target", 25 * HOUR);          /* due: unused, older than 24 h */
    add_audio(f, "audio_recent", "target", 1 * HOUR);        /* kept: recent */
    add_audio(f, "audio_queued", "training", 30 * HOUR);     /* kept: a queued job names it */
    add_audio(f, "audio_running", "reference", 30 * HOUR);   /* kept: a running job names it (nested) */
    add_audio(f, "audio_trained", "training", 30 * HOUR);    /* kept: used for training */
    add_audio(f, "audio_analyzed", "target", 26 * HOUR);     /* due: only a finished analyze named it */
    add_audio(f, "audio_aa", "target", 27 * HOUR);           /* due: a job names audio_aab, not it */
    add_audio(f, "audio_out_old", "output", 8 * DAY);        /* due: output older than 7 days */
    add_audio(f, "audio_out_mid", "output", 2 * DAY);        /* kept: output younger than 7 days */
    add_job(f, "job_q", "sleep", "queued", "{\"audio_id\":\"audio_queued\"}", -1);
    add_job(f, "job_r", "convert_f5tts", "running", "{\"x\":{\"ids\":[\"audio_running\"]}}", -1);
    add_job(f, "job_t", "train_rvc", "complete", "{\"audio_ids\":[\"audio_trained\"]}", 10 * DAY);
    add_job(f, "job_a", "analyze", "complete", "{\"audio_id\":\"audio_analyzed\"}", 1 * HOUR);
    add_job(f, "job_p", "sleep", "running", "{\"audio_id\":\"audio_aab\"}", -1);
}

static void selection_follows_the_policy(void **state)
{
    fixture *f = *state;
    scene(f);
    char got[1024];
    selected(f, got, sizeof got);
    /* oldest first */
    assert_string_equal(got, "audio_out_old,audio_aa,audio_analyzed,audio_old,");
}

static void zero_windows_keep_everything_of_their_kind(void **state)
{
    fixture *f = *state;
    scene(f);
    char got[1024];
    f->cfg.uploads_seconds = 0;
    selected(f, got, sizeof got);
    assert_string_equal(got, "audio_out_old,");
    f->cfg.uploads_seconds = 24 * HOUR;
    f->cfg.outputs_seconds = 0;
    selected(f, got, sizeof got);
    assert_string_equal(got, "audio_aa,audio_analyzed,audio_old,");
}

static void finishing_the_job_releases_the_audio(void **state)
{
    fixture *f = *state;
    scene(f);
    exec_sql(f, "UPDATE jobs SET state = 'cancelled' WHERE job_id = 'job_q'");
    exec_sql(f, "UPDATE jobs SET state = 'failed' WHERE job_id = 'job_r'");
    char got[1024];
    selected(f, got, sizeof got);
    assert_string_equal(got, "audio_out_old,audio_queued,audio_running,audio_aa,audio_analyzed,audio_old,");
}

/* A saved instant voice keeps its clip however old; deleting the voice lets the clip age out. */
static void a_saved_voice_keeps_its_clip(void **state)
{
    fixture *f = *state;
    vc_error err;
    add_audio(f, "audio_voice", "reference", 40 * DAY);
    add_audio(f, "audio_plain", "reference", 30 * HOUR);
    store_voice v = {.reference_text = "Some call me nature."};
    snprintf(v.voice_id, sizeof v.voice_id, "voice_1");
    snprintf(v.user_id, sizeof v.user_id, "local");
    snprintf(v.name, sizeof v.name, "Narrator");
    snprintf(v.audio_id, sizeof v.audio_id, "audio_voice");
    assert_int_equal(store_voice_insert(f->s, &v, &err), 0);
    char got[1024];
    selected(f, got, sizeof got);
    assert_string_equal(got, "audio_plain,");
    assert_int_equal(store_voice_delete(f->s, "local", "voice_1", &err), 0);
    selected(f, got, sizeof got);
    assert_string_equal(got, "audio_voice,audio_plain,");
}

static void sweep_removes_rows_files_and_old_jobs(void **state)
{
    fixture *f = *state;
    scene(f);
    exec_sql(f, "INSERT INTO uploads (upload_id, user_id, kind, purpose, filename, expires_at, state, audio_id) "
                "VALUES ('upl_1', 'local', 'tus', 'target', 'a.wav', 0, 'complete', 'audio_old')");
    add_job(f, "job_old_done", "analyze", "complete", "{}", 8 * DAY);
    add_job(f, "job_old_failed", "sleep", "failed", "{}", 8 * DAY);
    retention_report rep;
    vc_error err;
    assert_int_equal(retention_sweep(f->s, &f->cfg, f->now, &rep, &err), 0);
    assert_int_equal(rep.audio_deleted, 4);
    assert_int_equal(rep.jobs_deleted, 2);
    static const char *const GONE[] = {"audio_old", "audio_analyzed", "audio_aa", "audio_out_old"};
    for (int i = 0; i < 4; i++) assert_int_equal(audio_exists(f, GONE[i]), 0);
    assert_false(file_exists(f, "uploads/target/local/audio_old.wav"));
    assert_false(file_exists(f, "outputs/local/audio_out_old.wav"));
    static const char *const KEPT[] = {"audio_recent", "audio_queued", "audio_running", "audio_trained", "audio_out_mid"};
    for (int i = 0; i < 5; i++) assert_int_equal(audio_exists(f, KEPT[i]), 1);
    assert_true(file_exists(f, "uploads/training/local/audio_queued.wav"));
    assert_true(file_exists(f, "uploads/reference/local/audio_running.wav"));
    assert_true(file_exists(f, "outputs/local/audio_out_mid.wav"));
    assert_int_equal(row_count(f, "SELECT COUNT(*) FROM uploads WHERE upload_id = '%s'", "upl_1"), 0);
    assert_int_equal(row_count(f, "SELECT COUNT(*) FROM jobs WHERE job_id = '%s'", "job_old_done"), 0);
    assert_int_equal(row_count(f, "SELECT COUNT(*) FROM job_events WHERE job_id = '%s'", "job_old_done"), 0);
    /* training jobs are kept (they record what was used for training); recent/unfinished too */
    assert_int_equal(row_count(f, "SELECT COUNT(*) FROM jobs WHERE job_id = '%s'", "job_t"), 1);
    assert_int_equal(row_count(f, "SELECT COUNT(*) FROM job_events WHERE job_id = '%s'", "job_a"), 1);
    assert_int_equal(row_count(f, "SELECT COUNT(*) FROM jobs WHERE job_id = '%s'", "job_r"), 1);
    /* a second sweep finds nothing more */
    assert_int_equal(retention_sweep(f->s, &f->cfg, f->now, &rep, &err), 0);
    assert_int_equal(rep.audio_deleted + rep.jobs_deleted + rep.orphans_deleted, 0);
}

static void write_file_aged(fixture *f, const char *rel, int64_t age_s)
{
    char path[1600], dir[1600];
    vc_error err;
    store_path(f->s, path, sizeof path, "%s", rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(vc_mkdirs(dir, &err), 0);
    assert_int_equal(vc_write_atomic(path, "x", 1, &err), 0);
    struct timeval tv[2] = {{(time_t)(f->now - age_s), 0}, {(time_t)(f->now - age_s), 0}};
    assert_int_equal(utimes(path, tv), 0);
}

static void sweep_removes_old_orphan_files_only(void **state)
{
    fixture *f = *state;
    add_audio(f, "audio_row", "output", 1 * HOUR);
    write_file_aged(f, "outputs/local/audio_row.wav.mp3", 9 * DAY);    /* cache of a live row: kept */
    write_file_aged(f, "outputs/local/audio_lost.bin", 8 * DAY);       /* no row, old: removed */
    write_file_aged(f, "outputs/local/audio_new.bin", 1 * HOUR);       /* no row, young: kept */
    write_file_aged(f, "uploads/target/local/audio_crash.wav", 2 * DAY); /* row deleted, file left by a crash */
    write_file_aged(f, "models/model_1/model.pth", 400 * DAY);         /* models: never */
    retention_report rep;
    vc_error err;
    assert_int_equal(retention_sweep(f->s, &f->cfg, f->now, &rep, &err), 0);
    assert_int_equal(rep.orphans_deleted, 2);
    assert_true(file_exists(f, "outputs/local/audio_row.wav.mp3"));
    assert_false(file_exists(f, "outputs/local/audio_lost.bin"));
    assert_true(file_exists(f, "outputs/local/audio_new.bin"));
    assert_false(file_exists(f, "uploads/target/local/audio_crash.wav"));
    assert_true(file_exists(f, "models/model_1/model.pth"));
}

/* data/training/{job}/ lives while its job may still run (it resumes from there); the CLI's
 * cli-* folders are never touched. */
static void sweep_removes_training_folders_of_ended_jobs(void **state)
{
    fixture *f = *state;
    add_job(f, "job_training_live", "train_rvc", "running", "{}", 0);
    add_job(f, "job_training_dead", "train_rvc", "failed", "{}", 1 * HOUR);
    write_file_aged(f, "training/job_training_live/dataset.safetensors", 1 * HOUR);
    write_file_aged(f, "training/job_training_dead/dataset.safetensors", 1 * HOUR);
    write_file_aged(f, "training/job_gone/trainer/checkpoint.safetensors", 1 * HOUR);
    write_file_aged(f, "training/cli-my-voice/dataset.safetensors", 1 * HOUR);
    retention_report rep;
    vc_error err;
    assert_int_equal(retention_sweep(f->s, &f->cfg, f->now, &rep, &err), 0);
    assert_int_equal(rep.orphans_deleted, 2);
    assert_true(file_exists(f, "training/job_training_live/dataset.safetensors"));
    assert_false(file_exists(f, "training/job_training_dead/dataset.safetensors"));
    assert_false(file_exists(f, "training/job_gone/trainer/checkpoint.safetensors"));
    assert_true(file_exists(f, "training/cli-my-voice/dataset.safetensors"));
}

static void env_is_parsed_and_checked(void **state)
{
    retention_config c;
    vc_error err;
    retention_config_defaults(&c);
    assert_true(c.uploads_seconds == 24.0 * HOUR && c.outputs_seconds == 7.0 * DAY);
    setenv("VCS_RETAIN_UPLOADS_HOURS", "0.5", 1);
    setenv("VCS_RETAIN_OUTPUTS_DAYS", "0", 1);
    setenv("VCS_RETENTION_INTERVAL_S", "2.5", 1);
    assert_int_equal(retention_config_from_env(&c, &err), 0);
    assert_true(c.uploads_seconds == 1800 && c.outputs_seconds == 0 && c.interval_seconds == 2.5);
    setenv("VCS_RETAIN_OUTPUTS_DAYS", "-1", 1);
    assert_int_equal(retention_config_from_env(&c, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    setenv("VCS_RETAIN_OUTPUTS_DAYS", "7d", 1);
    assert_int_equal(retention_config_from_env(&c, &err), -1);
    unsetenv("VCS_RETAIN_UPLOADS_HOURS");
    unsetenv("VCS_RETAIN_OUTPUTS_DAYS");
    unsetenv("VCS_RETENTION_INTERVAL_S");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(selection_follows_the_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_windows_keep_everything_of_their_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(finishing_the_job_releases_the_audio, setup, teardown),
        cmocka_unit_test_setup_teardown(a_saved_voice_keeps_its_clip, setup, teardown),
        cmocka_unit_test_setup_teardown(sweep_removes_rows_files_and_old_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(sweep_removes_old_orphan_files_only, setup, teardown),
        cmocka_unit_test_setup_teardown(sweep_removes_training_folders_of_ended_jobs, setup, teardown),
        cmocka_unit_test(env_is_parsed_and_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
