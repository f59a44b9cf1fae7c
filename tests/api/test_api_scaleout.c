/*
 * Scale-out against real processes: a throwaway PostgreSQL 15 (scripts/pg-tmp.sh), API nodes
 * (`voiceclone serve --database … --no-workers`) and three `voiceclone worker` processes sharing
 * one data root. Checks the promises: 30 mixed jobs complete, each claimed exactly once;
 * lane limits hold per worker (never two trainings at once on a train=1 worker) while the lanes
 * spread over the workers;
 * cancel reaches a worker in another process; a worker killed with SIGKILL loses its lease and its
 * job resumes from its checkpoint on another worker, for the resumable sleep kind and for a real
 * tiny RVC training (the golden HuBERT/RMVPE, model_size "tiny", 12 s of espeak-ng speech: 30-50 s
 * on the loaded shared 2-core machine); an SSE client of an API node killed with SIGKILL
 * reconnects to another node and replays with Last-Event-ID.
 *
 * VCS_TEST_FILTER=<cmocka pattern> runs only the matching tests (the group setup still runs).
 *
 * Needs the PostgreSQL server binaries (scripts/install-deps.sh installs them); without them the
 * test fails, unless VCS_SKIP_PG=1 (then it reports that it skipped).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_audio.h"
#include "support/test_db.h"
#include "support/test_server.h"

#define WORKERS 3
#define LEASE_MS "1500"

static char PG_DIR[128];
static char DB_URL[512];
static test_server API, API2;
static pid_t WORKER_PID[WORKERS];

/* VCS_QUOTA_ACTIVE_JOBS: the test submits 30 jobs at once, above the per-user default of 20 */
static const char *const NODE_ENV[] = {"VCS_JOBS_TEST_KINDS=1", "VCS_LEASE_MS=" LEASE_MS, "VCS_ACCESS_LOG=0",
                                       "VCS_QUOTA_ACTIVE_JOBS=100", NULL};

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static pid_t start_worker(int i)
{
    char bin[512], name[16], log[400];
    test_server_binary(bin, sizeof bin);
    snprintf(name, sizeof name, "w%d", i);
    snprintf(log, sizeof log, "%s/worker%d.log", API.root, i);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        setenv("VCS_JOBS_TEST_KINDS", "1", 1);
        setenv("VCS_LEASE_MS", LEASE_MS, 1);
        execl(bin, bin, "worker", "--database", DB_URL, "--data", API.data_dir, "--lanes", "train=1,convert=1,cpu=2",
              "--name", name, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int group_setup(void **state)
{
    (void)state;
    if (getenv("VCS_SKIP_PG") && !strcmp(getenv("VCS_SKIP_PG"), "1")) return 0;
    snprintf(PG_DIR, sizeof PG_DIR, "/tmp/vcs-pg-scale-XXXXXX");
    if (!mkdtemp(PG_DIR)) return -1;
    chmod(PG_DIR, 0755);
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char cmd[700], admin[512] = "";
    snprintf(cmd, sizeof cmd, "bash %s/scripts/pg-tmp.sh start %s", root, PG_DIR);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(admin, sizeof admin, p)) {
        if (p) pclose(p);
        fprintf(stderr, "could not start PostgreSQL (scripts/pg-tmp.sh)\n");
        return -1;
    }
    pclose(p);
    admin[strcspn(admin, "\n")] = '\0';
    setenv("VCS_TEST_DATABASE_URL", admin, 1);
    if (test_db_fresh(DB_URL, sizeof DB_URL) != 1) return -1;
    const char *const args[] = {"--database", DB_URL, "--no-workers", NULL};
    if (test_server_start(&API, NODE_ENV, args)) return -1;
    for (int i = 0; i < WORKERS; i++) WORKER_PID[i] = start_worker(i);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < WORKERS; i++)
        if (WORKER_PID[i] > 0) {
            kill(WORKER_PID[i], SIGTERM);
            waitpid(WORKER_PID[i], NULL, 0);
        }
    if (API2.pid > 0) test_server_stop(&API2);
    if (API.pid > 0) test_server_stop(&API);
    else if (API.root[0]) test_server_cleanup(&API); /* killed by the last test */
    if (PG_DIR[0]) {
        const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
        shell("bash %s/scripts/pg-tmp.sh stop %s; rm -rf %s", root, PG_DIR, PG_DIR);
    }
    return 0;
}

static int skipped(void)
{
    if (DB_URL[0]) return 0;
    print_message("VCS_SKIP_PG=1: scale-out test skipped (no PostgreSQL)\n");
    return 1;
}

