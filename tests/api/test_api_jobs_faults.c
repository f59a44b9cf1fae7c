/*
 * The job system under faults, against the real server (each test starts its own):
 *
 *   a stuck stream reader   a client opens /api/progress/{id} with a tiny receive buffer and never
 *                           reads while the job emits ~13 MB of events: the job runs at full speed,
 *                           another client gets every event, other requests stay fast, memory stays
 *                           bounded, and the stuck client still gets the whole stream once it reads.
 *   kill -9 mid-upload      the server dies while a tus PATCH is in flight and jobs run: after the
 *                           restart every job ends complete (re-run, no duplicate outputs, no
 *                           scratch folders left), the upload is not complete and resumes from its
 *                           durable offset to a stored audio file.
 *   disk full               the server runs under RLIMIT_FSIZE (write() fails with EFBIG once it
 *                           ignores SIGXFSZ): a job writing a bigger output fails with a clear
 *                           message and leaves no partial file; the store, other audio and new jobs
 *                           keep working.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_audio.h"
#include "support/test_server.h"

static const char *const ENV[] = {"VCS_JOBS_TEST_KINDS=1", "VCS_LANE_CPU=2", NULL};

/* ---- a stuck stream reader ---- */
typedef struct stream_reader {
    const test_server *s;
    char path[128];
    http_response res;
    double done_ms;
} stream_reader;

static void *read_stream(void *arg)
{
    stream_reader *r = arg;
    char url[512];
    http_request("GET", test_server_url(r->s, url, sizeof url, r->path), NULL, NULL, 0, &r->res);
    r->done_ms = api_now_ms();
    return NULL;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Reads fd until "event: close" arrived or seconds passed; returns the bytes read. */
static size_t drain_until_close(int fd, double seconds)
{
    static char tail[8192 + 1];
    char buf[65536];
    size_t total = 0, kept = 0;
    tail[0] = '\0';
    for (double t0 = api_now_ms(); api_now_ms() - t0 < seconds * 1000;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        total += (size_t)n;
        /* keep the last 8 KiB to look for the close event */
        size_t take = (size_t)n < 8192 ? (size_t)n : 8192;
        if (kept + take > 8192) {
            memmove(tail, tail + (kept + take - 8192), 8192 - take);
            kept = 8192 - take;
        }
        memcpy(tail + kept, buf + n - take, take);
        kept += take;
        tail[kept] = '\0';
        if (strstr(tail, "event: close")) break;
    }
    return strstr(tail, "event: close") ? total : 0;
}

static void stuck_reader_blocks_nobody(void **state)
{
    enum { STEPS = 800, MSG = 16384 };
    test_server s;
    assert_int_equal(test_server_start(&s, ENV, NULL), 0);
    char id[64], params[256], path[128];
    snprintf(params, sizeof params, "{\"seconds\":2,\"steps\":%d,\"message_bytes\":%d}", STEPS, MSG);
    api_submit_sleep(&s, params, id, sizeof id);
    snprintf(path, sizeof path, "/api/progress/%s", id);
    int stuck = api_open_stream(&s, path, 4096);
    assert_true(stuck >= 0);
    stream_reader reader = {.s = &s};
    snprintf(reader.path, sizeof reader.path, "%s", path);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, read_stream, &reader), 0);
    double worst = 0, t_end;
    for (;;) {
        double t0 = api_now_ms();
        assert_int_equal(api_status(&s, "GET", "/api/health"), 200);
        const char *st = api_job_status(&s, id);
        double took = api_now_ms() - t0;
        worst = took > worst ? took : worst;
        if (strcmp(st, "queued") && strcmp(st, "running")) break;
        usleep(50000);
    }
    t_end = api_now_ms();
    assert_string_equal(api_job_status(&s, id), "complete");
    char jpath[128];
    snprintf(jpath, sizeof jpath, "/api/jobs/%s", id);
    double duration = json_number_value(json_object_get(api_call(&s, "GET", jpath, NULL, 200), "duration_seconds"));
    long rss_kb = api_proc_kb(s.pid, "VmRSS");
    pthread_join(th, NULL);
    fprintf(stderr, "worst request %.0f ms, job %.2f s, reader done %.0f ms after the job, server RSS %ld kB\n", worst,
            duration, reader.done_ms - t_end, rss_kb);
    assert_true(worst < 1500);          /* the API stayed responsive */
    assert_true(duration < 2 + 3.0);    /* emitting never waited for the stuck client */
    assert_true(reader.done_ms - t_end < 5000);
    assert_int_equal(reader.res.status, 200);
    assert_int_equal(count(reader.res.body, "event: progress"), STEPS + 2); /* queued + starting + steps */
    assert_int_equal(count(reader.res.body, "event: close"), 1);
    http_response_free(&reader.res);
    assert_true(rss_kb > 0 && rss_kb < 300 * 1024);
    /* the stuck client was kept, not dropped: reading now, it gets the whole stream */
    size_t got = drain_until_close(stuck, 10);
    close(stuck);
    assert_true(got > (size_t)STEPS * MSG);
    assert_int_equal(test_server_stop(&s), 0);
}

