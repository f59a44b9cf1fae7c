/*
 * The in-memory window of recent events (jobs_sched.c) must answer exactly like the event log:
 * for every job and every reader position, jobs_events_after (memory when it can) equals
 * jobs_db_events_after (SQLite), including jobs whose events were pushed out of the window and
 * batches cut at max.
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

typedef struct fixture {
    char dir[256];
    char url[512]; /* "" = SQLite; else a fresh PostgreSQL database (test_db.h) */
    store *s;
    jobs *j;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vcs-jobs-events-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    vc_error err;
    assert_true(test_db_fresh(f->url, sizeof f->url) >= 0);
    assert_int_equal(store_open_url(&f->s, f->dir, f->url, &err), 0);
    jobs_config cfg;
    jobs_config_defaults(&cfg);
    cfg.test_kinds = 1;
    assert_int_equal(jobs_start(&f->j, f->s, &cfg, 0, &err), 0); /* no workers: jobs stay queued */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    jobs_stop(f->j);
    store_close(f->s);
    test_db_drop(f->url);
    vc_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

static void free_events(jobs_event *ev, int n)
{
    for (int i = 0; i < n; i++) free(ev[i].data);
}

/* Both readers agree for every position 0..last+1 and batch size max. */
static void assert_same(fixture *f, const char *job_id, int64_t last, int max)
{
    jobs_event a[40], b[40];
    vc_error err;
    for (int64_t after = 0; after <= last + 1; after++) {
        int na = jobs_events_after(f->j, job_id, after, a, max, &err);
        int nb = jobs_db_events_after(f->s, job_id, after, b, max, &err);
        assert_int_equal(na, nb);
        for (int i = 0; i < na; i++) {
            assert_int_equal(a[i].id, b[i].id);
            assert_string_equal(a[i].name, b[i].name);
            assert_string_equal(a[i].data, b[i].data);
        }
        free_events(a, na);
        free_events(b, nb);
    }
}

static void memory_window_answers_like_the_log(void **state)
{
    fixture *f = *state;
    enum { JOBS = 60 }; /* 3 events each: 180 > the 128-event window */
    char ids[JOBS][STORE_ID_MAX];
    vc_error err;
    for (int i = 0; i < JOBS; i++) {
        json_t *p = json_pack("{s:i}", "seconds", i);
        assert_int_equal(jobs_submit(f->j, "local", "sleep", p, ids[i], &err), 0); /* event 1: queued */
        json_decref(p);
        assert_int_equal(jobs_cancel(f->j, "local", ids[i], &err), 0);                /* 2: error, 3: close */
    }
    for (int i = 0; i < JOBS; i++) {
        assert_same(f, ids[i], 3, 32);
        assert_same(f, ids[i], 3, 2); /* a batch smaller than what is there */
    }
    jobs_event ev[4];
    int n = jobs_events_after(f->j, ids[JOBS - 1], 0, ev, 4, &err);
    assert_int_equal(n, 3);
    assert_string_equal(ev[2].name, "close");
    free_events(ev, n);
    assert_int_equal(jobs_events_after(f->j, "job_unknown", 0, ev, 4, &err), 0);
    /* white box: the newest job is served from memory, the oldest (pushed out) from the log. On
     * PostgreSQL other processes write events too: the window holds the jobs this process streams
     * plus what its LISTEN thread has caught up on, asynchronously (docs/OPERATIONS.md), so the
     * newest job's events come from memory (2) or, not yet caught up, from the emptied log (0). */
    char sql[256];
    for (int k = 0; k < 2; k++) {
        snprintf(sql, sizeof sql, "DELETE FROM job_events WHERE job_id = '%s'", ids[k ? JOBS - 1 : 0]);
        assert_int_equal(store_exec(f->s, sql, &err), 0);
    }
    n = jobs_events_after(f->j, ids[JOBS - 1], 1, ev, 4, &err);
    if (test_db_is_postgres()) assert_true(n == 0 || n == 2);
    else assert_int_equal(n, 2);
    free_events(ev, n);
    assert_int_equal(jobs_events_after(f->j, ids[0], 0, ev, 4, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(memory_window_answers_like_the_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
