/*
 * PostgreSQL: a process's lane threads query on connections of their own (JOBS_WORKER_CONNS),
 * not on the store's one connection that the API shares, so jobs are claimed, report progress and
 * finish while that connection is busy: here the test holds the store's lock the whole time, and
 * two sleep jobs still run to completion, side by side. On SQLite (one connection per process)
 * the test skips; the pg suite runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "jobs/jobs_internal.h"

/* The job's state read on probe (a handle of its own), or "" when it could not be read. */
static void state_of(store *probe, const char *id, char *out, size_t cap)
{
    jobs_row r = {0};
    vc_error err;
    out[0] = '\0';
    if (jobs_db_get(probe, NULL, id, &r, &err) == 1) snprintf(out, cap, "%s", r.state);
    jobs_row_free(&r);
}

static void lane_threads_do_not_wait_for_the_store_connection(void **state)
{
    (void)state;
    if (!test_db_is_postgres()) {
        print_message("SQLite: one connection per process; the pg suite runs this test\n");
        skip();
    }
    char dir[] = "/tmp/vcs-jobs-conns-XXXXXX", url[512];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(test_db_fresh(url, sizeof url), 1);
    vc_error err;
    store *s = NULL, *probe = NULL;
    assert_int_equal(store_open_url(&s, dir, url, &err), 0);
    assert_int_equal(store_open_conn(&probe, s, &err), 0);
    jobs_config cfg;
    jobs_config_defaults(&cfg);
    cfg.test_kinds = 1;
    cfg.lane_slots[JOBS_LANE_TRAIN] = cfg.lane_slots[JOBS_LANE_CONVERT] = 0;
    cfg.lane_slots[JOBS_LANE_CPU] = 2;
    jobs *j = NULL;
    assert_int_equal(jobs_start(&j, s, &cfg, 1, &err), 0);

    char ids[2][STORE_ID_MAX];
    for (int i = 0; i < 2; i++) {
        json_t *p = json_pack("{s:f, s:i, s:s}", "seconds", 0.6, "steps", 6, "lane", "cpu");
        assert_int_equal(jobs_submit(j, "user_conns", "sleep", p, ids[i], &err), 0);
        json_decref(p);
    }
    store_lock(s); /* the store's connection is busy from here on (as under a long API query) */
    char st[2][16] = {"", ""};
    for (int t = 0; t < 200 && !(jobs_state_terminal(st[0]) && jobs_state_terminal(st[1])); t++) {
        usleep(50000);
        for (int i = 0; i < 2; i++) state_of(probe, ids[i], st[i], sizeof st[i]);
    }
    store_unlock(s);
    assert_string_equal(st[0], "complete");
    assert_string_equal(st[1], "complete");
    /* side by side: the two runs overlap (each lane thread on its own connection) */
    jobs_row r[2];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++) assert_int_equal(jobs_db_get(probe, NULL, ids[i], &r[i], &err), 1);
    assert_true(r[0].started_ms < r[1].finished_ms && r[1].started_ms < r[0].finished_ms);
    for (int i = 0; i < 2; i++) jobs_row_free(&r[i]);

    jobs_stop(j);
    store_close(probe);
    store_close(s);
    test_db_drop(url);
    vc_remove_tree(dir, NULL);
}

static void a_second_connection_needs_postgres(void **state)
{
    (void)state;
    char dir[] = "/tmp/vcs-jobs-conns-XXXXXX";
    assert_non_null(mkdtemp(dir));
    vc_error err;
    store *s = NULL, *second = (store *)1;
    assert_int_equal(store_open_url(&s, dir, "", &err), 0);
    assert_int_equal(store_open_conn(&second, s, &err), -1);
    assert_null(second);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    store_close(s);
    vc_remove_tree(dir, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lane_threads_do_not_wait_for_the_store_connection),
        cmocka_unit_test(a_second_connection_needs_postgres),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
