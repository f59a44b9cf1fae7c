/*
 * Test support: which database a store test runs on. With VCS_TEST_DATABASE_URL set to a
 * PostgreSQL url (postgresql://USER@/DBNAME?host=SOCKETDIR&port=PORT, a role allowed to create
 * databases), every test_db_fresh() creates an empty database of its own and returns its url;
 * without it, the url is "" and stores use their SQLite file (the default).
 *
 *   char url[512]; test_db_fresh(url, sizeof url);
 *   store_open_url(&s, dir, url, &err); ... store_close(s); test_db_drop(url);
 */
#ifndef VC_TEST_DB_H
#define VC_TEST_DB_H

#include <stddef.h>

/* 1 = a fresh PostgreSQL database (url filled), 0 = SQLite (url ""), -1 = could not create one. */
int test_db_fresh(char *url, size_t cap);
/* Drops a database made by test_db_fresh (nothing for ""). */
void test_db_drop(const char *url);
/* 1 when VCS_TEST_DATABASE_URL selects PostgreSQL. */
int test_db_is_postgres(void);

#endif