/* ---- kill -9 mid-upload ---- */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void tus_headers(char *off_hdr, size_t cap, size_t offset, const char **h)
{
    snprintf(off_hdr, cap, "Upload-Offset: %zu", offset);
    h[0] = "Tus-Resumable: 1.0.0";
    h[1] = off_hdr;
    h[2] = "Content-Type: application/offset+octet-stream";
    h[3] = NULL;
}

static void tus_create(const test_server *s, size_t length, char *loc, size_t cap)
{
    char url[512], hl[64];
    snprintf(hl, sizeof hl, "Upload-Length: %zu", length);
    const char *h[] = {"Tus-Resumable: 1.0.0", hl, "Upload-Metadata: filename dG9uZS53YXY=,purpose dGFyZ2V0", NULL};
    http_response res = {0};
    assert_int_equal(http_request("POST", test_server_url(s, url, sizeof url, "/api/uploads/"), h, "", 0, &res), 0);
    assert_int_equal(res.status, 201);
    snprintf(loc, cap, "%s", http_header(&res, "Location"));
    http_response_free(&res);
}

static long tus_patch(const test_server *s, const char *loc, size_t offset, const char *data, size_t len,
                      http_response *res)
{
    char url[512], ho[64];
    const char *h[4];
    tus_headers(ho, sizeof ho, offset, h);
    assert_int_equal(http_request("PATCH", test_server_url(s, url, sizeof url, loc), h, data, len, res), 0);
    return res->status;
}

