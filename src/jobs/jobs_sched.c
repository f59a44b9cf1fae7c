/*
 * The scheduler: one pool of worker threads per lane (train 1, convert 2, cpu = cores), each
 * claiming the best queued job of its lane from the store (priority, then age), running its kind,
 * and writing the outcome. The same code runs inside `voiceclone serve` and in `voiceclone
 * worker` processes; with PostgreSQL a keeper thread (leases, cross-process cancel, reaping) and
 * a LISTEN thread join them (see jobs_start in jobs.h). Also: submit, cancel, recovery at start, the notification that wakes
 * SSE streams after an event was persisted, and a keep-alive ticker for idle streams.
 *
 * Locks: `mu` guards the worker table (which job each worker runs, its cancel flag) and the wake
 * counter; `notify_mu` guards the listener list; `recent_mu` the window of recent events. The store
 * has its own lock; none of ours is held while calling into the store.
 *
 * Recent events: the last JOBS_RECENT events written are also kept in memory (added after their
 * commit, before the notification), so when 1000 streams wake for one event they copy it from
 * here instead of each querying the database. On PostgreSQL the LISTEN thread adds the events
 * other processes wrote (one query per notification) before it wakes the streams. Only a run of consecutive ids after the reader's position
 * that ends with the newest event of that job is served from memory; anything else (a replay of
 * older events, a gap) goes to the event log, which stays the truth.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/scrub.h"
#include "jobs/jobs_internal.h"
#include "nn/backend.h"

typedef struct jobs_worker {
    jobs *j;
    jobs_lane lane;
    pthread_t thread;
    int started;
    store *s;                      /* this thread's queries: a connection of j->conns, else j->s */
    char running_id[STORE_ID_MAX]; /* "" when idle (under mu) */
    int cancel;                    /* 0, 1 = user cancel, 2 = shutdown, 3 = lease lost (atomic) */
} jobs_worker;

#define JOBS_RECENT 128

typedef struct recent_event {
    char job_id[STORE_ID_MAX];
    int64_t id; /* 0 = empty slot */
    char name[24];
    char *data; /* owned */
} recent_event;

struct jobs {
    store *s;
    jobs_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t wake_seq;      /* bumped on submit (under mu) */
    int stopping;
    jobs_worker *workers;
    int n_workers;
    pthread_t ticker;
    int ticker_started;
    pthread_mutex_t notify_mu;
    uint64_t gen;
    jobs_listener *listeners;
    pthread_mutex_t recent_mu;
    recent_event recent[JOBS_RECENT];
    int recent_next;
    jobs_shared *shared; /* models loaded once and used by every job that needs them */
    nn_budget budget; /* the engine threads all lanes share (nn/backend.h) */
    int multi;           /* PostgreSQL: other processes share the queue (leases, LISTEN) */
    /* PostgreSQL: the lane threads' own connections (lane thread i uses conns[i % n_conns]), so
     * their claims, events and the kinds' store calls do not queue behind each other and the API
     * on the one connection of s. SQLite: none, every thread uses s. */
    store *conns[JOBS_WORKER_CONNS];
    int n_conns;
    pthread_t keeper, listener;
    int keeper_started, listener_started;
};

struct job_ctx {
    jobs *j;
    jobs_worker *w;
    const job *jb;
};

static const char *const LANE_NAMES[JOBS_LANE_COUNT] = {"train", "convert", "cpu"};

const char *jobs_lane_name(jobs_lane lane) { return LANE_NAMES[lane]; }

static int lane_find(const char *name)
{
    for (int i = 0; i < JOBS_LANE_COUNT; i++)
        if (!strcmp(name, LANE_NAMES[i])) return i;
    return -1;
}

void jobs_config_defaults(jobs_config *c)
{
    memset(c, 0, sizeof *c);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->lane_slots[JOBS_LANE_TRAIN] = 1;
    c->lane_slots[JOBS_LANE_CONVERT] = 2;
    c->lane_slots[JOBS_LANE_CPU] = cores > 0 ? (int)cores : 1;
    c->keepalive_ms = 15000;
    c->lease_ms = 30000;
    char host[48] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(c->worker_name, sizeof c->worker_name, "%.47s:%ld", host, (long)getpid());
}

static void env_int(const char *name, int *v, int min, int max)
{
    const char *s = getenv(name);
    if (s && *s && atoi(s) >= min && atoi(s) <= max) *v = atoi(s);
}

void jobs_config_from_env(jobs_config *c)
{
    env_int("VCS_LANE_TRAIN", &c->lane_slots[JOBS_LANE_TRAIN], 1, 64);
    env_int("VCS_LANE_CONVERT", &c->lane_slots[JOBS_LANE_CONVERT], 1, 64);
    env_int("VCS_LANE_CPU", &c->lane_slots[JOBS_LANE_CPU], 1, 256);
    env_int("VCS_JOBS_TEST_KINDS", &c->test_kinds, 0, 1);
    env_int("VCS_SSE_KEEPALIVE_MS", &c->keepalive_ms, 50, 3600000);
    env_int("VCS_LEASE_MS", &c->lease_ms, 300, 3600000);
    const char *name = getenv("VCS_WORKER_NAME");
    if (name && *name) snprintf(c->worker_name, sizeof c->worker_name, "%s", name);
}

