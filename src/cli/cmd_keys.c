/*
 * voiceclone keys create [--user NAME] [--data DIR] | list [--data DIR] | revoke KEY_ID [--data DIR]
 * API keys for the server's Bearer auth. `create` prints the secret once; only its sha256 is stored.
 * Once any key exists, the server requires a key even on loopback. With VCS_DATABASE_URL set
 * (postgres://…) the keys live in that database, as the server's do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

static int list_keys(store *s)
{
    store_lock(s);
    db_stmt *st;
    vc_error err;
    int rc = db_prepare(store_db(s),
                        "SELECT key_id, user_id, created_at, coalesce(revoked_at,'') FROM api_keys ORDER BY created_at",
                        &st, &err);
    if (rc == 0) {
        printf("%-32s %-20s %-22s %s\n", "KEY_ID", "USER", "CREATED", "REVOKED");
        while ((rc = db_step(st, &err)) == 1)
            printf("%-32s %-20s %-22s %s\n", db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2),
                   db_col_text(st, 3));
        db_finalize(st);
    }
    store_unlock(s);
    if (rc < 0) fprintf(stderr, "voiceclone keys: %s\n", err.message);
    return rc < 0 ? 1 : 0;
}

int cmd_keys(int argc, char **argv)
{
    const char *data = "./data", *user = "local", *sub = argc > 1 ? argv[1] : "", *target = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--user") && i + 1 < argc) user = argv[++i];
        else target = argv[i];
    }
    if (strcmp(sub, "create") && strcmp(sub, "list") && !(strcmp(sub, "revoke") == 0 && target)) {
        fprintf(stderr, "usage: voiceclone keys create [--user NAME] [--data DIR]\n"
                        "       voiceclone keys list [--data DIR]\n"
                        "       voiceclone keys revoke KEY_ID [--data DIR]\n");
        return 2;
    }
    store *s;
    vc_error err;
    if (store_open_url(&s, data, getenv("VCS_DATABASE_URL"), &err)) {
        fprintf(stderr, "voiceclone keys: %s\n", err.message);
        return 1;
    }
    int rc = 0;
    if (!strcmp(sub, "list")) {
        rc = list_keys(s);
    } else if (!strcmp(sub, "revoke")) {
        rc = store_key_revoke(s, target, &err) ? 1 : 0;
        if (rc) fprintf(stderr, "voiceclone keys: %s\n", err.message);
    } else {
        char secret[80], key_id[STORE_ID_MAX];
        rc = store_key_create(s, user, secret, key_id, &err) ? 1 : 0;
        if (rc) fprintf(stderr, "voiceclone keys: %s\n", err.message);
        else {
            printf("%s\n", secret);
            fprintf(stderr, "created %s for user '%s'; use: Authorization: Bearer <key> (shown only once)\n", key_id,
                    user);
        }
    }
    store_close(s);
    return rc;
}
