/*
 * Store unit tests: migrations (idempotent reopen), id validation, keys, per-user isolation of
 * audio and models, model deletion removing files, chunk bookkeeping, atomic writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "store/store.h"

typedef struct fixture {
    char dir[256];
    char url[512]; /* "" = SQLite; else a fresh PostgreSQL database (test_db.h) */
    store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vcs-store-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    vc_error err;
    assert_true(test_db_fresh(f->url, sizeof f->url) >= 0);
    assert_int_equal(store_open_url(&f->s, f->dir, f->url, &err), 0);
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

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void test_migrations_are_recorded_once(void **state)
{
    fixture *f = *state;
    vc_error err;
    store_close(f->s);
    assert_int_equal(store_open_url(&f->s, f->dir, f->url, &err), 0); /* reopening must not re-run steps */
    store_lock(f->s);
    db_stmt *st;
    assert_int_equal(db_prepare(store_db(f->s), "SELECT count(*) FROM schema_version WHERE module='core'", &st, &err), 0);
    assert_int_equal(db_step(st, &err), 1);
    assert_int_equal(db_col_int(st, 0), 1);
    db_finalize(st);
    if (store_dialect(f->s) == DB_SQLITE) {
        assert_int_equal(db_prepare(store_db(f->s), "PRAGMA journal_mode", &st, &err), 0);
        assert_int_equal(db_step(st, &err), 1);
        assert_string_equal(db_col_text(st, 0), "wal");
        db_finalize(st);
    }
    store_unlock(f->s);
}

static void test_ids(void **state)
{
    (void)state;
    char id[STORE_ID_MAX];
    assert_int_equal(store_new_id("audio", id, NULL), 0);
    assert_int_equal(strlen(id), strlen("audio_") + 24);
    assert_true(store_id_valid(id));
    assert_false(store_id_valid("../etc/passwd"));
    assert_false(store_id_valid(".."));
    assert_false(store_id_valid("a/b"));
    assert_false(store_id_valid(""));
    assert_false(store_id_valid("a%2e"));
    char long_id[80];
    memset(long_id, 'a', 70);
    long_id[70] = 0;
    assert_false(store_id_valid(long_id));
}

static void test_keys(void **state)
{
    fixture *f = *state;
    vc_error err;
    char secret[80], key_id[STORE_ID_MAX], user[STORE_ID_MAX];
    assert_int_equal(store_key_count(f->s, &err), 0);
    assert_int_equal(store_key_create(f->s, "alice", secret, key_id, &err), 0);
    assert_int_equal(store_key_count(f->s, &err), 1);
    assert_int_equal(store_key_lookup(f->s, secret, user, &err), 1);
    assert_string_equal(user, "alice");
    assert_int_equal(store_key_lookup(f->s, "vcs_wrong", user, &err), 0);
    assert_int_equal(store_key_revoke(f->s, key_id, &err), 0);
    assert_int_equal(store_key_lookup(f->s, secret, user, &err), 0);
    assert_int_equal(store_key_count(f->s, &err), 0);
    assert_int_equal(store_key_create(f->s, "../bad", secret, key_id, &err), -1);
}

static void test_audio_isolation(void **state)
{
    fixture *f = *state;
    vc_error err;
    store_audio a = {0}, b;
    snprintf(a.audio_id, sizeof a.audio_id, "audio_1");
    snprintf(a.user_id, sizeof a.user_id, "alice");
    snprintf(a.filename, sizeof a.filename, "x.wav");
    snprintf(a.file_path, sizeof a.file_path, "uploads/target/alice/audio_1.wav");
    snprintf(a.purpose, sizeof a.purpose, "target");
    a.duration_seconds = 12.5;
    a.analysis_json = "{\"snr_db\":30}";
    assert_int_equal(store_audio_insert(f->s, &a, &err), 0);
    assert_int_equal(store_audio_get(f->s, "alice", "audio_1", &b, &err), 0);
    assert_string_equal(b.analysis_json, "{\"snr_db\":30}");
    assert_true(b.duration_seconds == 12.5);
    store_audio_free(&b);
    assert_int_equal(store_audio_get(f->s, "bob", "audio_1", &b, &err), -1);
    assert_int_equal(err.code, VC_ERR_AUDIO_NOT_FOUND);
}

static int count_voice(const store_voice *v, void *ctx)
{
    (void)v;
    (*(int *)ctx)++;
    return 0;
}