const jobs_config *jobs_get_config(const jobs *j) { return &j->cfg; }
store *job_store(job_ctx *c) { return c->w->s; }
store *jobs_get_store(jobs *j) { return j->s; }
int jobs_count(jobs *j, const char *lane, const char *state, vc_error *err) { return jobs_db_count(j->s, lane, state, err); }
jobs_shared *job_shared_models(job_ctx *c) { return c->j->shared; }

/* ---- notification ---- */
void jobs_notify_lock(jobs *j) { pthread_mutex_lock(&j->notify_mu); }
void jobs_notify_unlock(jobs *j) { pthread_mutex_unlock(&j->notify_mu); }
uint64_t jobs_generation(jobs *j) { return __atomic_load_n(&j->gen, __ATOMIC_ACQUIRE); }

void jobs_listen(jobs *j, jobs_listener *l)
{
    l->next = j->listeners;
    j->listeners = l;
}

void jobs_unlisten(jobs *j, jobs_listener *l)
{
    for (jobs_listener **p = &j->listeners; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            l->next = NULL;
            return;
        }
}

/* Wakes the listeners of job_id (all when NULL). */
static void notify(jobs *j, const char *job_id)
{
    pthread_mutex_lock(&j->notify_mu);
    __atomic_add_fetch(&j->gen, 1, __ATOMIC_RELEASE);
    for (jobs_listener *l = j->listeners, *next; l; l = next) {
        next = l->next;
        if (!job_id || !strcmp(l->job_id, job_id)) l->wake(l->arg);
    }
    pthread_mutex_unlock(&j->notify_mu);
}

void jobs_wake_all(jobs *j) { notify(j, NULL); }
int jobs_shutting(jobs *j) { return __atomic_load_n(&j->stopping, __ATOMIC_ACQUIRE); }

int jobs_owns(jobs *j, const char *user_id, const char *job_id, vc_error *err)
{
    jobs_row r;
    int found = jobs_db_get(j->s, user_id, job_id, &r, err);
    if (found == 1) jobs_row_free(&r);
    return found;
}

/* ---- recent events (see the top of the file) ---- */
static void remember(jobs *j, const char *job_id, int64_t id, const char *name, const char *data)
{
    pthread_mutex_lock(&j->recent_mu);
    recent_event *r = &j->recent[j->recent_next];
    j->recent_next = (j->recent_next + 1) % JOBS_RECENT;
    free(r->data);
    r->data = strdup(data);
    r->id = r->data ? id : 0;
    snprintf(r->job_id, sizeof r->job_id, "%s", job_id);
    snprintf(r->name, sizeof r->name, "%s", name);
    pthread_mutex_unlock(&j->recent_mu);
}

static const recent_event *recent_find(const jobs *j, const char *job_id, int64_t id)
{
    for (int i = 0; i < JOBS_RECENT; i++)
        if (j->recent[i].id == id && !strcmp(j->recent[i].job_id, job_id)) return &j->recent[i];
    return NULL;
}

/* Events after+1, after+2 … from memory; 0 unless they run up to the newest of the job held here
 * (then the caller reads the log). Caller holds recent_mu. */
static int recent_copy(const jobs *j, const char *job_id, int64_t after, jobs_event *ev, int max)
{
    int n = 0;
    const recent_event *r;
    while (n < max && (r = recent_find(j, job_id, after + n + 1))) {
        if (!(ev[n].data = strdup(r->data))) break;
        ev[n].id = r->id;
        snprintf(ev[n].name, sizeof ev[n].name, "%s", r->name);
        n++;
    }
    int complete = n > 0 && !recent_find(j, job_id, after + n + 1);
    for (int i = 0; i < JOBS_RECENT && complete; i++)
        if (j->recent[i].id > after + n && !strcmp(j->recent[i].job_id, job_id)) complete = 0;
    if (!complete || n == max)
        while (n > 0) free(ev[--n].data); /* a gap or more than a batch: the log answers */
    return n;
}

int jobs_events_after(jobs *j, const char *job_id, int64_t after, jobs_event *ev, int max, vc_error *err)
{
    pthread_mutex_lock(&j->recent_mu);
    int n = recent_copy(j, job_id, after, ev, max);
    pthread_mutex_unlock(&j->recent_mu);
    return n > 0 ? n : jobs_db_events_after(j->s, job_id, after, ev, max, err);
}

/* Persists one event (+ row change) on s (the calling lane thread's handle, else j->s), then wakes
 * the job's streams. Takes ownership of data. */
