/*
 * Who is asking. Open mode — bound to loopback and no API key exists — is the single user
 * "local". Otherwise every user route needs `Authorization: Bearer <key>`; a key maps to its user
 * and every store lookup is scoped to that user (another user's id is simply not found).
 */
#include <string.h>
#include <time.h>

#include "server/server.h"

#define SERVER_LOCAL_USER "local"
#define AUTH_CACHE_MS 1000

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Number of active keys, re-read from the store at most once per AUTH_CACHE_MS. */
static int key_count(server_app *app, vc_error *err)
{
    int64_t now = now_ms();
    if (now - __atomic_load_n(&app->auth_checked_ms, __ATOMIC_ACQUIRE) < AUTH_CACHE_MS)
        return __atomic_load_n(&app->auth_key_count, __ATOMIC_RELAXED);
    int n = store_key_count(app->store, err);
    if (n < 0) return -1;
    __atomic_store_n(&app->auth_key_count, n, __ATOMIC_RELAXED);
    __atomic_store_n(&app->auth_checked_ms, now, __ATOMIC_RELEASE);
    return n;
}

int server_auth_open_mode(server_app *app)
{
    return app->loopback && key_count(app, NULL) == 0;
}

int server_auth_try(server_request *r)
{
    vc_error saved = r->err;
    int failed = r->failed;
    char user[STORE_ID_MAX];
    memcpy(user, r->user_id, sizeof user);
    int ok = server_auth_resolve(r) == 0;
    r->err = saved;
    r->failed = failed;
    if (!ok) memcpy(r->user_id, user, sizeof user);
    return ok;
}

int server_auth_resolve(server_request *r)
{
    const char *h = server_header(r, "Authorization");
    vc_error err;
    if (h && strncmp(h, "Bearer ", 7) == 0) {
        int found = store_key_lookup(r->app->store, h + 7, r->user_id, &err);
        if (found < 0) return server_fail(r, err.code, "%s", err.message);
        if (!found) return server_fail(r, VC_ERR_UNAUTHORIZED, "unknown or revoked API key");
        return 0;
    }
    int keys = key_count(r->app, &err);
    if (keys < 0) return server_fail(r, err.code, "%s", err.message);
    if (r->app->loopback && keys == 0) {
        memcpy(r->user_id, SERVER_LOCAL_USER, sizeof SERVER_LOCAL_USER);
        return 0;
    }
    return server_fail(r, VC_ERR_UNAUTHORIZED,
                       "an API key is required (Authorization: Bearer <key>; create one with `voiceclone keys create`)");
}