/* Instant voices: per user, carry their clip's length, rename, and hold on to their clip. */
static void test_voices(void **state)
{
    fixture *f = *state;
    vc_error err;
    store_audio a = {0};
    snprintf(a.audio_id, sizeof a.audio_id, "audio_ref");
    snprintf(a.user_id, sizeof a.user_id, "alice");
    snprintf(a.filename, sizeof a.filename, "ref.wav");
    snprintf(a.file_path, sizeof a.file_path, "uploads/reference/alice/audio_ref.wav");
    snprintf(a.purpose, sizeof a.purpose, "reference");
    a.duration_seconds = 7.25;
    assert_int_equal(store_audio_insert(f->s, &a, &err), 0);
    store_voice v = {.reference_text = "It's a lovely day."}, got;
    snprintf(v.voice_id, sizeof v.voice_id, "voice_a");
    snprintf(v.user_id, sizeof v.user_id, "bob");
    snprintf(v.name, sizeof v.name, "Alice's voice");
    snprintf(v.audio_id, sizeof v.audio_id, "audio_ref");
    assert_int_equal(store_voice_insert(f->s, &v, &err), -1); /* not bob's clip */
    assert_int_equal(err.code, VC_ERR_AUDIO_NOT_FOUND);
    snprintf(v.user_id, sizeof v.user_id, "alice");
    assert_int_equal(store_voice_insert(f->s, &v, &err), 0);
    assert_int_equal(store_voice_get(f->s, "alice", "voice_a", &got, &err), 0);
    assert_string_equal(got.reference_text, "It's a lovely day.");
    assert_true(got.duration_seconds == 7.25 && got.audio_present);
    store_voice_free(&got);
    assert_int_equal(store_voice_get(f->s, "bob", "voice_a", &got, &err), -1);
    assert_int_equal(err.code, VC_ERR_MODEL_NOT_FOUND);
    assert_int_equal(store_voice_update(f->s, "alice", "voice_a", "Narrator", NULL, &err), 0);
    assert_int_equal(store_voice_get(f->s, "alice", "voice_a", &got, &err), 0);
    assert_string_equal(got.name, "Narrator");
    assert_string_equal(got.reference_text, "It's a lovely day."); /* NULL keeps it */
    store_voice_free(&got);
    int n = 0;
    assert_int_equal(store_voice_list(f->s, "alice", count_voice, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_audio_delete(f->s, "alice", "audio_ref", &err), -1); /* the voice's clip */
    assert_int_equal(err.code, VC_ERR_CONFLICT);
    assert_non_null(strstr(err.message, "Narrator"));
    assert_int_equal(store_voice_delete(f->s, "alice", "voice_a", &err), 0);
    assert_int_equal(store_voice_delete(f->s, "alice", "voice_a", &err), -1);
    assert_int_equal(store_audio_delete(f->s, "alice", "audio_ref", &err), 0);
}

static int count_model(const store_model *m, void *ctx)
{
    (void)m;
    (*(int *)ctx)++;
    return 0;
}

static void test_model_delete_removes_files(void **state)
{
    fixture *f = *state;
    vc_error err;
    store_model m = {0};
    snprintf(m.model_id, sizeof m.model_id, "model_a");
    snprintf(m.user_id, sizeof m.user_id, "alice");
    snprintf(m.name, sizeof m.name, "A");
    snprintf(m.file_path, sizeof m.file_path, "models/model_a");
    char dir[512], file[600];
    snprintf(dir, sizeof dir, "%s/models/model_a", f->dir);
    assert_int_equal(vc_mkdirs(dir, &err), 0);
    snprintf(file, sizeof file, "%s/model.pth", dir);
    assert_int_equal(vc_write_atomic(file, "abc", 3, &err), 0);
    assert_int_equal(store_model_insert(f->s, &m, &err), 0);
    int n = 0;
    assert_int_equal(store_model_list(f->s, "alice", count_model, &n, &err), 0);
    assert_int_equal(n, 1);
    n = 0;
    store_model_list(f->s, "bob", count_model, &n, &err);
    assert_int_equal(n, 0);
    assert_int_equal(store_model_delete(f->s, "bob", "model_a", &err), -1);
    assert_int_equal(err.code, VC_ERR_MODEL_NOT_FOUND);
    assert_true(exists(file));
    assert_int_equal(store_model_delete(f->s, "alice", "model_a", &err), 0);
    assert_false(exists(dir));
    assert_int_equal(store_model_get(f->s, "alice", "model_a", &m, &err), -1);
}

static void test_chunks_claimed_once(void **state)
{
    fixture *f = *state;
    vc_error err;
    store_upload u = {0}, got;
    snprintf(u.upload_id, sizeof u.upload_id, "audio_up");
    snprintf(u.user_id, sizeof u.user_id, "alice");
    snprintf(u.kind, sizeof u.kind, "chunked");
    snprintf(u.purpose, sizeof u.purpose, "target");
    snprintf(u.state, sizeof u.state, "receiving");
    u.total_chunks = 3;
    memcpy(u.chunks, "000", 4);
    assert_int_equal(store_upload_insert(f->s, &u, &err), 0);
    int claim;
    assert_int_equal(store_upload_mark_chunk(f->s, "alice", "audio_up", 2, 10, &got, &claim, &err), 0);
    assert_int_equal(claim, 0);
    assert_int_equal(store_upload_mark_chunk(f->s, "alice", "audio_up", 2, 10, &got, &claim, &err), 0);
    assert_int_equal(got.length, 10); /* retry counted once */
    assert_int_equal(store_upload_mark_chunk(f->s, "alice", "audio_up", 0, 10, &got, &claim, &err), 0);
    assert_int_equal(store_upload_mark_chunk(f->s, "alice", "audio_up", 1, 10, &got, &claim, &err), 0);
    assert_int_equal(claim, 1);
    assert_string_equal(got.state, "assembling");
    assert_int_equal(store_upload_mark_chunk(f->s, "alice", "audio_up", 1, 10, &got, &claim, &err), 0);
    assert_int_equal(claim, 0);
    assert_int_equal(store_upload_mark_chunk(f->s, "alice", "audio_up", 3, 10, &got, &claim, &err), -1);
    assert_int_equal(store_upload_mark_chunk(f->s, "bob", "audio_up", 0, 10, &got, &claim, &err), -1);
}

static void test_atomic_write_leaves_no_temp(void **state)
{
    fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/outputs/x.bin", f->dir);
    assert_int_equal(vc_write_atomic(path, "hello", 5, NULL), 0);
    assert_int_equal(vc_write_atomic(path, "world!", 6, NULL), 0);
    FILE *fp = fopen(path, "rb");
    char buf[16] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 6);
    fclose(fp);
    assert_string_equal(buf, "world!");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/outputs | grep -c tmp", f->dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    assert_int_equal(n, 0);
}

