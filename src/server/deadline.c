/*
 * Deadlines for slow clients (slow-loris). libmicrohttpd only has an idle timeout, which any
 * client resets by sending one byte now and then, so a request whose head or body trickles in
 * would hold its connection (and, with enough of them, every connection) forever. Here every
 * connection is watched from the moment it is accepted until it closes:
 *
 *   waiting for a head  from the accept, or the end of the previous request (keep-alive), until
 *                       the request's headers are all in: at most header_timeout_seconds;
 *   receiving a body    after body_grace_seconds, the body must have averaged at least
 *                       min_body_bytes_per_second (checked here even while no byte arrives; the
 *                       access handler checks it too when bytes do arrive, guard.c);
 *   handling            (a handler, an offloaded job, a progress stream, sending the answer) is
 *                       not limited here.
 *
 * A thread looks at the connections a few times a second and shuts down the socket of one past its
 * deadline; MHD then sees the end of the stream and closes the connection itself. The socket is
 * never closed here, and the entry is removed (under the same lock) in MHD's "closed"
 * notification, which comes before MHD closes the descriptor, so a shutdown never hits a reused one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "server/server.h"

typedef struct watch {
    int fd;
    int phase;            /* SERVER_CONN_HEAD, _BODY, _HANDLING */
    int64_t since_ms;     /* start of the phase */
    uint64_t body_bytes;  /* in the BODY phase */
    int cut;              /* shut down once; MHD's close follows */
    struct watch *prev, *next;
} watch;

struct server_deadlines {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    watch list;           /* sentinel of a circular list */
    int header_ms, min_rate, grace_ms;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void cut(watch *w, const char *why, double seconds)
{
    w->cut = 1;
    shutdown(w->fd, SHUT_RDWR);
    fprintf(stderr, "{\"event\":\"slow_client_cut\",\"reason\":\"%s\",\"seconds\":%.1f}\n", why, seconds);
}

/* One pass over the connections: the ones past their deadline are shut down. */
static void sweep(server_deadlines *d)
{
    int64_t now = now_ms();
    for (watch *w = d->list.next; w != &d->list; w = w->next) {
        if (w->cut) continue;
        int64_t age = now - w->since_ms;
        if (w->phase == SERVER_CONN_HEAD && d->header_ms > 0 && age > d->header_ms)
            cut(w, "request head not complete in time", age / 1000.0);
        else if (w->phase == SERVER_CONN_BODY && d->min_rate > 0 && age > d->grace_ms &&
                 (double)w->body_bytes < (double)age / 1000.0 * d->min_rate)
            cut(w, "request body below the minimum rate", age / 1000.0);
    }
}

static void *run(void *arg)
{
    server_deadlines *d = arg;
    int period = d->header_ms > 0 && d->header_ms / 4 < 1000 ? d->header_ms / 4 : 1000;
    if (d->grace_ms / 4 < period) period = d->grace_ms / 4;
    if (period < 50) period = 50;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)period * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&d->wake, &d->mu, &until);
        if (!d->stop) sweep(d);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int server_deadlines_start(server_app *app, vc_error *err)
{
    const server_config *c = &app->config;
    if (c->header_timeout_seconds <= 0 && c->min_body_bytes_per_second <= 0) return 0;
    server_deadlines *d = calloc(1, sizeof *d);
    if (!d) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->wake, NULL);
    d->list.next = d->list.prev = &d->list;
    d->header_ms = c->header_timeout_seconds * 1000;
    d->min_rate = c->min_body_bytes_per_second;
    d->grace_ms = (c->body_grace_seconds > 0 ? c->body_grace_seconds : 30) * 1000;
    if (pthread_create(&d->thread, NULL, run, d)) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return vc_fail(err, VC_ERR_INTERNAL, "cannot start the slow-client watchdog thread");
    }
    app->deadlines = d;
    return 0;
}

/* After MHD_stop_daemon: every connection is closed and its entry gone. */
void server_deadlines_stop(server_app *app)
{
    server_deadlines *d = app->deadlines;
    if (!d) return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    for (watch *w = d->list.next, *next; w != &d->list; w = next) { /* none expected */
        next = w->next;
        free(w);
    }
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->mu);
    free(d);
    app->deadlines = NULL;
}

void server_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode code)
{
    server_app *app = cls;
    server_deadlines *d = app->deadlines;
    if (!d) return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        watch *w = info ? calloc(1, sizeof *w) : NULL;
        if (!w) return; /* unwatched: only MHD's idle timeout applies */
        w->fd = info->connect_fd;
        w->phase = SERVER_CONN_HEAD;
        w->since_ms = now_ms();
        pthread_mutex_lock(&d->mu);
        w->next = d->list.next;
        w->prev = &d->list;
        d->list.next->prev = w;
        d->list.next = w;
        pthread_mutex_unlock(&d->mu);
        *socket_context = w;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        watch *w = *socket_context;
        pthread_mutex_lock(&d->mu);
        w->prev->next = w->next;
        w->next->prev = w->prev;
        pthread_mutex_unlock(&d->mu);
        free(w);
        *socket_context = NULL;
    }
}

void server_deadlines_phase(server_app *app, struct MHD_Connection *conn, int phase, size_t body_bytes)
{
    server_deadlines *d = app->deadlines;
    if (!d) return;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    watch *w = info ? info->socket_context : NULL;
    if (!w) return;
    pthread_mutex_lock(&d->mu);
    if (w->phase != phase) {
        w->phase = phase;
        w->since_ms = now_ms();
        w->body_bytes = 0;
    }
    w->body_bytes += body_bytes;
    pthread_mutex_unlock(&d->mu);
}
