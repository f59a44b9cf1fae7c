/*
 * rvc_import against a real store in a temp folder: a .pth (+ .index) and zips (stored and
 * deflated) become a row and data/models/{id}/{model.pth, model.index, config.json}; zips that
 * are ambiguous, incomplete or damaged (no .pth, two .pth, flipped data byte → CRC, cut short)
 * are refused with a message, and a refusal leaves no folder and no row. rvc_import_files itself
 * writes no row (models code never touches the database): store_model_record does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/rvc/rvc_import.h"

static char DIR_[64];
static store *S;

static const char *root(void) { return getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : "."; }

static int setup(void **state)
{
    vc_error err;
    snprintf(DIR_, sizeof DIR_, "/tmp/vcs-import-XXXXXX");
    return mkdtemp(DIR_) && store_open(&S, DIR_, &err) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    store_close(S);
    snprintf(cmd, sizeof cmd, "rm -rf %s", DIR_);
    return system(cmd) == 0 ? 0 : -1;
}

static int count_models(void)
{
    int n = 0;
    char path[256];
    snprintf(path, sizeof path, "%s/models", DIR_);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

/* What the API and the CLI do: publish the files, then record the row. */
static int import_and_record(store *s, const rvc_import_request *rq, store_model *m, vc_error *err)
{
    return rvc_import_files(s, rq, m, err) || store_model_record(s, m, err) ? -1 : 0;
}

static int count_row(const store_model *m, void *ctx) { (*(int *)ctx)++; return 0; }

static int count_rows(void)
{
    int n = 0;
    vc_error err;
    assert_int_equal(store_model_list(S, "u1", count_row, &n, &err), 0);
    return n;
}

/* zip at DIR_/name.zip from python's zipfile: entries as "arcname=fixture" pairs (fixture relative to tests/models/rvc/fixtures). */
static const char *make_zip(const char *name, int deflate, const char *entries, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(out, cap, "%s/%s.zip", DIR_, name);
    snprintf(cmd, sizeof cmd, "cd %s/tests/models/rvc/fixtures && python3 -c \"import sys,zipfile; "
             "z=zipfile.ZipFile(sys.argv[1],'w',zipfile.%s); [z.write(e.split('=')[1], e.split('=')[0]) for e in sys.argv[2:]]; z.close()\" %s %s",
             root(), deflate ? "ZIP_DEFLATED" : "ZIP_STORED", out, entries);
    assert_int_equal(system(cmd), 0);
    return out;
}

static void expect_refused(const rvc_import_request *rq, const char *want)
{
    int folders = count_models(), rows = count_rows();
    store_model m;
    vc_error err = {0};
    assert_int_equal(import_and_record(S, rq, &m, &err), -1);
    if (!strstr(err.message, want)) fail_msg("message '%s' lacks '%s'", err.message, want);
    assert_int_equal(err.code, VC_ERR_INVALID_FORMAT);
    assert_int_equal(count_models(), folders);
    assert_int_equal(count_rows(), rows);
}

