/*
 * Several nodes starting at the same moment on one empty database (issue 16: an API node and its
 * workers brought up together by Compose): every process must open the store, and the schema must
 * end at the latest version with each step recorded once. Run on a fresh SQLite file always and,
 * with VCS_TEST_DATABASE_URL (the pg suite), on a fresh PostgreSQL database too.
 *
 * The processes are forked first and released together through a pipe (closing its write end
 * wakes them all at once), so they race on the very first statement of the migration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "store/store.h"

#define NODES 6
#define ROUNDS 4 /* fresh databases: the race does not lose every time */

/* Child: waits for the start signal, opens the store, exits 0 when it opened. */
static void node(int go_fd, const char *dir, const char *url)
{
    char c;
    if (read(go_fd, &c, 1) < 0) _exit(3);
    store *s = NULL;
    vc_error err;
    if (store_open_url(&s, dir, url, &err)) {
        fprintf(stderr, "node %d: %s\n", (int)getpid(), err.message);
        _exit(1);
    }
    store_close(s);
    _exit(0);
}

/* Starts NODES processes on (dir, url) at once; returns how many failed to open the store. */
static int race(const char *dir, const char *url)
{
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[NODES];
    for (int i = 0; i < NODES; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            node(go[0], dir, url);
        }
    }
    close(go[0]);
    usleep(100000); /* every child is blocked in read() by now */
    close(go[1]);   /* EOF for all of them at once */
    int failed = 0;
    for (int i = 0; i < NODES; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    return failed;
}

static size_t total_steps(void)
{
    size_t n = 0;
    for (size_t i = 0; STORE_MIGRATION_SETS[i]; i++) n += STORE_MIGRATION_SETS[i]->n_steps;
    return n;
}

/* The schema_version rows: as many as there are steps, and each module at its latest version. */
static void schema_is_latest_once(const char *dir, const char *url)
{
    store *s = NULL;
    vc_error err;
    assert_int_equal(store_open_url(&s, dir, url, &err), 0);
    store_lock(s);
    db_stmt *st;
    assert_int_equal(db_prepare(store_db(s), "SELECT count(*) FROM schema_version", &st, &err), 0);
    assert_int_equal(db_step(st, &err), 1);
    assert_int_equal(db_col_int64(st, 0), (int64_t)total_steps());
    db_finalize(st);
    for (size_t i = 0; STORE_MIGRATION_SETS[i]; i++) {
        const store_migration_set *set = STORE_MIGRATION_SETS[i];
        assert_int_equal(
            db_prepare(store_db(s), "SELECT count(*), max(version) FROM schema_version WHERE module=?", &st, &err), 0);
        db_bind_text(st, 1, set->module);
        assert_int_equal(db_step(st, &err), 1);
        assert_int_equal(db_col_int64(st, 0), (int64_t)set->n_steps);
        assert_int_equal(db_col_int64(st, 1), (int64_t)set->steps[set->n_steps - 1].version);
        db_finalize(st);
    }
    /* the tables are usable: one of the first step's and one of a later module's */
    assert_int_equal(db_exec(store_db(s), "SELECT count(*) FROM users; SELECT count(*) FROM jobs", &err), 0);
    store_unlock(s);
    store_close(s);
}

static void one_round(int postgres)
{
    char dir[] = "/tmp/vcs-migrate-race-XXXXXX", url[512] = "";
    assert_non_null(mkdtemp(dir));
    if (postgres) assert_int_equal(test_db_fresh(url, sizeof url), 1);
    int failed = race(dir, url);
    if (failed) fail_msg("%d of %d nodes could not open a fresh %s store at once", failed, NODES,
                         postgres ? "PostgreSQL" : "SQLite");
    schema_is_latest_once(dir, url);
    test_db_drop(url);
    vc_remove_tree(dir, NULL);
}

static void nodes_start_together_on_sqlite(void **state)
{
    (void)state;
    for (int r = 0; r < ROUNDS; r++) one_round(0);
}

static void nodes_start_together_on_postgres(void **state)
{
    (void)state;
    if (!test_db_is_postgres()) {
        print_message("no VCS_TEST_DATABASE_URL: PostgreSQL half runs in the pg suite\n");
        skip();
    }
    for (int r = 0; r < ROUNDS; r++) one_round(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nodes_start_together_on_sqlite),
        cmocka_unit_test(nodes_start_together_on_postgres),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