/* The number of events of the job whose name is event and whose data matches like (a LIKE
 * pattern, with any double quote escaped for the shell), straight from PostgreSQL. */
static int event_count(const char *job_id, const char *event, const char *like)
{
    char cmd[900], out[32] = "";
    snprintf(cmd, sizeof cmd,
             "psql -Atq '%s' -c \"SELECT count(*) FROM job_events WHERE job_id='%s' AND event='%s' "
             "AND data_json LIKE '%s'\"",
             DB_URL, job_id, event, like);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    if (!fgets(out, sizeof out, p)) out[0] = '\0';
    pclose(p);
    return out[0] ? atoi(out) : -1;
}

static void thirty_mixed_jobs_each_run_once(void **state)
{
    (void)state;
    if (skipped()) return;
    enum { N = 30 };
    static const char *const LANES[] = {"cpu", "convert", "train"};
    char ids[N][64];
    double t0 = api_now_ms();
    for (int i = 0; i < N; i++) {
        char params[160];
        snprintf(params, sizeof params, "{\"seconds\":%.2f,\"steps\":4,\"lane\":\"%s\",\"priority\":%d}",
                 0.1 + (i % 4) * 0.1, LANES[i % 3], 10 + i % 5);
        api_submit_sleep(&API, params, ids[i], sizeof ids[i]);
    }
    for (int i = 0; i < N; i++) assert_string_equal(api_wait_terminal(&API, ids[i], 60), "complete");
    print_message("30 jobs complete after %.0f ms\n", api_now_ms() - t0);
    char workers_seen[WORKERS + 1][16] = {{0}};
    int n_seen = 0;
    for (int i = 0; i < N; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/jobs/%s", ids[i]);
        json_t *j = api_call(&API, "GET", path, NULL, 200);
        assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 1);
        const char *w = json_string_value(json_object_get(j, "worker"));
        assert_non_null(w);
        int known = 0;
        for (int k = 0; k < n_seen; k++) known |= !strcmp(workers_seen[k], w);
        if (!known && n_seen <= WORKERS) snprintf(workers_seen[n_seen++], 16, "%s", w);
        /* claimed once: exactly one "starting" event, one run of steps and one terminal event per job */
        assert_int_equal(event_count(ids[i], "progress", "%\\\"phase\\\":\\\"starting\\\"%"), 1);
        assert_int_equal(event_count(ids[i], "progress", "%\\\"percent\\\":100%"), 1);
        assert_int_equal(event_count(ids[i], "complete", "%"), 1);
        assert_int_equal(event_count(ids[i], "close", "%"), 1);
    }
    print_message("30 jobs on %d workers\n", n_seen);
    /* a finished job's stream on the node that submitted it (while nobody streamed it) replays
     * everything and closes: memory holds a job's newest events or none of them */
    char path[128], url[512];
    snprintf(path, sizeof path, "/api/progress/%s", ids[N - 1]);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&API, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    assert_non_null(strstr(res.body, "id: 1\n"));
    assert_non_null(strstr(res.body, "event: complete"));
    assert_non_null(strstr(res.body, "event: close"));
    http_response_free(&res);
    assert_true(n_seen >= 2); /* spread over workers */
    assert_true(n_seen <= WORKERS);
}

/* The most jobs among ids that ran at the same time on worker (NULL = any worker), from their
 * started_ms / finished_ms (both taken from the running worker's clock); overlaps shorter than
 * 20 ms (clock granularity) do not count. */
typedef struct run_span { char worker[16]; int64_t start, end; } run_span;

static int max_overlap(const run_span *r, int n, const char *worker)
{
    int most = 0;
    for (int i = 0; i < n; i++) {
        if (worker && strcmp(r[i].worker, worker)) continue;
        int at = 0; /* jobs running 20 ms after r[i] started */
        for (int k = 0; k < n; k++)
            if ((!worker || !strcmp(r[k].worker, worker)) && r[k].start <= r[i].start + 20 && r[k].end > r[i].start + 20) at++;
        most = at > most ? at : most;
    }
    return most;
}

static int distinct_workers(const run_span *r, int n)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int k = 0; k < i; k++) seen |= !strcmp(r[k].worker, r[i].worker);
        count += !seen;
    }
    return count;
}

/* Lanes across processes: each worker has train=1, convert=1. Nine training and nine conversion
 * jobs submitted at once: no worker ever runs two of a lane at a time, yet the lanes run in
 * parallel over the workers. */
