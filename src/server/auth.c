/*
 * Who is asking. Open mode — bound to loopback and no API key exists — is the single user
 * "local". Otherwise every user route needs `Authorization: Bearer <key>`; a key maps to its user
 * and every store lookup is scoped to that user (another user's id is simply not found).
 */
#include <string.h>

#include "server/server.h"

#define SERVER_LOCAL_USER "local"

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
    int keys = store_key_count(r->app->store, &err);
    if (keys < 0) return server_fail(r, err.code, "%s", err.message);
    if (r->app->loopback && keys == 0) {
        memcpy(r->user_id, SERVER_LOCAL_USER, sizeof SERVER_LOCAL_USER);
        return 0;
    }
    return server_fail(r, VC_ERR_UNAUTHORIZED,
                       "an API key is required (Authorization: Bearer <key>; create one with `voiceclone keys create`)");
}
