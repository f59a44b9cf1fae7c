/*
 * The retention sweep (src/jobs/retention.h) as a server module: one thread that sweeps right
 * after startup and then every VCS_RETENTION_INTERVAL_S seconds, until the server quiesces. With
 * the interval 0 only the startup sweep runs: what a crash left behind (temp files, import
 * staging) must still go at the next start. No thread at all only when every window is 0. It
 * runs beside the HTTP threads and the job workers and only takes the store lock per statement,
 * so requests are never held up for a whole sweep. A failed sweep is logged and retried next time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "jobs/retention.h"
#include "server/server.h"

typedef struct retention_thread {
    store *s;
    retention_config cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping; /* under mu */
} retention_thread;

static void log_sweep(const retention_report *rep, const vc_error *err, int rc)
{
    if (rc) {
        json_t *line = json_pack("{s:s, s:s}", "event", "retention_failed", "message", err->message);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text) fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(line);
    } else if (rep->audio_deleted || rep->orphans_deleted || rep->jobs_deleted || rep->leftovers_deleted)
        fprintf(stderr,
                "{\"event\":\"retention\",\"audio_deleted\":%d,\"orphans_deleted\":%d,\"jobs_deleted\":%d,\"leftovers_deleted\":%d}\n",
                rep->audio_deleted, rep->orphans_deleted, rep->jobs_deleted, rep->leftovers_deleted);
}

/* Waits interval seconds or until stop; returns 1 when stopping. */
static int wait_interval(retention_thread *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double at = (double)ts.tv_nsec / 1e9 + t->cfg.interval_seconds;
    ts.tv_sec += (time_t)at;
    ts.tv_nsec = (long)((at - (double)(time_t)at) * 1e9);
    pthread_mutex_lock(&t->mu);
    while (!t->stopping && pthread_cond_timedwait(&t->cv, &t->mu, &ts) != ETIMEDOUT) {
    }
    int stopping = t->stopping;
    pthread_mutex_unlock(&t->mu);
    return stopping;
}

static void *sweeper_main(void *arg)
{
    retention_thread *t = arg;
    do {
        retention_report rep;
        vc_error err;
        int rc = retention_sweep(t->s, &t->cfg, (int64_t)time(NULL), &rep, &err);
        log_sweep(&rep, &err, rc);
    } while (t->cfg.interval_seconds > 0 && !wait_interval(t));
    return NULL;
}

static int module_start(server_app *app, vc_error *err)
{
    retention_config cfg;
    retention_config_defaults(&cfg);
    if (retention_config_from_env(&cfg, err)) return -1;
    if (cfg.uploads_seconds <= 0 && cfg.outputs_seconds <= 0 && cfg.leftovers_seconds <= 0) return 0; /* nothing to sweep */
    retention_thread *t = calloc(1, sizeof *t);
    if (!t) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    t->s = app->store;
    t->cfg = cfg;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, sweeper_main, t)) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        return vc_fail(err, VC_ERR_INTERNAL, "cannot start the retention thread");
    }
    app->retention = t;
    return 0;
}

static void module_quiesce(server_app *app)
{
    retention_thread *t = app->retention;
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->stopping = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void module_stop(server_app *app)
{
    retention_thread *t = app->retention;
    if (!t) return;
    module_quiesce(app);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
    app->retention = NULL;
}

const server_module RETENTION_SERVER_MODULE = {"retention", module_start, module_quiesce, module_stop};
