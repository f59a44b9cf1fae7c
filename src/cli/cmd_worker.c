/*
 * voiceclone worker --database URL [--data DIR] [--lanes train=1,convert=2,cpu=N] [--name NAME]
 *
 * A scale-out job worker: runs jobs from the shared PostgreSQL queue with the same scheduler as
 * `voiceclone serve` (jobs_start), without HTTP. Every node mounts the same data root (--data).
 * The name (default host:pid; VCS_WORKER_NAME) is recorded on the jobs it claims and reported by
 * the jobs API; it must be unique among running workers.
 *
 * SIGTERM / SIGINT drain: running jobs are asked to stop, re-queued (training keeps its
 * checkpoint and resumes on the next claim), and the process exits 0 once its threads ended.
 * A worker that dies without draining loses its jobs' leases (VCS_LEASE_MS, 30 s) and they go
 * back to the queue.
 *
 * SQLite is refused: one process owns an SQLite queue (`voiceclone serve`), and it has no
 * notifications; use --database postgres://… (or VCS_DATABASE_URL).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "jobs/jobs.h"

typedef struct worker_args {
    char data[1024];
    char database[1024];
    jobs_config cfg;
} worker_args;

/* "train=1,convert=2,cpu=4" (any subset, any order) into cfg->lane_slots; 0 = not at all. */
static int parse_lanes(const char *spec, jobs_config *cfg)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (int l = 0; l < JOBS_LANE_COUNT; l++) cfg->lane_slots[l] = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) return -1;
        *eq = '\0';
        char *end;
        long n = strtol(eq + 1, &end, 10);
        if (*end || n < 0 || n > 256) return -1;
        int found = 0;
        for (int l = 0; l < JOBS_LANE_COUNT; l++)
            if (!strcmp(tok, jobs_lane_name((jobs_lane)l))) {
                cfg->lane_slots[l] = (int)n;
                found = 1;
            }
        if (!found) return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, worker_args *a)
{
    snprintf(a->data, sizeof a->data, "./data");
    const char *env = getenv("VCS_DATABASE_URL");
    if (env) snprintf(a->database, sizeof a->database, "%s", env);
    jobs_config_defaults(&a->cfg);
    jobs_config_from_env(&a->cfg);
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return -1;
        if (!strcmp(argv[i], "--data")) snprintf(a->data, sizeof a->data, "%s", v);
        else if (!strcmp(argv[i], "--database")) snprintf(a->database, sizeof a->database, "%s", v);
        else if (!strcmp(argv[i], "--name")) snprintf(a->cfg.worker_name, sizeof a->cfg.worker_name, "%s", v);
        else if (!strcmp(argv[i], "--lanes")) {
            if (parse_lanes(v, &a->cfg)) return -1;
        } else
            return -1;
    }
    return 0;
}

int cmd_worker(int argc, char **argv)
{
    worker_args a;
    if (parse_args(argc, argv, &a)) {
        fprintf(stderr, "usage: voiceclone worker --database postgres://… [--data DIR] "
                        "[--lanes train=1,convert=2,cpu=N] [--name NAME]\n");
        return 2;
    }
    if (!db_url_is_postgres(a.database)) {
        fprintf(stderr, "voiceclone worker: needs a shared PostgreSQL database (--database postgres://… or "
                        "VCS_DATABASE_URL); with the SQLite default `voiceclone serve` runs the jobs itself\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: only sigwait sees them */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    vc_error err;
    store *s = NULL;
    jobs *j = NULL;
    if (store_open_url(&s, a.data, a.database, &err) || jobs_start(&j, s, &a.cfg, 1, &err)) {
        fprintf(stderr, "voiceclone worker: %s\n", err.message);
        jobs_stop(j);
        store_close(s);
        return 1;
    }
    fprintf(stderr, "{\"event\":\"worker_ready\",\"name\":\"%s\",\"lanes\":{\"train\":%d,\"convert\":%d,\"cpu\":%d}}\n",
            a.cfg.worker_name, a.cfg.lane_slots[JOBS_LANE_TRAIN], a.cfg.lane_slots[JOBS_LANE_CONVERT],
            a.cfg.lane_slots[JOBS_LANE_CPU]);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "{\"event\":\"draining\",\"signal\":%d}\n", sig);
    jobs_stop(j); /* quiesce: running jobs stop at their next check and go back to the queue */
    store_close(s);
    fprintf(stderr, "{\"event\":\"stopped\"}\n");
    return 0;
}