static int emit(jobs *j, store *s, const char *job_id, const char *event, json_t *data, const jobs_update *upd,
                const char *then_event, int *applied, vc_error *err)
{
    char *text = json_dumps(data, JSON_COMPACT);
    if (!text) { json_decref(data); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    /* upd may point into data (job_emit's phase): data lives until the row is written */
    int64_t id = 0;
    int rc = jobs_db_event(s, job_id, event, text, upd, then_event, applied, &id, err);
    if (!rc && id > 0) {
        remember(j, job_id, id, event, text);
        if (then_event) remember(j, job_id, id + 1, then_event, "{}");
    }
    json_decref(data);
    free(text);
    if (!rc) notify(j, job_id);
    return rc;
}

/* ---- hooks for kinds ---- */
/* Marks the worker's job as lost: the row no longer names this process (its lease lapsed and the
 * job went back to the queue); the kind stops at its next cancellation check. */
static void lost(jobs_worker *w) { __atomic_store_n(&w->cancel, 3, __ATOMIC_RELEASE); }

int job_emit(job_ctx *c, const char *event, json_t *data, vc_error *err)
{
    json_t *p = json_object_get(data, "phase");
    json_t *pc = json_object_get(data, "percent");
    jobs_update u = {.phase = json_is_string(p) ? json_string_value(p) : NULL,
                     .progress = json_is_number(pc) ? json_number_value(pc) : -1, .only_if_state = "running",
                     .only_if_worker = c->j->cfg.worker_name};
    int applied = 0;
    int rc = emit(c->j, c->w->s, c->jb->job_id, event, data, &u, NULL, &applied, err);
    if (!rc && !applied) lost(c->w);
    return rc;
}

int job_progress(job_ctx *c, double percent, const char *phase, const char *message)
{
    vc_error err;
    json_t *d = json_pack("{s:f, s:s, s:s}", "percent", percent, "phase", phase, "message", message ? message : "");
    return job_emit(c, "progress", d, &err);
}

int job_cancelled(job_ctx *c) { return __atomic_load_n(&c->w->cancel, __ATOMIC_ACQUIRE) != 0; }

/* A lost lease counts as shutting down: the job runs again elsewhere, so progress on disk is kept. */
int job_shutting_down(job_ctx *c) { return __atomic_load_n(&c->w->cancel, __ATOMIC_ACQUIRE) >= 2; }

void job_output_id(const job *jb, int n, char out[STORE_ID_MAX])
{
    const char *hex = strchr(jb->job_id, '_');
    snprintf(out, STORE_ID_MAX, "audio_%.40s%02d", hex ? hex + 1 : jb->job_id, n);
}

/* ---- finishing ---- */
/* worker: when not NULL, only while the row still names this worker (a lapsed lease loses the job). */
static int finish(jobs *j, store *s, const char *job_id, const char *state, json_t *payload, const char *code,
                  const char *message, const char *worker)
{
    vc_error err;
    char *result = NULL;
    if (!strcmp(state, "complete")) result = json_dumps(payload, JSON_COMPACT);
    jobs_update u = {.state = state, .progress = !strcmp(state, "complete") ? 100 : -1, .phase = state,
                     .result_json = result, .error_code = code, .error_message = message, .set_finished = 1,
                     .only_if_state = worker ? "running" : NULL, .only_if_worker = worker};
    const char *event = !strcmp(state, "complete") ? "complete" : "error";
    int rc = emit(j, s, job_id, event, payload, &u, "close", NULL, &err);
    free(result);
    if (rc) fprintf(stderr, "{\"jobs\":\"finish failed\",\"job_id\":\"%s\",\"error\":\"%s\"}\n", job_id, err.message);
    return rc;
}

static json_t *error_payload(const char *job_id, vc_code code, const char *message)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "job_id", job_id, "error_code", vc_code_name(code), "message", message,
                     "user_message", vc_code_user_message(code));
}

/* The job's error is what every client sees (GET, list, SSE, replays): no server path in it. */
static int fail_job(jobs *j, store *s, const char *job_id, vc_code code, const char *message, const char *worker)
{
    char root[1200];
    if (store_path(j->s, root, sizeof root, "x")) root[0] = '\0';
    else root[strlen(root) - 1] = '\0'; /* "<root>/x" → "<root>/" */
    char *shown = strdup(message);
    if (shown) vc_scrub_paths(shown, root);
    const char *m = shown ? shown : "the job failed";
    int rc = finish(j, s, job_id, code == VC_ERR_CANCELLED ? "cancelled" : "failed", error_payload(job_id, code, m),
                    vc_code_name(code), m, worker);
    free(shown);
    return rc;
}

/* worker as in finish(). */
static void requeue(jobs *j, store *s, const char *job_id, const char *why, const char *worker)
{
    vc_error err;
    jobs_update u = {.state = "queued", .phase = "queued", .progress = 0, .only_if_state = "running",
                     .only_if_worker = worker};
    emit(j, s, job_id, "progress", json_pack("{s:s, s:f, s:s}", "phase", "queued", "percent", 0.0, "message", why), &u,
         NULL, NULL, &err);
}

static void work_dir_path(jobs *j, const char *job_id, char *out, size_t cap)
{
    store_path(j->s, out, cap, "jobs/%s", job_id);
}

