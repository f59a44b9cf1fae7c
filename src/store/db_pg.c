/*
 * db.h's PostgreSQL half (libpq). Statements run with PQexecParams (parameters as typed text),
 * so nothing is prepared server-side and a broken connection is simply re-opened: before each
 * statement a connection found in CONNECTION_BAD is reset once (PQreset), which lets a node ride
 * out a PostgreSQL restart. Inside a transaction a reset is an error like any other: the caller
 * rolls back.
 *
 * Notifications: db_listener is a second connection that only LISTENs; waiting is poll() on its
 * socket, then PQconsumeInput / PQnotifies.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/db_internal.h"

#define CONN(d) ((PGconn *)(d)->pg)
#define RES(st) ((PGresult *)(st)->res)

static int pg_fail(db *d, vc_error *err, const char *what, const char *msg)
{
    snprintf(d->errmsg, sizeof d->errmsg, "%s", msg ? msg : PQerrorMessage(CONN(d)));
    size_t n = strlen(d->errmsg);
    while (n && (d->errmsg[n - 1] == '\n' || d->errmsg[n - 1] == ' ')) d->errmsg[--n] = '\0';
    return vc_fail(err, VC_ERR_INTERNAL, "postgres %s: %s", what, d->errmsg);
}

static void quiet_notice(void *arg, const char *msg) { (void)arg, (void)msg; }

int db_pg_open(db *d, const char *url, vc_error *err)
{
    PGconn *c = PQconnectdb(url);
    d->pg = (pg_conn *)c;
    if (!c) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (PQstatus(c) != CONNECTION_OK) return pg_fail(d, err, "connect", NULL);
    PQsetNoticeProcessor(c, quiet_notice, NULL); /* "relation already exists, skipping" … */
    return 0;
}

void db_pg_close(db *d)
{
    PQfinish(CONN(d));
    d->pg = NULL;
}

static void ensure_connected(db *d)
{
    if (PQstatus(CONN(d)) == CONNECTION_BAD) PQreset(CONN(d));
}

int db_pg_exec(db *d, const char *sql, vc_error *err)
{
    ensure_connected(d);
    PGresult *r = PQexec(CONN(d), sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = 0;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        rc = pg_fail(d, err, "exec", PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : NULL);
    PQclear(r);
    return rc;
}

/* `?N` → `$N`, bare `?` → `$(highest so far + 1)`; quoted text is copied as is. */
int db_pg_prepare(db_stmt *st, const char *sql, vc_error *err)
{
    size_t len = strlen(sql);
    char *out = malloc(len * 3 + 1);
    if (!out) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    size_t o = 0;
    int max = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = sql[i];
        if (quote) {
            if (ch == quote) quote = 0;
            out[o++] = ch;
            continue;
        }
        if (ch == '\'' || ch == '"') {
            quote = ch;
            out[o++] = ch;
            continue;
        }
        if (ch != '?') {
            out[o++] = ch;
            continue;
        }
        int n = 0;
        while (i + 1 < len && sql[i + 1] >= '0' && sql[i + 1] <= '9') n = n * 10 + (sql[++i] - '0');
        if (n == 0) n = max + 1;
        if (n > DB_MAX_PARAMS) {
            free(out);
            return vc_fail(err, VC_ERR_INTERNAL, "postgres: more than %d parameters", DB_MAX_PARAMS);
        }
        if (n > max) max = n;
        o += (size_t)sprintf(out + o, "$%d", n);
    }
    out[o] = '\0';
    st->sql = out;
    st->n_sql_params = max;
    return 0;
}

static int execute(db_stmt *st, vc_error *err)
{
    db *d = st->d;
    int n = st->n_params > st->n_sql_params ? st->n_params : st->n_sql_params;
    const char *values[DB_MAX_PARAMS];
    Oid types[DB_MAX_PARAMS];
    for (int i = 0; i < n; i++) {
        values[i] = st->params[i].value;
        types[i] = st->params[i].type ? st->params[i].type : 25; /* unbound: a text NULL */
    }
    ensure_connected(d);
    PGresult *r = PQexecParams(CONN(d), st->sql, n, types, values, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        pg_fail(d, err, "query", PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : NULL);
        PQclear(r);
        return -1;
    }
    st->res = (pg_result *)r;
    st->executed = 1;
    st->row = -1;
    st->n_rows = PQntuples(r);
    const char *ct = PQcmdTuples(r);
    st->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
    return 0;
}

int db_pg_step(db_stmt *st, vc_error *err)
{
    if (!st->executed && execute(st, err)) return -1;
    if (st->row + 1 < st->n_rows) {
        st->row++;
        return 1;
    }
    st->row = st->n_rows;
    return 0;
}

const char *db_pg_col(db_stmt *st, int i)
{
    if (!st->res || st->row < 0 || st->row >= st->n_rows || i >= PQnfields(RES(st))) return NULL;
    if (PQgetisnull(RES(st), st->row, i)) return NULL;
    return PQgetvalue(RES(st), st->row, i);
}

void db_pg_clear(db_stmt *st)
{
    if (st->res) PQclear(RES(st));
    st->res = NULL;
    st->executed = 0;
    st->row = -1;
    st->n_rows = 0;
}

/* ---- LISTEN ---- */
struct db_listener {
    PGconn *c;
    char channel[64];
    int listening;
};

static int listen_start(db_listener *l)
{
    if (PQstatus(l->c) != CONNECTION_OK) {
        PQreset(l->c);
        if (PQstatus(l->c) != CONNECTION_OK) return -1;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
    PGresult *r = PQexec(l->c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    l->listening = ok;
    return ok ? 0 : -1;
}

int db_listen_open(db_listener **out, const char *url, const char *channel, vc_error *err)
{
    *out = NULL;
    if (!db_url_is_postgres(url)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "notifications need PostgreSQL");
    for (const char *p = channel; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) return vc_fail(err, VC_ERR_INVALID_REQUEST, "bad channel name");
    db_listener *l = calloc(1, sizeof *l);
    if (!l) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    snprintf(l->channel, sizeof l->channel, "%s", channel);
    l->c = PQconnectdb(url);
    if (!l->c || PQstatus(l->c) != CONNECTION_OK || listen_start(l)) {
        vc_fail(err, VC_ERR_INTERNAL, "postgres listen: %s", l->c ? PQerrorMessage(l->c) : "out of memory");
        db_listen_close(l);
        return -1;
    }
    *out = l;
    return 0;
}

int db_listen_wait(db_listener *l, int timeout_ms, char *payload, size_t cap)
{
    if (!l->listening || PQstatus(l->c) != CONNECTION_OK) {
        l->listening = 0;
        if (listen_start(l)) {
            poll(NULL, 0, timeout_ms); /* server down: do not spin */
            return -1;
        }
        return -1; /* reconnected: notifications may have been missed meanwhile */
    }
    for (int pass = 0; pass < 2; pass++) {
        PGnotify *n = PQnotifies(l->c);
        if (n) {
            snprintf(payload, cap, "%s", n->extra ? n->extra : "");
            PQfreemem(n);
            return 1;
        }
        if (pass) break;
        struct pollfd pfd = {.fd = PQsocket(l->c), .events = POLLIN};
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr < 0 && errno != EINTR) return -1;
        if (pr <= 0) return 0;
        if (!PQconsumeInput(l->c)) {
            l->listening = 0;
            return -1;
        }
    }
    return 0;
}

void db_listen_close(db_listener *l)
{
    if (!l) return;
    if (l->c) PQfinish(l->c);
    free(l);
}
