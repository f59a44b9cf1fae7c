/*
 * Test support: run the real `voiceclone serve` on a free loopback port with a temporary data
 * folder, for black-box API tests (any module's tests may use it).
 *
 *   test_server s;
 *   assert_int_equal(test_server_start(&s, NULL, NULL), 0);   // waits until GET /api/health is 200
 *   char url[512]; test_server_url(&s, url, sizeof url, "/api/models");
 *   ...
 *   test_server_stop(&s);                                     // SIGTERM, wait, remove temp folder
 *
 * The binary is $VCS_BIN if set, else the `voiceclone` next to the test tree of the running test
 * (build-X/tests/api/test_foo → build-X/voiceclone). env: extra "KEY=VALUE" strings for the server
 * process (e.g. "VCS_UPLOAD_EXPIRY_SECONDS=1"); args: extra CLI arguments. Both NULL-terminated.
 * The server's stderr (access log) goes to s.log_path; it is printed when the server fails to start.
 * With VCS_TEST_DATABASE_URL set (tests/support/test_db.h) each server gets a fresh PostgreSQL
 * database instead of data/studio.db, so the API suite runs on either store.
 */
#ifndef VC_TEST_SERVER_H
#define VC_TEST_SERVER_H

#include <sys/types.h>

typedef struct test_server {
    pid_t pid;
    int port;
    char root[256];      /* temp folder holding data/ and server.log */
    char data_dir[300];
    char log_path[300];
    char base_url[64];   /* http://127.0.0.1:PORT */
    char db_url[512];    /* with VCS_TEST_DATABASE_URL: a fresh PostgreSQL database for this server
                          * (passed as VCS_DATABASE_URL, dropped by cleanup); "" = SQLite */
    const char *const *env, *const *args; /* as given to start (kept for restart) */
} test_server;

int test_server_start(test_server *s, const char *const *env, const char *const *args);
/* The same with the data folder named data_name inside the temp folder (e.g. "my studio data"). */
int test_server_start_in(test_server *s, const char *data_name, const char *const *env, const char *const *args);
/* SIGTERM and wait; returns the server's exit status (0 = clean shutdown), -1 if it had to be killed. */
int test_server_stop(test_server *s);
/* Same as stop but keeps the temp folder (to inspect data after shutdown); call test_server_cleanup later. */
int test_server_stop_keep(test_server *s);
void test_server_cleanup(test_server *s);
/* Stops the server and starts it again on the same data folder (new port, same env/args):
 * for persistence and crash-recovery tests. */
int test_server_restart(test_server *s);
/* base_url + path into out. */
const char *test_server_url(const test_server *s, char *out, size_t cap, const char *path);
/* Path of the voiceclone binary the tests use. */
const char *test_server_binary(char *out, size_t cap);
/* A free TCP port on 127.0.0.1 (bound then released). */
int test_free_port(void);

#endif