/* I/O failures are errors, never crashes, and leave nothing behind. */
static void test_io_failures(void **state)
{
    fixture *f = *state;
    vc_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/no/such/dir/x.bin", f->dir);
    assert_int_equal(vc_write_atomic(path, "x", 1, &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    /* a data root that is a regular file cannot be opened */
    snprintf(path, sizeof path, "%s/plainfile", f->dir);
    assert_int_equal(vc_write_atomic(path, "x", 1, &err), 0);
    store *s2 = NULL;
    assert_int_equal(store_open(&s2, path, &err), -1);
    assert_null(s2);
    assert_true(err.message[0] != 0);
    /* a read-only folder: the write fails with IO_ERROR (skipped as root, who may write anyway) */
    snprintf(path, sizeof path, "%s/ro", f->dir);
    assert_int_equal(vc_mkdirs(path, &err), 0);
    chmod(path, 0500);
    if (geteuid() != 0) {
        char file[600];
        snprintf(file, sizeof file, "%s/x.bin", path);
        assert_int_equal(vc_write_atomic(file, "x", 1, &err), -1);
        assert_int_equal(err.code, VC_ERR_IO);
    }
    chmod(path, 0755);
    /* deleting what does not exist is fine */
    snprintf(path, sizeof path, "%s/never", f->dir);
    assert_int_equal(vc_remove_tree(path, &err), 0);
}

/* The expired-upload sweep sees only unfinished uploads past their expiry. */
static int collect_id(const store_upload *u, void *ctx)
{
    strcat(ctx, u->upload_id);
    strcat(ctx, ";");
    return 0;
}

static void test_expired_uploads(void **state)
{
    fixture *f = *state;
    vc_error err;
    static const struct { const char *id, *state; int64_t expires; } ROWS[] = {
        {"upl_old", "receiving", 100}, {"upl_new", "receiving", 4000000000LL}, {"upl_done", "complete", 100},
    };
    for (size_t i = 0; i < 3; i++) {
        store_upload u = {0};
        snprintf(u.upload_id, sizeof u.upload_id, "%s", ROWS[i].id);
        snprintf(u.user_id, sizeof u.user_id, "alice");
        snprintf(u.kind, sizeof u.kind, "tus");
        snprintf(u.purpose, sizeof u.purpose, "target");
        snprintf(u.state, sizeof u.state, "%s", ROWS[i].state);
        u.expires_at = ROWS[i].expires;
        assert_int_equal(store_upload_insert(f->s, &u, &err), 0);
    }
    char seen[256] = "";
    assert_int_equal(store_upload_each_expired(f->s, 1000, collect_id, seen, &err), 0);
    assert_string_equal(seen, "upl_old;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_are_recorded_once, setup, teardown),
        cmocka_unit_test(test_ids),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audio_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_delete_removes_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_voices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_claimed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write_leaves_no_temp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_uploads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