/* ---- running one job ---- */
static void run_claimed(jobs_worker *w, jobs_row *r)
{
    jobs *j = w->j;
    vc_error err = {0};
    job jb = {0};
    snprintf(jb.job_id, sizeof jb.job_id, "%s", r->job_id);
    snprintf(jb.user_id, sizeof jb.user_id, "%s", r->user_id);
    snprintf(jb.kind, sizeof jb.kind, "%s", r->kind);
    jb.attempts = r->attempts;
    work_dir_path(j, r->job_id, jb.work_dir, sizeof jb.work_dir);
    jb.params = json_loads(r->params_json ? r->params_json : "{}", 0, NULL);
    job_ctx c = {j, w, &jb};
    const job_kind *k = jobs_kind_find(r->kind);
    json_t *result = NULL;
    int rc;
    vc_remove_tree(jb.work_dir, &err);
    if (!k || !jb.params) rc = vc_fail(&err, VC_ERR_INTERNAL, "job kind %s is not available", r->kind);
    else if (vc_mkdirs(jb.work_dir, &err)) rc = -1;
    else {
        emit(j, w->s, jb.job_id, "progress",
             json_pack("{s:s, s:f, s:s, s:i, s:i}", "phase", "starting", "percent", 0.0, "message", "started",
                       "queue_position", 0, "attempt", jb.attempts),
             &(jobs_update){.phase = "starting", .progress = 0, .only_if_state = "running",
                            .only_if_worker = j->cfg.worker_name},
             NULL, NULL, &err);
        nn_ctx *engine = nn_ctx_current(); /* this lane thread's engine context */
        nn_budget_join(&j->budget, engine);
        rc = k->run(&jb, &c, &result, &err);
        nn_budget_leave(&j->budget, engine);
    }
    int cancel = __atomic_load_n(&w->cancel, __ATOMIC_ACQUIRE);
    vc_error rm;
    if (cancel != 3) vc_remove_tree(jb.work_dir, &rm); /* lost: the folder may be the new owner's now */
    const char *me = j->cfg.worker_name;
    if (cancel == 3) {
        json_decref(result); /* the job is another worker's now: write nothing */
        fprintf(stderr, "{\"jobs\":\"lease lost\",\"job_id\":\"%s\"}\n", jb.job_id);
    } else if (cancel == 2) {
        json_decref(result);
        requeue(j, w->s, jb.job_id, "the server is shutting down; the job runs again after restart", me);
    } else if (cancel == 1) {
        json_decref(result);
        fail_job(j, w->s, jb.job_id, VC_ERR_CANCELLED, "cancelled by request", me);
    } else if (rc) {
        json_decref(result);
        fail_job(j, w->s, jb.job_id, err.code ? err.code : VC_ERR_INTERNAL, err.message, me);
    } else {
        if (!result) result = json_object();
        json_object_set_new(result, "job_id", json_string(jb.job_id));
        finish(j, w->s, jb.job_id, "complete", result, NULL, NULL, me);
    }
    json_decref(jb.params);
}

static void *worker_main(void *arg)
{
    jobs_worker *w = arg;
    jobs *j = w->j;
    pthread_mutex_lock(&j->mu);
    while (!j->stopping) {
        uint64_t seen = j->wake_seq;
        pthread_mutex_unlock(&j->mu);
        jobs_row r;
        vc_error err;
        int got = jobs_db_claim(w->s, LANE_NAMES[w->lane], j->cfg.worker_name, j->cfg.lease_ms, &r, &err);
        pthread_mutex_lock(&j->mu);
        if (got == 1) {
            snprintf(w->running_id, sizeof w->running_id, "%s", r.job_id);
            __atomic_store_n(&w->cancel, j->stopping ? 2 : 0, __ATOMIC_RELEASE);
            pthread_mutex_unlock(&j->mu);
            run_claimed(w, &r);
            jobs_row_free(&r);
            pthread_mutex_lock(&j->mu);
            w->running_id[0] = '\0';
            continue;
        }
        if (got < 0) fprintf(stderr, "{\"jobs\":\"claim failed\",\"error\":\"%s\"}\n", err.message);
        if (j->wake_seq != seen) continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static void *ticker_main(void *arg)
{
    jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)j->cfg.keepalive_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) == ETIMEDOUT && !j->stopping) {
            pthread_mutex_unlock(&j->mu);
            jobs_wake_all(j);
            pthread_mutex_lock(&j->mu);
        }
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ---- recovery ---- */
static int recover(jobs *j, vc_error *err)
{
    char (*ids)[STORE_ID_MAX];
    int n;
    /* PostgreSQL: only the jobs this worker name held (its previous life: names are unique and,
     * when given, stable across restarts); other processes' jobs come back when their lease lapses */
    const char *me = j->multi ? j->cfg.worker_name : NULL;
    if (me ? jobs_db_running_of(j->s, me, &ids, &n, err) : jobs_db_ids_in_state(j->s, "running", &ids, &n, err))
        return -1;
    for (int i = 0; i < n; i++) {
        jobs_row r;
        if (jobs_db_get(j->s, NULL, ids[i], &r, err) != 1) continue;
        if (r.attempts >= JOBS_MAX_ATTEMPTS) {
            char msg[128];
            snprintf(msg, sizeof msg, "the job was interrupted %d times and is not retried", r.attempts);
            fail_job(j, j->s, r.job_id, VC_ERR_INTERNAL, msg, me);
        } else {
            requeue(j, j->s, r.job_id, "the server restarted while the job ran; it runs again", me);
        }
        jobs_row_free(&r);
    }
    free(ids);
    if (me) return 0; /* the jobs/ folder is shared: each run clears its own scratch folder */
    /* Scratch folders of the dead process: nothing runs yet, so all of them are stale. */
    char dir[1200];
    store_path(j->s, dir, sizeof dir, "jobs");
    return vc_remove_tree(dir, err);
}

/* ---- scale-out (PostgreSQL): leases, cross-process cancel, LISTEN ---- */

/* Jobs whose lease lapsed go back to the queue (or fail after JOBS_MAX_ATTEMPTS claims); each
 * change applies only if the lease is still lapsed, so a late heartbeat wins the race. */