static void lane_limits_hold_per_worker(void **state)
{
    (void)state;
    if (skipped()) return;
    enum { N = 18 };
    char ids[N][64];
    run_span train[N], convert[N];
    int nt = 0, nc = 0;
    for (int i = 0; i < N; i++) {
        char params[160];
        snprintf(params, sizeof params, "{\"seconds\":%s,\"steps\":6,\"lane\":\"%s\"}", i % 2 ? "0.6" : "0.4",
                 i % 2 ? "train" : "convert");
        api_submit_sleep(&API, params, ids[i], sizeof ids[i]);
    }
    for (int i = 0; i < N; i++) assert_string_equal(api_wait_terminal(&API, ids[i], 60), "complete");
    for (int i = 0; i < N; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/jobs/%s", ids[i]);
        json_t *j = api_call(&API, "GET", path, NULL, 200);
        assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 1);
        run_span *r = i % 2 ? &train[nt++] : &convert[nc++];
        snprintf(r->worker, sizeof r->worker, "%s", json_string_value(json_object_get(j, "worker")));
        r->start = json_integer_value(json_object_get(j, "started_ms"));
        r->end = json_integer_value(json_object_get(j, "finished_ms"));
        assert_true(r->start > 0 && r->end > r->start);
    }
    for (int w = 0; w < WORKERS; w++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", w);
        assert_true(max_overlap(train, nt, name) <= 1);
        assert_true(max_overlap(convert, nc, name) <= 1);
    }
    int tw = distinct_workers(train, nt), cw = distinct_workers(convert, nc);
    int tpar = max_overlap(train, nt, NULL), cpar = max_overlap(convert, nc, NULL);
    print_message("training on %d workers (at most %d at once), conversions on %d workers (at most %d at once)\n", tw,
                  tpar, cw, cpar);
    assert_true(tw >= 2 && cw >= 2);       /* spread over workers */
    assert_true(tpar >= 2 && tpar <= WORKERS); /* in parallel, one per worker at most */
    assert_true(cpar >= 2 && cpar <= WORKERS);
}

static void cancel_reaches_another_process(void **state)
{
    (void)state;
    if (skipped()) return;
    char id[64], path[128];
    api_submit_sleep(&API, "{\"seconds\":30,\"steps\":300}", id, sizeof id);
    for (int i = 0; i < 100 && strcmp(api_job_status(&API, id), "running"); i++) usleep(50000);
    assert_string_equal(api_job_status(&API, id), "running");
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    double t0 = api_now_ms();
    api_call(&API, "DELETE", path, NULL, 200);
    assert_string_equal(api_wait_terminal(&API, id, 5), "cancelled");
    double ms = api_now_ms() - t0;
    print_message("cancel seen as cancelled after %.0f ms\n", ms);
    assert_true(ms < 1000);
}

static int worker_index(const char *name)
{
    return name && name[0] == 'w' && name[1] >= '0' && name[1] < '0' + WORKERS ? name[1] - '0' : -1;
}

static void killed_worker_job_resumes_elsewhere(void **state)
{
    (void)state;
    if (skipped()) return;
    char id[64], path[128];
    api_submit_sleep(&API, "{\"seconds\":4,\"steps\":20,\"resume\":true,\"lane\":\"train\"}", id, sizeof id);
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    char victim[16] = "";
    for (int i = 0; i < 200; i++) {
        json_t *j = api_call(&API, "GET", path, NULL, 200);
        if (json_number_value(json_object_get(j, "progress")) >= 30) {
            snprintf(victim, sizeof victim, "%s", json_string_value(json_object_get(j, "worker")));
            break;
        }
        usleep(50000);
    }
    int v = worker_index(victim);
    assert_true(v >= 0);
    kill(WORKER_PID[v], SIGKILL);
    waitpid(WORKER_PID[v], NULL, 0);
    double t0 = api_now_ms();
    for (int i = 0; i < 200; i++) {
        json_t *j = api_call(&API, "GET", path, NULL, 200);
        const char *w = json_string_value(json_object_get(j, "worker"));
        if (json_integer_value(json_object_get(j, "attempts")) == 2 && w && strcmp(w, victim)) break;
        usleep(50000);
    }
    print_message("job running again %.0f ms after SIGKILL (lease %s ms)\n", api_now_ms() - t0, LEASE_MS);
    WORKER_PID[v] = start_worker(v); /* back to three for the next tests */
    assert_string_equal(api_wait_terminal(&API, id, 30), "complete");
    json_t *j = api_call(&API, "GET", path, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 2);
    assert_string_not_equal(json_string_value(json_object_get(j, "worker")), victim);
    json_int_t from = json_integer_value(json_object_get(json_object_get(j, "result"), "resumed_from"));
    print_message("resumed from step %d of 20\n", (int)from);
    assert_true(from >= 5); /* it had passed 30 % (6 steps) when killed */
}

