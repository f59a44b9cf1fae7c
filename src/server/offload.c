/*
 * Heavy handlers off the HTTP threads (see server.h). libmicrohttpd runs handlers on its small
 * thread pool (2 threads by default): a model import or a long decode there stalls every other
 * request, /api/health included. A `heavy` route's handler runs on a thread of its own while its
 * connection is suspended; the reply it queues is kept in the request and handed to MHD when the
 * connection resumes. At most SERVER_OFFLOAD_MAX run at once; more get RATE_LIMITED with
 * Retry-After (the HTTP threads are never the overflow).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "server/server.h"

#define SERVER_OFFLOAD_MAX 8
#define SERVER_OFFLOAD_RETRY_SECONDS 5

typedef struct offload_job {
    server_request *r;
    void (*run)(server_request *r);
} offload_job;

static void *offload_main(void *arg)
{
    offload_job job = *(offload_job *)arg;
    free(arg);
    server_app *app = job.r->app;
    struct MHD_Connection *conn = job.r->conn;
    job.run(job.r);
    /* r may be freed as soon as the connection resumes: nothing of it is touched after */
    MHD_resume_connection(conn);
    __atomic_sub_fetch(&app->offloaded, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

int server_offload(server_request *r, void (*run)(server_request *r))
{
    server_app *app = r->app;
    if (__atomic_add_fetch(&app->offloaded, 1, __ATOMIC_SEQ_CST) > SERVER_OFFLOAD_MAX) {
        __atomic_sub_fetch(&app->offloaded, 1, __ATOMIC_SEQ_CST);
        r->retry_after = SERVER_OFFLOAD_RETRY_SECONDS;
        server_fail(r, VC_ERR_RATE_LIMITED, "the studio is already importing, decoding or analysing %d files; try again "
                    "in a few seconds", SERVER_OFFLOAD_MAX);
        return 0;
    }
    offload_job *job = malloc(sizeof *job);
    pthread_attr_t attr;
    pthread_t t;
    int ok = job && pthread_attr_init(&attr) == 0;
    if (ok) {
        *job = (offload_job){r, run};
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r->deferred = 1;
        MHD_suspend_connection(r->conn);
        ok = pthread_create(&t, &attr, offload_main, job) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) { /* no thread: run it here after all */
            r->deferred = 0;
            MHD_resume_connection(r->conn);
        }
    }
    if (!ok) {
        free(job);
        __atomic_sub_fetch(&app->offloaded, 1, __ATOMIC_SEQ_CST);
        run(r);
    }
    return 1;
}

void server_offload_drain(server_app *app)
{
    while (__atomic_load_n(&app->offloaded, __ATOMIC_SEQ_CST) > 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