static void reap_lapsed(jobs *j)
{
    char (*ids)[STORE_ID_MAX];
    int n;
    vc_error err;
    int64_t now = jobs_now_ms();
    if (jobs_db_lapsed(j->s, now, &ids, &n, &err)) return;
    for (int i = 0; i < n; i++) {
        jobs_row r;
        if (jobs_db_get(j->s, NULL, ids[i], &r, &err) != 1) continue;
        int give_up = r.attempts >= JOBS_MAX_ATTEMPTS;
        char msg[160];
        if (give_up) snprintf(msg, sizeof msg, "the job's worker was lost %d times; it is not retried", r.attempts);
        else snprintf(msg, sizeof msg, "the job's worker (%.64s) stopped answering; the job runs again", r.worker);
        jobs_update u = {.state = give_up ? "failed" : "queued", .phase = give_up ? "failed" : "queued",
                         .progress = give_up ? -1 : 0, .only_if_state = "running", .only_if_lapsed_before_ms = now,
                         .error_code = give_up ? vc_code_name(VC_ERR_INTERNAL) : NULL,
                         .error_message = give_up ? msg : NULL, .set_finished = give_up};
        json_t *data = give_up ? error_payload(r.job_id, VC_ERR_INTERNAL, msg)
                               : json_pack("{s:s, s:f, s:s}", "phase", "queued", "percent", 0.0, "message", msg);
        emit(j, j->s, r.job_id, give_up ? "error" : "progress", data, &u, give_up ? "close" : NULL, NULL, &err);
        jobs_row_free(&r);
    }
    free(ids);
}

/* Cancel requests written by any process, for the jobs this process runs. */
static void poll_cancels(jobs *j)
{
    char (*ids)[STORE_ID_MAX];
    int n;
    vc_error err;
    if (jobs_db_cancel_requested(j->s, j->cfg.worker_name, &ids, &n, &err)) return;
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < j->n_workers; k++)
            if (!strcmp(j->workers[k].running_id, ids[i]) && !__atomic_load_n(&j->workers[k].cancel, __ATOMIC_ACQUIRE))
                __atomic_store_n(&j->workers[k].cancel, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&j->mu);
    free(ids);
}

#define KEEPER_TICK_MS 250

