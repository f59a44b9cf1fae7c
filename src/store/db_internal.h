/*
 * The two back ends behind db.h: shared struct layouts and the libpq half's entry points
 * (db_pg.c); db.c holds the SQLite half and dispatches.
 */
#ifndef VC_STORE_DB_INTERNAL_H
#define VC_STORE_DB_INTERNAL_H

#include <sqlite3.h>

#include "store/db.h"

typedef struct pg_conn pg_conn; /* PGconn, kept opaque here so only db_pg.c includes libpq */
typedef struct pg_result pg_result;

struct db {
    db_dialect dialect;
    sqlite3 *lite;
    pg_conn *pg;
    char errmsg[512];
};

typedef struct db_param {
    const char *value; /* NULL = SQL NULL */
    char buf[32];      /* numbers are formatted here */
    unsigned type;     /* PostgreSQL type oid: 25 text, 20 int8, 701 float8 */
} db_param;

struct db_stmt {
    db *d;
    sqlite3_stmt *lite;
    int64_t changes;
    /* PostgreSQL */
    char *sql;         /* rewritten to $N placeholders */
    int n_params;      /* highest bound index */
    int n_sql_params;  /* highest placeholder in the SQL */
    db_param params[DB_MAX_PARAMS];
    pg_result *res;
    int row, n_rows, executed;
};

int db_pg_open(db *d, const char *url, vc_error *err);
void db_pg_close(db *d);
int db_pg_exec(db *d, const char *sql, vc_error *err);
int db_pg_prepare(db_stmt *st, const char *sql, vc_error *err);
int db_pg_step(db_stmt *st, vc_error *err);
const char *db_pg_col(db_stmt *st, int i);
void db_pg_clear(db_stmt *st);

#endif