static void imports_pth_with_index(void **state)
{
    char pth[512], idx[512], path[600];
    snprintf(pth, sizeof pth, "%s/tests/models/rvc/fixtures/voice_v2_96.pth", root());
    snprintf(idx, sizeof idx, "%s/tests/models/rvc/fixtures/voice_v2_96.index", root());
    rvc_import_request rq = {.user_id = "u1", .name = "", .model_path = pth, .index_path = idx, .filename = "My Voice.pth", .is_zip = 0};
    store_model m;
    vc_error err = {0};
    if (import_and_record(S, &rq, &m, &err)) fail_msg("%s", err.message);
    assert_string_equal(m.name, "My Voice");
    assert_string_equal(m.version, "v2");
    assert_int_equal(m.sample_rate, 48000);
    assert_int_equal(m.has_index, 1);
    assert_true(m.file_size_mb > 0.9 && m.file_size_mb < 1.1);
    static const char *const FILES[] = {"model.pth", "model.index", "config.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/models/%s/%s", DIR_, m.model_id, FILES[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    store_model again;
    assert_int_equal(store_model_get(S, "u1", m.model_id, &again, &err), 0);
    assert_string_equal(again.version, "v2");
    assert_int_equal(again.f0, 1);
}

static void imports_stored_and_deflated_zips(void **state)
{
    char zip[600];
    for (int deflate = 0; deflate <= 1; deflate++) {
        make_zip(deflate ? "deflated" : "stored", deflate, "v/readme.txt=make_voices.py v/voice.pth=voice_v2_96.pth v/voice.index=voice_v2_96.index",
                 zip, sizeof zip);
        rvc_import_request rq = {.user_id = "u1", .name = "zipped", .model_path = zip, .index_path = NULL, .filename = "voice.zip", .is_zip = 1};
        store_model m;
        vc_error err = {0};
        if (import_and_record(S, &rq, &m, &err)) fail_msg("%s", err.message);
        assert_int_equal(m.has_index, 1);
    }
    make_zip("no_index", 1, "voice.pth=voice_v2_96.pth", zip, sizeof zip);
    rvc_import_request rq = {.user_id = "u1", .name = "zipped", .model_path = zip, .index_path = NULL, .filename = "voice.zip", .is_zip = 1};
    store_model m;
    vc_error err = {0};
    assert_int_equal(import_and_record(S, &rq, &m, &err), 0);
    assert_int_equal(m.has_index, 0);
}

static void refuses_bad_zips_and_leaves_nothing(void **state)
{
    char zip[600], cmd[1400];
    rvc_import_request rq = {.user_id = "u1", .name = "bad", .model_path = zip, .index_path = NULL, .filename = "bad.zip", .is_zip = 1};
    make_zip("no_pth", 1, "voice.index=voice_v2_96.index", zip, sizeof zip);
    expect_refused(&rq, "no .pth");
    make_zip("two_pth", 0, "a.pth=voice_v2_96.pth b.pth=voice_v3.pth", zip, sizeof zip);
    expect_refused(&rq, "more than one .pth");
    make_zip("wrong_index", 0, "a.pth=voice_v2_96.pth a.index=voice_bad_dim.index", zip, sizeof zip);
    expect_refused(&rq, "holds 32-dim features");
    make_zip("crc", 0, "a.pth=voice_v2_96.pth", zip, sizeof zip);
    /* flip one byte well inside the stored entry's data */
    snprintf(cmd, sizeof cmd, "printf '\\377' | dd of=%s bs=1 seek=500000 conv=notrunc status=none", zip);
    assert_int_equal(system(cmd), 0);
    expect_refused(&rq, "CRC-32");
    make_zip("cut", 1, "a.pth=voice_v2_96.pth", zip, sizeof zip);
    assert_int_equal(truncate(zip, 300000), 0);
    expect_refused(&rq, "zip:");
    rq.model_path = __FILE__; /* not a zip at all */
    expect_refused(&rq, "zip:");
}

static void refuses_not_a_voice_and_bad_names(void **state)
{
    char pth[512];
    snprintf(pth, sizeof pth, "%s/tests/models/rvc/fixtures/not_a_voice.pth", root());
    rvc_import_request rq = {.user_id = "u1", .name = "x", .model_path = pth, .index_path = NULL, .filename = "not_a_voice.pth", .is_zip = 0};
    expect_refused(&rq, "is not an RVC voice model");
    char long_name[200];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    snprintf(pth, sizeof pth, "%s/tests/models/rvc/fixtures/voice_v2_96.pth", root());
    rvc_import_request named = {.user_id = "u1", .name = long_name, .model_path = pth, .index_path = NULL, .filename = "v.pth", .is_zip = 0};
    store_model m;
    vc_error err = {0};
    assert_int_equal(import_and_record(S, &named, &m, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
}

/* The models layer publishes files and writes no row; the caller records it. An id that is
 * taken is refused without touching the stored files; a row that cannot be written takes its
 * files with it. */
static void import_writes_files_not_rows(void **state)
{
    char pth[512], path[600];
    snprintf(pth, sizeof pth, "%s/tests/models/rvc/fixtures/voice_v2_96.pth", root());
    rvc_import_request rq = {.user_id = "u1", .name = "fixed", .model_path = pth, .filename = "v.pth",
                             .model_id = "model_fixed1"};
    store_model m, again;
    vc_error err = {0};
    int rows = count_rows();
    if (rvc_import_files(S, &rq, &m, &err)) fail_msg("%s", err.message);
    assert_int_equal(count_rows(), rows);
    assert_int_equal(store_model_get(S, "u1", "model_fixed1", &again, &err), -1);
    snprintf(path, sizeof path, "%s/models/model_fixed1/model.pth", DIR_);
    assert_int_equal(access(path, R_OK), 0);
    assert_int_equal(rvc_import_files(S, &rq, &again, &err), -1);
    assert_int_equal(err.code, VC_ERR_CONFLICT);
    assert_int_equal(access(path, R_OK), 0);
    /* the id got taken between publishing and recording (a row written by someone else) */
    assert_int_equal(store_model_insert(S, &m, &err), 0);
    assert_int_equal(store_model_record(S, &m, &err), -1);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/models/model_fixed1", DIR_);
    assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imports_pth_with_index),
        cmocka_unit_test(import_writes_files_not_rows),
        cmocka_unit_test(imports_stored_and_deflated_zips),
        cmocka_unit_test(refuses_bad_zips_and_leaves_nothing),
        cmocka_unit_test(refuses_not_a_voice_and_bad_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