static void *keeper_main(void *arg)
{
    jobs *j = arg;
    int64_t next_beat = 0, next_reap = 0;
    pthread_mutex_lock(&j->mu);
    while (!j->stopping) {
        pthread_mutex_unlock(&j->mu);
        int64_t now = jobs_now_ms();
        vc_error err;
        if (j->n_workers) {
            poll_cancels(j);
            if (now >= next_beat) {
                if (jobs_db_heartbeat(j->s, j->cfg.worker_name, now + j->cfg.lease_ms, &err))
                    fprintf(stderr, "{\"jobs\":\"heartbeat failed\",\"error\":\"%s\"}\n", err.message);
                next_beat = now + j->cfg.lease_ms / 3;
            }
        }
        if (now >= next_reap) {
            reap_lapsed(j);
            next_reap = now + 1000;
        }
        pthread_mutex_lock(&j->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)KEEPER_TICK_MS * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (!j->stopping) pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* 1 when an SSE stream of this process follows job_id. */
static int has_listener(jobs *j, const char *job_id)
{
    pthread_mutex_lock(&j->notify_mu);
    int found = 0;
    for (jobs_listener *l = j->listeners; l && !found; l = l->next) found = !strcmp(l->job_id, job_id);
    pthread_mutex_unlock(&j->notify_mu);
    return found;
}

static void forget_recent(jobs *j, const char *job_id)
{
    pthread_mutex_lock(&j->recent_mu);
    for (int i = 0; i < JOBS_RECENT; i++)
        if (j->recent[i].id && !strcmp(j->recent[i].job_id, job_id)) j->recent[i].id = 0;
    pthread_mutex_unlock(&j->recent_mu);
}

/* Copies the job's events newer than what memory holds (at most the newest 16 when it holds
 * none) from the log into the recent window. */
static void fill_recent(jobs *j, const char *job_id)
{
    int64_t have = 0;
    pthread_mutex_lock(&j->recent_mu);
    for (int i = 0; i < JOBS_RECENT; i++)
        if (j->recent[i].id > have && !strcmp(j->recent[i].job_id, job_id)) have = j->recent[i].id;
    pthread_mutex_unlock(&j->recent_mu);
    if (!have) {
        have = jobs_db_last_event_id(j->s, job_id) - 16;
        if (have < 0) have = 0;
    }
    jobs_event ev[32];
    vc_error err;
    for (int round = 0;; round++) {
        int n = jobs_db_events_after(j->s, job_id, have, ev, 32, &err);
        if (n < 0 || (n == 32 && round == 3)) { /* unreadable, or far behind: never keep a stale tail */
            for (int i = 0; i < n; i++) free(ev[i].data);
            forget_recent(j, job_id);
            return;
        }
        for (int i = 0; i < n; i++) {
            remember(j, job_id, ev[i].id, ev[i].name, ev[i].data);
            have = ev[i].id;
            free(ev[i].data);
        }
        if (n < 32) return;
    }
}

/* Another process wrote an event of job <payload>: wake its streams, and idle workers (it may
 * be a new job). After a broken connection everything is woken: something may have been missed. */
static void *listener_main(void *arg)
{
    jobs *j = arg;
    db_listener *l = NULL;
    vc_error err;
    while (!jobs_shutting(j)) {
        if (!l && db_listen_open(&l, store_url(j->s), JOBS_NOTIFY_CHANNEL, &err)) {
            l = NULL;
            struct timespec ts = {0, 500000000};
            nanosleep(&ts, NULL);
            jobs_wake_all(j);
            continue;
        }
        char payload[128] = "";
        int got = db_listen_wait(l, 250, payload, sizeof payload);
        if (got == 0) continue;
        char *state = strchr(payload, ' ');
        if (state) *state++ = '\0';
        if (got > 0 && store_id_valid(payload)) {
            /* memory must hold a job's newest events or none of them: a stream that got a short
             * run from memory counts itself caught up until the next wake-up. So a job someone
             * streams here is fetched, any other is forgotten (workers have no streams) */
            if (has_listener(j, payload)) fill_recent(j, payload);
            else forget_recent(j, payload);
            notify(j, payload);
            if (!state || strcmp(state, "queued")) continue; /* only new / returned work wakes workers */
        } else { /* a broken connection may have missed events: forget the window, the log answers */
            pthread_mutex_lock(&j->recent_mu);
            for (int i = 0; i < JOBS_RECENT; i++) j->recent[i].id = 0;
            pthread_mutex_unlock(&j->recent_mu);
            jobs_wake_all(j);
        }
        pthread_mutex_lock(&j->mu);
        j->wake_seq++;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    db_listen_close(l);
    return NULL;
}

/* min(threads, JOBS_WORKER_CONNS) connections for the lane threads (PostgreSQL). */
static int open_worker_conns(jobs *j, int threads, vc_error *err)
{
    int n = threads < JOBS_WORKER_CONNS ? threads : JOBS_WORKER_CONNS;
    for (; j->n_conns < n; j->n_conns++)
        if (store_open_conn(&j->conns[j->n_conns], j->s, err)) return vc_error_wrap(err, "worker connection");
    return 0;
}

int jobs_start(jobs **out, store *s, const jobs_config *cfg, int workers, vc_error *err)
{
    jobs *j = calloc(1, sizeof *j);
    if (!j) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    j->s = s;
    j->cfg = *cfg;
    nn_budget_init(&j->budget, 0);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    pthread_mutex_init(&j->notify_mu, NULL);
    pthread_mutex_init(&j->recent_mu, NULL);
    *out = j;
    j->multi = store_dialect(s) == DB_POSTGRES;
    if (!(j->shared = jobs_shared_new())) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (workers && recover(j, err)) return -1;
    int total = 0;
    for (int l = 0; l < JOBS_LANE_COUNT; l++) total += workers ? cfg->lane_slots[l] : 0;
    j->workers = calloc((size_t)(total ? total : 1), sizeof *j->workers);
    if (!j->workers) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (j->multi && open_worker_conns(j, total, err)) return -1;
    for (int l = 0; l < JOBS_LANE_COUNT && workers; l++)
        for (int i = 0; i < cfg->lane_slots[l]; i++) {
            jobs_worker *w = &j->workers[j->n_workers];
            w->s = j->n_conns ? j->conns[j->n_workers % j->n_conns] : s;
            j->n_workers++;
            w->j = j;
            w->lane = (jobs_lane)l;
            if (pthread_create(&w->thread, NULL, worker_main, w))
                return vc_fail(err, VC_ERR_INTERNAL, "cannot start a worker thread");
            w->started = 1;
        }
    if (pthread_create(&j->ticker, NULL, ticker_main, j)) return vc_fail(err, VC_ERR_INTERNAL, "cannot start ticker");
    j->ticker_started = 1;
    if (j->multi) {
        if (pthread_create(&j->keeper, NULL, keeper_main, j)) return vc_fail(err, VC_ERR_INTERNAL, "cannot start keeper");
        j->keeper_started = 1;
        if (pthread_create(&j->listener, NULL, listener_main, j))
            return vc_fail(err, VC_ERR_INTERNAL, "cannot start listener");
        j->listener_started = 1;
    }
    return 0;
}

void jobs_quiesce(jobs *j)
{
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    __atomic_store_n(&j->stopping, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < j->n_workers; i++)
        if (j->workers[i].running_id[0]) __atomic_store_n(&j->workers[i].cancel, 2, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    jobs_wake_all(j);
}

void jobs_stop(jobs *j)
{
    if (!j) return;
    jobs_quiesce(j);
    for (int i = 0; i < j->n_workers; i++)
        if (j->workers[i].started) pthread_join(j->workers[i].thread, NULL);
    if (j->ticker_started) pthread_join(j->ticker, NULL);
    if (j->keeper_started) pthread_join(j->keeper, NULL);
    if (j->listener_started) pthread_join(j->listener, NULL);
    free(j->workers);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->notify_mu);
    for (int i = 0; i < JOBS_RECENT; i++) free(j->recent[i].data);
    pthread_mutex_destroy(&j->recent_mu);
    jobs_shared_free(j->shared); /* after the workers: nothing holds a model any more */
    for (int i = 0; i < j->n_conns; i++) store_close(j->conns[i]);
    free(j);
}

/* ---- API operations ---- */
static int submit_lane(const job_kind *k, json_t *params, const jobs_config *cfg, int *lane, int *prio, vc_error *err)
{
    *lane = (int)k->lane;
    *prio = k->priority;
    if (!k->test_only) return 0;
    json_t *l = json_object_get(params, "lane"), *p = json_object_get(params, "priority");
    if (l && (!json_is_string(l) || (*lane = lane_find(json_string_value(l))) < 0))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "lane must be train, convert or cpu");
    if (p && !json_is_integer(p)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "priority must be an integer");
    if (p) *prio = (int)json_integer_value(p);
    (void)cfg;
    return 0;
}

int jobs_submit(jobs *j, const char *user_id, const char *kind, json_t *params, char out_id[STORE_ID_MAX],
                vc_error *err)
{
    const job_kind *k = jobs_kind_find(kind);
    if (!k || (k->test_only && !j->cfg.test_kinds))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "unknown job kind '%s'", kind);
    if (!json_is_object(params)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "params must be an object");
    int lane, prio;
    if (submit_lane(k, params, &j->cfg, &lane, &prio, err)) return -1;
    if (k->validate && k->validate(j->s, user_id, params, err)) return -1;
    jobs_row r = {0};
    if (store_new_id("job", r.job_id, err)) return -1;
    snprintf(r.user_id, sizeof r.user_id, "%s", user_id);
    snprintf(r.kind, sizeof r.kind, "%s", kind);
    snprintf(r.lane, sizeof r.lane, "%s", LANE_NAMES[lane]);
    snprintf(r.state, sizeof r.state, "queued");
    r.priority = prio;
    r.params_json = json_dumps(params, JSON_COMPACT);
    int rc = r.params_json ? jobs_db_insert(j->s, &r, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (!rc) {
        int pos = jobs_db_queue_position(j->s, &r, err);
        emit(j, j->s, r.job_id, "progress",
             json_pack("{s:s, s:f, s:s, s:i}", "phase", "queued", "percent", 0.0, "message", "waiting in the queue",
                       "queue_position", pos),
             NULL, NULL, NULL, err);
        snprintf(out_id, STORE_ID_MAX, "%s", r.job_id);
        pthread_mutex_lock(&j->mu);
        j->wake_seq++;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    free(r.params_json);
    return rc;
}

int jobs_cancel(jobs *j, const char *user_id, const char *job_id, vc_error *err)
{
    jobs_row r;
    int found = jobs_db_get(j->s, user_id, job_id, &r, err);
    if (found < 0) return -1;
    if (!found) return vc_fail(err, VC_ERR_JOB_NOT_FOUND, "job %s not found", job_id);
    char state[16];
    snprintf(state, sizeof state, "%s", r.state);
    jobs_row_free(&r);
    if (jobs_state_terminal(state)) return vc_fail(err, VC_ERR_CONFLICT, "job %s already finished (%s)", job_id, state);
    if (!strcmp(state, "queued")) {
        int applied = 0;
        const char *msg = "cancelled by request";
        jobs_update u = {.state = "cancelled", .phase = "cancelled", .progress = -1, .error_code = "CANCELLED",
                         .error_message = msg, .set_finished = 1, .only_if_state = "queued"};
        if (emit(j, j->s, job_id, "error", error_payload(job_id, VC_ERR_CANCELLED, msg), &u, "close", &applied, err))
            return -1;
        if (applied) return 0;
        /* it was claimed meanwhile: cancel the running job below */
    }
    /* the row carries the request to a worker in any process (polled by its keeper); a worker
     * thread of this process is told directly */
    if (jobs_db_request_cancel(j->s, job_id, err)) return -1;
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < j->n_workers; i++)
        if (!strcmp(j->workers[i].running_id, job_id)) __atomic_store_n(&j->workers[i].cancel, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static json_t *nullable_seconds(double v) { return v < 0 || !isfinite(v) ? json_null() : json_real(round(v * 10) / 10); }

/* What the job works on, for lists people read: the model's name and the file's name (looked up,
 * since the parameters hold ids), the text a quick clone speaks, how many files a training uses.
 * Fields that cannot be found are left out. */
static json_t *subject_json(jobs *j, const jobs_row *r)
{
    json_t *p = r->params_json ? json_loads(r->params_json, 0, NULL) : NULL;
    json_t *o = json_object();
    if (!p) return o;
    vc_error err;
    const char *model_id = json_string_value(json_object_get(p, "model_id"));
    const char *name = json_string_value(json_object_get(p, "model_name"));
    store_model m;
    if (name) json_object_set_new(o, "model_name", json_string(name));
    else if (model_id && store_id_valid(model_id) && store_model_get(j->s, r->user_id, model_id, &m, &err) == 0)
        json_object_set_new(o, "model_name", json_string(m.name));
    if (model_id) json_object_set_new(o, "model_id", json_string(model_id));
    const char *audio_id = json_string_value(json_object_get(p, "target_audio_id"));
    if (!audio_id) audio_id = json_string_value(json_object_get(p, "reference_audio_id"));
    if (!audio_id) audio_id = json_string_value(json_object_get(p, "training_audio_id"));
    if (!audio_id) audio_id = json_string_value(json_array_get(json_object_get(p, "training_audio_ids"), 0));
    store_audio a;
    if (audio_id) json_object_set_new(o, "audio_id", json_string(audio_id));
    if (audio_id && store_id_valid(audio_id) && store_audio_get(j->s, r->user_id, audio_id, &a, &err) == 0) {
        json_object_set_new(o, "file_name", json_string(a.filename));
        store_audio_free(&a);
    }
    if (json_is_array(json_object_get(p, "training_audio_ids")))
        json_object_set_new(o, "file_count", json_integer((json_int_t)json_array_size(json_object_get(p, "training_audio_ids"))));
    const char *pack = json_string_value(json_object_get(p, "pack"));
    if (pack) json_object_set_new(o, "pack", json_string(pack));
    const char *text = json_string_value(json_object_get(p, "text"));
    if (text) {
        char cut[84];
        snprintf(cut, sizeof cut, "%s", text);
        if (strlen(text) >= sizeof cut) { /* never cut inside a UTF-8 sequence */
            size_t n = sizeof cut - 4;
            while (n > 0 && ((unsigned char)cut[n] & 0xC0) == 0x80) n--;
            snprintf(cut + n, sizeof cut - n, "...");
        }
        json_object_set_new(o, "text", json_string(cut));
    }
    json_decref(p);
    return o;
}

/* estimated_seconds the kind wrote into the parameters at submit time (measured throughput × input), or -1. */
static double params_estimate(const jobs_row *r)
{
    json_t *p = r->params_json && strstr(r->params_json, "\"estimated_seconds\"") ? json_loads(r->params_json, 0, NULL) : NULL;
    json_t *v = json_object_get(p, "estimated_seconds");
    double est = json_is_number(v) && json_number_value(v) >= 0 ? json_number_value(v) : -1;
    json_decref(p);
    return est;
}

static json_t *row_json(jobs *j, const jobs_row *r)
{
    vc_error err;
    int pos = jobs_db_queue_position(j->s, r, &err);
    double mean = jobs_db_mean_duration(j->s, r->kind, &err), eta = -1;
    int lane = lane_find(r->lane), slots = lane >= 0 ? j->cfg.lane_slots[lane] : 1;
    double own = params_estimate(r); /* this job's own estimate (scales with its input), else the kind's mean */
    if (own >= 0 && pos > 0) eta = own + (mean >= 0 ? mean * ((pos - 1) / slots) : 0);
    else if (own >= 0 && !strcmp(r->state, "running")) eta = fmax(0, own - (jobs_now_ms() - r->started_ms) / 1000.0);
    else if (mean >= 0 && pos > 0) eta = mean * (1 + (pos - 1) / slots);
    else if (mean >= 0 && !strcmp(r->state, "running")) eta = fmax(0, mean - (jobs_now_ms() - r->started_ms) / 1000.0);
    else if (jobs_state_terminal(r->state)) eta = 0;
    double progress = r->progress, live_percent = -1;
    double live = !strcmp(r->state, "running") ? jobs_db_last_eta(j->s, r->job_id, &live_percent, &err) : -1;
    if (live >= 0) eta = live; /* the kind's own estimate, as its progress stream shows it */
    if (live >= 0 && live_percent >= 0) progress = live_percent; /* the ETA's own event: one consistent pair */
    char url[128];
    snprintf(url, sizeof url, "/api/progress/%s", r->job_id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:i, s:o, s:s, s:i, s:s}", "job_id", r->job_id, "kind",
                          r->kind, "status", r->state, "phase", r->phase, "progress", progress, "lane", r->lane,
                          "queue_position", pos < 0 ? 0 : pos, "eta_seconds", nullable_seconds(eta), "created_at",
                          r->created_at, "attempts", r->attempts, "progress_stream_url", url);
    if (r->result_json) json_object_set_new(o, "result", json_loads(r->result_json, 0, NULL));
    if (r->error_code[0])
        json_object_set_new(o, "error", json_pack("{s:s, s:s}", "error_code", r->error_code, "message", r->error_message));
    if (r->worker[0]) json_object_set_new(o, "worker", json_string(r->worker));
    if (r->finished_ms && r->started_ms)
        json_object_set_new(o, "duration_seconds", json_real((r->finished_ms - r->started_ms) / 1000.0));
    if (r->started_ms) json_object_set_new(o, "started_ms", json_integer(r->started_ms));
    if (r->finished_ms) json_object_set_new(o, "finished_ms", json_integer(r->finished_ms));
    json_object_set_new(o, "subject", subject_json(j, r));
    return o;
}

int jobs_get_json(jobs *j, const char *user_id, const char *job_id, json_t **out, vc_error *err)
{
    jobs_row r;
    int found = jobs_db_get(j->s, user_id, job_id, &r, err);
    if (found < 0) return -1;
    if (!found) return vc_fail(err, VC_ERR_JOB_NOT_FOUND, "job %s not found", job_id);
    *out = row_json(j, &r);
    jobs_row_free(&r);
    return 0;
}

typedef struct list_ctx {
    jobs *j;
    json_t *arr;
} list_ctx;

static int list_one(const jobs_row *r, void *ctx)
{
    list_ctx *c = ctx;
    json_array_append_new(c->arr, row_json(c->j, r));
    return 0;
}

int jobs_list_json(jobs *j, const char *user_id, int limit, json_t **out, vc_error *err)
{
    list_ctx c = {j, json_array()};
    if (jobs_db_list(j->s, user_id, limit, list_one, &c, err)) {
        json_decref(c.arr);
        return -1;
    }
    *out = json_pack("{s:o}", "jobs", c.arr);
    return 0;
}

json_t *jobs_lanes_json(jobs *j)
{
    vc_error err;
    json_t *o = json_object();
    for (int l = 0; l < JOBS_LANE_COUNT; l++)
        json_object_set_new(o, LANE_NAMES[l],
                            json_pack("{s:i, s:i, s:i}", "slots", j->cfg.lane_slots[l], "running",
                                      jobs_db_count(j->s, LANE_NAMES[l], "running", &err), "queued",
                                      jobs_db_count(j->s, LANE_NAMES[l], "queued", &err)));
    return o;
}
