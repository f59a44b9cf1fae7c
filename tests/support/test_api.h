/*
 * Test support: the few calls every job/API test repeats against a test_server (request with an
 * expected status, submit a sleep job, wait for a terminal state, upload a generated tone, raw
 * loopback sockets, the server's memory). Failures end the running cmocka test with a message.
 *
 *   json_t *j = api_call(&s, "GET", "/api/jobs/job_x", NULL, 200);  // valid until the next api_call
 *   api_submit_sleep(&s, "{\"seconds\":1}", id, sizeof id);
 *   assert_string_equal(api_wait_terminal(&s, id, 10), "complete");
 */
#ifndef VC_TEST_API_H
#define VC_TEST_API_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "test_server.h"

/* JSON body (NULL when not JSON); fails the test unless the status is want. */
json_t *api_call(const test_server *s, const char *method, const char *path, const char *body, long want);
/* Only the status of a request (0 when no response). */
long api_status(const test_server *s, const char *method, const char *path);
/* POST /api/jobs {"kind":"sleep","params":params}; the job id into id. */
void api_submit_sleep(const test_server *s, const char *params, char *id, size_t cap);
/* "complete" | "failed" | "cancelled" | "timeout" (polls every 50 ms). */
const char *api_wait_terminal(const test_server *s, const char *id, double seconds);
/* The job's status right now. */
const char *api_job_status(const test_server *s, const char *id);
/* Uploads a generated sine tone as target audio; file_id into id. */
void api_upload_tone(const test_server *s, double seconds, char *id, size_t cap);
/* A connected loopback TCP socket to the server (rcvbuf > 0 shrinks SO_RCVBUF first); -1 on failure. */
int api_connect(const test_server *s, int rcvbuf);
/* Sends "GET path" with an SSE Accept header on a new socket; -1 on failure. */
int api_open_stream(const test_server *s, const char *path, int rcvbuf);
/* A kB field (e.g. "VmRSS", "VmHWM") of /proc/pid/status, -1 when missing. */
long api_proc_kb(pid_t pid, const char *field);
/* Milliseconds since an unspecified point (CLOCK_MONOTONIC). */
double api_now_ms(void);
/* Number of regular files under dir (recursively) whose name contains needle (NULL = all). */
int api_count_files(const char *dir, const char *needle);
/* The same, matching needle anywhere in the path below dir: files inside a folder whose name
 * contains it count too (an import's staging folder holds model.pth, not ".import-" files). */
int api_count_paths(const char *dir, const char *needle);

#endif
