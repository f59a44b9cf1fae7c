/* Fork-join pool (see pool.h): workers sleep on a condition variable until the generation
 * counter moves, run their range of the current task, and the last one to finish wakes the
 * caller. */
#include "nn/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct pool_worker {
    nn_pool *pool;
    int index; /* 1..threads-1; range 0 is the caller's */
    pthread_t thread;
} pool_worker;

struct nn_pool {
    int threads;
    pool_worker *workers;
    pthread_mutex_t run_mu; /* one nn_pool_for at a time */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    int pending, stopping;
    nn_pool_fn fn;
    void *ctx;
    int n;
};

static void range_of(int n, int parts, int i, int *begin, int *end)
{
    int base = n / parts, extra = n % parts;
    *begin = i * base + (i < extra ? i : extra);
    *end = *begin + base + (i < extra);
}

static void *worker_main(void *arg)
{
    pool_worker *w = arg;
    nn_pool *p = w->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stopping) break;
        seen = p->generation;
        nn_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        int b, e;
        range_of(p->n, p->threads, w->index, &b, &e);
        pthread_mutex_unlock(&p->mu);
        if (e > b) fn(ctx, b, e);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int nn_pool_create(nn_pool **out, int threads, vc_error *err)
{
    *out = NULL;
    nn_pool *p = calloc(1, sizeof *p);
    if (!p) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->run_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->workers = calloc((size_t)p->threads, sizeof *p->workers);
    if (!p->workers) { nn_pool_free(p); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    for (int i = 1; i < p->threads; i++) {
        p->workers[i] = (pool_worker){p, i, 0};
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
            p->threads = i; /* the ones started are joined by nn_pool_free */
            nn_pool_free(p);
            return vc_fail(err, VC_ERR_INTERNAL, "cannot start a thread for the engine's pool");
        }
    }
    *out = p;
    return 0;
}

void nn_pool_free(nn_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; p->workers && i < p->threads; i++) pthread_join(p->workers[i].thread, NULL);
    pthread_mutex_destroy(&p->run_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

int nn_pool_threads(const nn_pool *p) { return p ? p->threads : 1; }

void nn_pool_for(nn_pool *p, int n, int min_per_thread, nn_pool_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (!p || p->threads == 1 || n < 2 * (min_per_thread > 0 ? min_per_thread : 1)) { fn(ctx, 0, n); return; }
    pthread_mutex_lock(&p->run_mu);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    int b, e;
    range_of(n, p->threads, 0, &b, &e);
    fn(ctx, b, e);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_mu);
}

int nn_pool_default_threads(void)
{
    const char *env = getenv("VCS_THREADS");
    int t = env ? atoi(env) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    return t < 1 ? 1 : t > 64 ? 64 : t;
}
