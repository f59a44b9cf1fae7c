/*
 * Users and API keys. A key's secret is shown once at creation and only its sha256 is stored,
 * so a copied database does not leak working keys.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

static int user_ensure_unlocked(store *s, const char *user_id, vc_error *err)
{
    db_stmt *st;
    if (store_prepare(s, "INSERT INTO users(user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING", &st, err)) return -1;
    db_bind_text(st, 1, user_id);
    return store_step_done(s, st, err);
}

int store_user_ensure(store *s, const char *user_id, vc_error *err)
{
    if (!store_id_valid(user_id)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "user name must be 1-64 of [A-Za-z0-9_-]");
    store_lock(s);
    int rc = user_ensure_unlocked(s, user_id, err);
    store_unlock(s);
    return rc;
}

int store_key_create(store *s, const char *user_id, char secret[80], char key_id[STORE_ID_MAX], vc_error *err)
{
    char raw[STORE_ID_MAX], hash[65];
    if (store_user_ensure(s, user_id, err) || store_new_id("key", key_id, err) || store_new_id("vcs", raw, err))
        return -1;
    char more[STORE_ID_MAX];
    if (store_new_id("x", more, err)) return -1;
    snprintf(secret, 80, "%s%s", raw, more + 2); /* vcs_ + 48 hex digits = 192 random bits */
    store_sha256_hex(secret, hash);
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "INSERT INTO api_keys(key_id, user_id, key_sha256) VALUES (?,?,?)", &st, err);
    if (!rc) {
        db_bind_text(st, 1, key_id);
        db_bind_text(st, 2, user_id);
        db_bind_text(st, 3, hash);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}

int store_key_lookup(store *s, const char *secret, char user_id[STORE_ID_MAX], vc_error *err)
{
    char hash[65];
    store_sha256_hex(secret, hash);
    static const char SQL[] = "SELECT user_id FROM api_keys WHERE key_sha256=? AND revoked_at IS NULL";
    store_lock(s);
    db_stmt *st;
    int found = -1;
    if (!store_cached(s, SQL, &st, err)) {
        db_bind_text(st, 1, hash);
        found = db_step(st, err);
        if (found == 1) store_col_text(st, 0, user_id, STORE_ID_MAX);
        store_cached_done(st);
    }
    store_unlock(s);
    return found;
}

int store_key_count(store *s, vc_error *err)
{
    static const char SQL[] = "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL";
    store_lock(s);
    db_stmt *st;
    int n = -1;
    if (!store_cached(s, SQL, &st, err)) {
        n = db_step(st, err) == 1 ? db_col_int(st, 0) : -1;
        store_cached_done(st);
    }
    store_unlock(s);
    return n;
}

int store_key_revoke(store *s, const char *key_id, vc_error *err)
{
    store_lock(s);
    db_stmt *st;
    char now[32];
    store_now_iso(now);
    int rc = store_prepare(s, "UPDATE api_keys SET revoked_at=? WHERE key_id=? AND revoked_at IS NULL", &st, err);
    if (!rc) {
        db_bind_text(st, 1, now);
        db_bind_text(st, 2, key_id);
        rc = db_step(st, err) < 0 ? -1 : 0;
        if (!rc && db_changes(st) == 0) rc = vc_fail(err, VC_ERR_NOT_FOUND, "no active key %s", key_id);
        db_finalize(st);
    }
    store_unlock(s);
    return rc;
}
