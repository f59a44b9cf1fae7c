/* See test_db.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libpq-fe.h>

#include "test_db.h"

int test_db_is_postgres(void)
{
    const char *u = getenv("VCS_TEST_DATABASE_URL");
    return u && (!strncmp(u, "postgres://", 11) || !strncmp(u, "postgresql://", 13));
}

/* base with its database name (between the first '/' after "://" and '?') replaced by name. */
static int with_dbname(const char *base, const char *name, char *out, size_t cap)
{
    const char *p = strstr(base, "://");
    if (!p) return -1;
    const char *slash = strchr(p + 3, '/');
    if (!slash) return -1;
    const char *q = strchr(slash, '?');
    int n = snprintf(out, cap, "%.*s/%s%s", (int)(slash - base), base, name, q ? q : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int admin_exec(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("VCS_TEST_DATABASE_URL"));
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fprintf(stderr, "test_db: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "test_db: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

int test_db_fresh(char *url, size_t cap)
{
    url[0] = '\0';
    if (!test_db_is_postgres()) return 0;
    unsigned char raw[6];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) return -1;
    char name[32], sql[96];
    snprintf(name, sizeof name, "vcs_t_%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    if (admin_exec(sql) || with_dbname(getenv("VCS_TEST_DATABASE_URL"), name, url, cap)) {
        url[0] = '\0';
        return -1;
    }
    return 1;
}

void test_db_drop(const char *url)
{
    if (!url || !url[0]) return;
    const char *p = strstr(url, "://"), *slash = p ? strchr(p + 3, '/') : NULL;
    if (!slash) return;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.*s WITH (FORCE)", (int)strcspn(slash + 1, "?"), slash + 1);
    admin_exec(sql);
}