/* The loss curve's points of a training job (one per step, the last run's after a resume). */
static int loss_points(const char *job_id)
{
    char path[160];
    snprintf(path, sizeof path, "/api/jobs/%s/loss_history", job_id);
    return (int)json_array_size(json_object_get(api_call(&API, "GET", path, NULL, 200), "points"));
}

/* The tiny golden HuBERT/RMVPE into the shared data root, as `voiceclone models import` does. */
static void install_base_models(void)
{
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char bin[512];
    test_server_binary(bin, sizeof bin);
    assert_int_equal(shell("%s models import %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt --to hubert "
                           "--as hubert_base.pt --data %s >/dev/null && %s models import "
                           "%s/tests/golden/rvc/rmvpe_small/rmvpe.safetensors --to rmvpe --as rmvpe.pt --data %s >/dev/null",
                           bin, root, API.data_dir, bin, root, API.data_dir),
                     0);
}

static void upload_training_voice(char *id, size_t cap)
{
    char wav[] = "/tmp/vcs-scale-voice-XXXXXX", url[512];
    close(mkstemp(wav));
    if (test_audio_speech(wav, 12)) /* training refuses < 10 s */ fail_msg("espeak-ng speech");
    http_response res = {0};
    int rc = http_post_form(test_server_url(&API, url, sizeof url, "/api/upload/training-audio"), NULL, wav,
                            "voice.wav", NULL, &res);
    unlink(wav);
    if (rc || res.status != 200) fail_msg("upload: %ld %s", res.status, res.body ? res.body : "");
    snprintf(id, cap, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
}

/* The first training step the job reported in its attempt-th run (0 = none), from the SSE replay. */
static int first_step_of_attempt(const char *job_id, int attempt)
{
    char path[160], url[512], mark[32];
    snprintf(path, sizeof path, "/api/progress/%s", job_id);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&API, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    snprintf(mark, sizeof mark, "\"attempt\":%d", attempt);
    const char *again = res.body ? strstr(res.body, mark) : NULL;
    const char *step = again ? strstr(again, "\"step\":") : NULL;
    int first = step ? atoi(step + 7) : 0;
    http_response_free(&res);
    return first;
}

/* A real (tiny) RVC training on a worker process, kill -9 of that worker after a checkpoint:
 * another worker claims the job once the lease lapses, resumes from the checkpoint in the shared
 * data root (its first step is past it, not step 1) and stores the model. */
static void killed_worker_training_resumes_from_checkpoint(void **state)
{
    (void)state;
    if (skipped()) return;
    install_base_models();
    char audio[64], body[700], id[64], model[64], path[700];
    upload_training_voice(audio, sizeof audio);
    /* 2 epochs of a few steps (batch 2), a checkpoint every 2 steps; killed after step 3 */
    snprintf(body, sizeof body,
             "{\"training_audio_id\":\"%s\",\"model_name\":\"Scale voice\",\"voice_consent\":true,"
             "\"training_params\":{\"model_size\":\"tiny\",\"batch_size\":2,\"epochs\":2,\"save_every_steps\":2}}",
             audio);
    json_t *j = api_call(&API, "POST", "/api/train", body, 202);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "job_id")));
    snprintf(model, sizeof model, "%s", json_string_value(json_object_get(j, "model_id")));
    double t0 = api_now_ms();
    while (loss_points(id) < 3 && api_now_ms() - t0 < 120000) usleep(100000);
    assert_true(loss_points(id) >= 3); /* past the checkpoint at step 2 */
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    char victim[16];
    snprintf(victim, sizeof victim, "%s", json_string_value(json_object_get(api_call(&API, "GET", path, NULL, 200), "worker")));
    int v = worker_index(victim);
    assert_true(v >= 0);
    kill(WORKER_PID[v], SIGKILL);
    waitpid(WORKER_PID[v], NULL, 0);
    int killed_at = loss_points(id); /* final: its worker is gone */
    print_message("training: worker %s killed after step %d, %.0f ms after submit\n", victim, killed_at, api_now_ms() - t0);
    snprintf(path, sizeof path, "%s/training/%s/trainer", API.data_dir, id);
    assert_int_equal(access(path, F_OK), 0); /* the checkpoint is on the shared data root */
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    for (int i = 0; i < 200; i++) { /* re-claimed by another worker (the lease is 1.5 s) */
        j = api_call(&API, "GET", path, NULL, 200);
        const char *w = json_string_value(json_object_get(j, "worker"));
        if (json_integer_value(json_object_get(j, "attempts")) == 2 && w && strcmp(w, victim)) break;
        usleep(50000);
    }
    WORKER_PID[v] = start_worker(v); /* back to three for the next test */
    const char *st = api_wait_terminal(&API, id, 120);
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    j = api_call(&API, "GET", path, NULL, 200);
    if (strcmp(st, "complete")) fail_msg("training ended %s: %s", st, json_dumps(j, JSON_COMPACT));
    print_message("training complete %.0f ms after submit\n", api_now_ms() - t0);
    assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 2);
    assert_string_not_equal(json_string_value(json_object_get(j, "worker")), victim);
    json_t *result = json_object_get(j, "result");
    int steps = (int)json_integer_value(json_object_get(result, "steps"));
    assert_int_equal(steps, 2 * json_integer_value(json_object_get(json_object_get(result, "training_set"), "steps_per_epoch")));
    assert_int_equal(loss_points(id), steps); /* the steps redone after the checkpoint replaced the first run's */
    int first = first_step_of_attempt(id, 2);
    print_message("second run began at step %d\n", first);
    /* right after its latest checkpoint (an even step, at least 2), not at step 1 */
    if (first < 3 || first > killed_at + 1 || first % 2 != 1)
        fail_msg("the re-claimed job began at step %d (killed after step %d, a checkpoint every 2 steps): it did not "
                 "resume from its checkpoint", first, killed_at);
    snprintf(path, sizeof path, "/api/models/%s", model);
    api_call(&API, "GET", path, NULL, 200);
}