/* A PATCH whose body is sent only in part: the request stays in flight on the returned socket. */
static int tus_patch_in_flight(const test_server *s, const char *loc, size_t offset, const char *data, size_t len,
                               size_t sent)
{
    int fd = api_connect(s, 0);
    assert_true(fd >= 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "PATCH %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %zu\r\n"
                     "Content-Type: application/offset+octet-stream\r\nContent-Length: %zu\r\n\r\n",
                     loc, offset, len);
    assert_int_equal(write(fd, req, (size_t)n), n);
    for (size_t done = 0; done < sent;) {
        ssize_t w = write(fd, data + done, sent - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    return fd;
}

static const char *head_offset(const test_server *s, const char *loc, char *out, size_t cap)
{
    char url[512];
    const char *h[] = {"Tus-Resumable: 1.0.0", NULL};
    http_response res = {0};
    assert_int_equal(http_request("HEAD", test_server_url(s, url, sizeof url, loc), h, NULL, 0, &res), 0);
    assert_int_equal(res.status, 200);
    const char *v = http_header(&res, "Upload-Offset");
    snprintf(out, cap, "%s", v ? v : "");
    http_response_free(&res);
    return out;
}

static void kill_9_mid_upload_and_jobs_recovers(void **state)
{
    test_server s;
    assert_int_equal(test_server_start(&s, ENV, NULL), 0);
    char wav[] = "/tmp/vcs-kill-XXXXXX", loc[160], dir[400], got[32], want[32];
    close(mkstemp(wav));
    assert_int_equal(test_audio_tone(wav, 44100, 1, 20.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    size_t len;
    char *data = test_file_read(wav, &len);
    unlink(wav);
    assert_non_null(data);
    size_t half = len / 2;
    tus_create(&s, len, loc, sizeof loc);
    http_response res = {0};
    assert_int_equal(tus_patch(&s, loc, 0, data, half, &res), 204);
    http_response_free(&res);

    char j_long[64], j_short[64], j_queued[64];
    api_submit_sleep(&s, "{\"seconds\":3,\"steps\":30,\"output_bytes\":200000}", j_long, sizeof j_long);
    api_submit_sleep(&s, "{\"seconds\":3,\"steps\":30,\"output_bytes\":1000}", j_short, sizeof j_short);
    api_submit_sleep(&s, "{\"seconds\":0.2,\"steps\":2,\"output_bytes\":5000}", j_queued, sizeof j_queued);
    int fd = tus_patch_in_flight(&s, loc, half, data + half, len - half, (len - half) / 2);
    usleep(500000); /* the server has written part of the body, not committed it */
    assert_string_equal(api_job_status(&s, j_long), "running");
    assert_string_equal(api_job_status(&s, j_queued), "queued");
    kill(s.pid, SIGKILL);
    waitpid(s.pid, NULL, 0);
    s.pid = 0;
    close(fd);
    snprintf(dir, sizeof dir, "%s/jobs", s.data_dir);
    assert_true(dir_entries(dir) >= 2); /* the dead process left scratch folders of running jobs */

    assert_int_equal(test_server_restart(&s), 0);
    snprintf(want, sizeof want, "%zu", half);
    assert_string_equal(head_offset(&s, loc, got, sizeof got), want); /* only acknowledged bytes count */
    json_t *up = api_call(&s, "GET", loc, NULL, 200);
    assert_false(json_is_true(json_object_get(up, "upload_complete")));
    assert_true(json_is_null(json_object_get(up, "file_id")) || !json_object_get(up, "file_id"));
    json_t *list = json_object_get(api_call(&s, "GET", "/api/audio", NULL, 200), "audio");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 0); /* no audio from the half upload */
    const char *ids[] = {j_long, j_short, j_queued};
    for (int i = 0; i < 3; i++) assert_string_equal(api_wait_terminal(&s, ids[i], 20), "complete");
    char jpath[128];
    snprintf(jpath, sizeof jpath, "/api/jobs/%s", j_long);
    assert_true(json_integer_value(json_object_get(api_call(&s, "GET", jpath, NULL, 200), "attempts")) >= 2);
    assert_int_equal(dir_entries(dir), 0);                        /* no scratch folders left */
    snprintf(dir, sizeof dir, "%s/outputs", s.data_dir);
    assert_int_equal(api_count_files(dir, NULL), 3);              /* one output per job, no duplicates */
    assert_int_equal(api_count_files(dir, ".tmp") + api_count_files(dir, ".part"), 0);

    memset(&res, 0, sizeof res);
    assert_int_equal(tus_patch(&s, loc, half, data + half, len - half, &res), 204); /* resumed */
    const char *audio = http_header(&res, "Upload-Audio-Id");
    assert_non_null(audio);
    char apath[160];
    snprintf(apath, sizeof apath, "/api/audio/%s", audio);
    http_response_free(&res);
    api_call(&s, "GET", apath, NULL, 200);
    snprintf(dir, sizeof dir, "%s/uploads/tmp", s.data_dir);
    assert_int_equal(api_count_files(dir, ".part"), 0);
    free(data);
    assert_int_equal(test_server_stop(&s), 0);
}

/* ---- disk full ---- */
#define FSIZE_LIMIT (16L << 20)

/* The server inherits a file-size limit the test itself never reaches (it writes no big files). */
static int start_with_fsize_limit(test_server *s)
{
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = FSIZE_LIMIT;
    if (setrlimit(RLIMIT_FSIZE, &lim)) return -1;
    int rc = test_server_start(s, ENV, NULL);
    setrlimit(RLIMIT_FSIZE, &old);
    return rc;
}

static void disk_full_fails_the_job_cleanly(void **state)
{
    test_server s;
    assert_int_equal(start_with_fsize_limit(&s), 0);
    char audio[64], id[64], ok[64], path[160], dir[400], params[128];
    api_upload_tone(&s, 2.0, audio, sizeof audio);
    snprintf(params, sizeof params, "{\"seconds\":0,\"steps\":1,\"output_bytes\":%ld}", FSIZE_LIMIT * 2);
    api_submit_sleep(&s, params, id, sizeof id);
    assert_string_equal(api_wait_terminal(&s, id, 20), "failed");
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    const char *msg = json_string_value(json_object_get(json_object_get(api_call(&s, "GET", path, NULL, 200), "error"), "message"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "not enough disk space"));
    assert_int_equal(kill(s.pid, 0), 0); /* alive: SIGXFSZ did not kill it */
    snprintf(dir, sizeof dir, "%s/outputs", s.data_dir);
    assert_int_equal(api_count_files(dir, NULL), 0); /* no partial output */
    snprintf(dir, sizeof dir, "%s/jobs", s.data_dir);
    assert_int_equal(api_count_files(dir, NULL), 0);
    assert_int_equal(api_status(&s, "GET", "/api/health"), 200);
    snprintf(path, sizeof path, "/api/audio/%s", audio);
    api_call(&s, "GET", path, NULL, 200);
    snprintf(path, sizeof path, "/api/download/%s", audio);
    assert_int_equal(api_status(&s, "GET", path), 200);
    api_submit_sleep(&s, "{\"seconds\":0,\"steps\":1,\"output_bytes\":4096}", ok, sizeof ok);
    assert_string_equal(api_wait_terminal(&s, ok, 10), "complete");
    snprintf(dir, sizeof dir, "%s/outputs", s.data_dir);
    assert_int_equal(api_count_files(dir, NULL), 1);
    api_upload_tone(&s, 1.0, audio, sizeof audio);
    assert_int_equal(test_server_stop(&s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stuck_reader_blocks_nobody),
        cmocka_unit_test(kill_9_mid_upload_and_jobs_recovers),
        cmocka_unit_test(disk_full_fails_the_job_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
