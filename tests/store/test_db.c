/*
 * The SQL seam (src/store/db.h) on whichever database the run selects: SQLite by default, a fresh
 * PostgreSQL database with VCS_TEST_DATABASE_URL (tests/support/test_db.h). Placeholders (`?`,
 * `?N`, a `?` inside quotes), NULLs, numbers, row counts, transactions; LISTEN/NOTIFY on
 * PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/db.h"
#include "support/test_db.h"

typedef struct fixture {
    char dir[64];
    char url[600];
    char pg[512];
    db *d;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vcs-db-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_true(test_db_fresh(f->pg, sizeof f->pg) >= 0);
    if (f->pg[0]) snprintf(f->url, sizeof f->url, "%s", f->pg);
    else snprintf(f->url, sizeof f->url, "sqlite:%s/t.db", f->dir);
    vc_error err;
    assert_int_equal(db_open(&f->d, f->url, &err), 0);
    assert_int_equal(db_exec(f->d, "CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, s TEXT)", &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    db_close(f->d);
    test_db_drop(f->pg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void insert(fixture *f, const char *k, int64_t n, double x, const char *s)
{
    vc_error err;
    db_stmt *st;
    assert_int_equal(db_prepare(f->d, "INSERT INTO t (k, n, x, s) VALUES (?, ?, ?, ?)", &st, &err), 0);
    db_bind_text(st, 1, k);
    db_bind_int64(st, 2, n);
    db_bind_double(st, 3, x);
    db_bind_text(st, 4, s);
    assert_int_equal(db_step(st, &err), 0);
    assert_int_equal(db_changes(st), 1);
    db_finalize(st);
}

static void values_round_trip(void **state)
{
    fixture *f = *state;
    vc_error err;
    insert(f, "a", 9007199254740993LL, 0.1, "it's ? here");
    insert(f, "b", -5, -2.5, NULL);
    db_stmt *st;
    /* numbered placeholders used twice, a literal '?' that must stay text, a boolean result */
    assert_int_equal(db_prepare(f->d,
                                "SELECT k, n, x, s, CASE WHEN s IS NULL THEN 1 ELSE 0 END, (n > ?2), '?' FROM t "
                                "WHERE (?1 IS NULL OR k = ?1) ORDER BY k",
                                &st, &err),
                     0);
    db_bind_text(st, 1, NULL);
    db_bind_int64(st, 2, 0);
    assert_int_equal(db_step(st, &err), 1);
    assert_string_equal(db_col_text(st, 0), "a");
    assert_true(db_col_int64(st, 1) == 9007199254740993LL);
    assert_true(db_col_double(st, 2) == 0.1);
    assert_string_equal(db_col_text(st, 3), "it's ? here");
    assert_int_equal(db_col_int(st, 4), 0);
    assert_int_equal(db_col_int(st, 5), 1); /* PostgreSQL's boolean 't' reads as 1 */
    assert_string_equal(db_col_text(st, 6), "?");
    assert_int_equal(db_step(st, &err), 1);
    assert_string_equal(db_col_text(st, 0), "b");
    assert_null(db_col_text(st, 3));
    assert_true(db_col_is_null(st, 3));
    assert_int_equal(db_col_int(st, 4), 1);
    assert_int_equal(db_col_int(st, 5), 0);
    assert_int_equal(db_step(st, &err), 0);
    /* reuse with other parameters */
    db_reset(st);
    db_bind_text(st, 1, "b");
    db_bind_int64(st, 2, -10);
    assert_int_equal(db_step(st, &err), 1);
    assert_string_equal(db_col_text(st, 0), "b");
    assert_int_equal(db_col_int(st, 5), 1);
    assert_int_equal(db_step(st, &err), 0);
    db_finalize(st);
}

static void changes_conflicts_and_transactions(void **state)
{
    fixture *f = *state;
    vc_error err;
    insert(f, "a", 1, 1, "x");
    insert(f, "b", 2, 2, "y");
    db_stmt *st;
    assert_int_equal(db_prepare(f->d, "UPDATE t SET n = n + 1 WHERE n >= ?", &st, &err), 0);
    db_bind_int64(st, 1, 1);
    assert_int_equal(db_step(st, &err), 0);
    assert_int_equal(db_changes(st), 2);
    db_finalize(st);
    /* a duplicate key is an error value, not a crash; ON CONFLICT DO NOTHING changes nothing */
    assert_int_equal(db_prepare(f->d, "INSERT INTO t (k) VALUES (?)", &st, &err), 0);
    db_bind_text(st, 1, "a");
    assert_int_equal(db_step(st, &err), -1);
    assert_int_equal(err.code, VC_ERR_INTERNAL);
    db_finalize(st);
    assert_int_equal(db_prepare(f->d, "INSERT INTO t (k) VALUES (?) ON CONFLICT (k) DO NOTHING", &st, &err), 0);
    db_bind_text(st, 1, "a");
    assert_int_equal(db_step(st, &err), 0);
    assert_int_equal(db_changes(st), 0);
    db_finalize(st);
    /* rollback undoes, commit keeps */
    assert_int_equal(db_begin(f->d, &err), 0);
    assert_int_equal(db_exec(f->d, "DELETE FROM t", &err), 0);
    db_rollback(f->d);
    assert_int_equal(db_prepare(f->d, "SELECT COUNT(*) FROM t", &st, &err), 0);
    assert_int_equal(db_step(st, &err), 1);
    assert_int_equal(db_col_int(st, 0), 2);
    db_finalize(st);
    /* bad SQL is an error with the database's message */
    int rc = db_prepare(f->d, "SELEC nonsense", &st, &err);
    if (rc == 0) { /* PostgreSQL only parses when the statement runs */
        assert_int_equal(db_step(st, &err), -1);
        db_finalize(st);
    }
    assert_true(strlen(err.message) > 0);
}

static void listen_gets_notifications(void **state)
{
    fixture *f = *state;
    vc_error err;
    db_listener *l;
    if (db_get_dialect(f->d) != DB_POSTGRES) {
        assert_int_equal(db_listen_open(&l, f->url, "chan", &err), -1); /* SQLite has none */
        return;
    }
    assert_int_equal(db_listen_open(&l, f->url, "vcs_test", &err), 0);
    char payload[64] = "";
    assert_int_equal(db_listen_wait(l, 50, payload, sizeof payload), 0); /* nothing yet */
    db_stmt *st;
    assert_int_equal(db_begin(f->d, &err), 0);
    assert_int_equal(db_prepare(f->d, "SELECT pg_notify('vcs_test', ?1)", &st, &err), 0);
    db_bind_text(st, 1, "job_abc");
    assert_int_equal(db_step(st, &err), 1);
    db_finalize(st);
    assert_int_equal(db_listen_wait(l, 100, payload, sizeof payload), 0); /* not before the commit */
    assert_int_equal(db_commit(f->d, &err), 0);
    assert_int_equal(db_listen_wait(l, 2000, payload, sizeof payload), 1);
    assert_string_equal(payload, "job_abc");
    db_listen_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(values_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(changes_conflicts_and_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(listen_gets_notifications, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