/* Reads the stream until the text holds an event id >= want; returns the highest id seen. */
static long read_until_id(int fd, long want)
{
    char buf[65536];
    size_t n = 0;
    long last = 0;
    double t0 = api_now_ms();
    while (last < want && api_now_ms() - t0 < 20000 && n + 1 < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        buf[n] = '\0';
        for (char *p = buf; (p = strstr(p, "\nid: ")); p += 5) last = strtol(p + 5, NULL, 10) > last ? strtol(p + 5, NULL, 10) : last;
    }
    return last;
}

static void sse_client_moves_to_another_api_node(void **state)
{
    (void)state;
    if (skipped()) return;
    const char *const args[] = {"--database", DB_URL, "--no-workers", NULL};
    assert_int_equal(test_server_start(&API2, NODE_ENV, args), 0);
    /* (API2 has a data folder of its own: SSE needs only the database, where the events live) */
    char id[64], path[128], url[512];
    api_submit_sleep(&API, "{\"seconds\":2,\"steps\":10}", id, sizeof id);
    snprintf(path, sizeof path, "/api/progress/%s", id);
    int fd = api_open_stream(&API, path, 0);
    assert_true(fd >= 0);
    long last = read_until_id(fd, 4);
    assert_true(last >= 4);
    close(fd);
    kill(API.pid, SIGKILL);
    waitpid(API.pid, NULL, 0);
    API.pid = 0;
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %ld", last);
    const char *const headers[] = {hdr, NULL};
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&API2, url, sizeof url, path), headers, NULL, 0, &res), 0);
    assert_int_equal(res.status, 200);
    char want[32], not_want[32];
    snprintf(want, sizeof want, "id: %ld\n", last + 1);
    snprintf(not_want, sizeof not_want, "id: %ld\n", last);
    assert_non_null(strstr(res.body, want));      /* continues right after what the client saw */
    assert_null(strstr(res.body, not_want));       /* and nothing twice */
    assert_non_null(strstr(res.body, "event: complete"));
    assert_non_null(strstr(res.body, "event: close"));
    http_response_free(&res);
    /* the job API answers on the surviving node too */
    assert_string_equal(api_job_status(&API2, id), "complete");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thirty_mixed_jobs_each_run_once),
        cmocka_unit_test(lane_limits_hold_per_worker),
        cmocka_unit_test(cancel_reaches_another_process),
        cmocka_unit_test(killed_worker_job_resumes_elsewhere),
        cmocka_unit_test(killed_worker_training_resumes_from_checkpoint),
        cmocka_unit_test(sse_client_moves_to_another_api_node), /* last: it kills the first API node */
    };
    if (getenv("VCS_TEST_FILTER")) cmocka_set_test_filter(getenv("VCS_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
