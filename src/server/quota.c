/*
 * Per-user quotas (see server.h): what one user may hold or queue at a time, so one client cannot
 * fill the disk or the queues for everyone. Over a limit: RATE_LIMITED (429) with Retry-After and
 * a message that says what to do. Limits come from server_config (VCS_QUOTA_* variables).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"
#include "server/server.h"

#define MB (1024.0 * 1024.0)

static int limited(server_request *r, int retry_after, const char *what)
{
    r->retry_after = retry_after;
    return server_fail(r, VC_ERR_RATE_LIMITED, "%s", what);
}

/* Stored recordings and voices together, plus what is about to be stored, against VCS_QUOTA_STORAGE_MB. */
static int storage_left(server_request *r, const store_usage *u, int64_t new_bytes)
{
    int limit = r->app->config.quota_storage_mb;
    double held = (double)(u->audio_bytes + u->model_bytes);
    if (limit <= 0 || held + (double)new_bytes <= limit * MB) return 0;
    char msg[400];
    snprintf(msg, sizeof msg, "your recordings (%.1f MB) and voices (%.1f MB) use %.1f MB of your %d MB, and this "
             "needs %.1f MB more; delete recordings (DELETE /api/audio/{id}) or voices (DELETE /api/models/{id}) "
             "to make room", (double)u->audio_bytes / MB, (double)u->model_bytes / MB, held / MB, limit,
             (double)new_bytes / MB);
    return limited(r, 3600, msg);
}

int server_quota_upload(server_request *r, int64_t declared_bytes)
{
    const server_config *c = &r->app->config;
    store_usage u;
    vc_error err;
    if (store_user_usage(r->app->store, r->user_id, &u, &err)) return server_fail(r, err.code, "%s", err.message);
    char msg[300];
    if (c->quota_uploads > 0 && u.uploads >= c->quota_uploads) {
        snprintf(msg, sizeof msg, "%" PRId64 " uploads are already in progress (the limit is %d); finish or delete one "
                 "(DELETE /api/uploads/{id}) and try again", u.uploads, c->quota_uploads);
        return limited(r, 60, msg);
    }
    if (c->quota_upload_mb > 0 && (double)(u.upload_bytes + declared_bytes) > c->quota_upload_mb * MB) {
        snprintf(msg, sizeof msg, "uploads in progress would hold %.0f MB (the limit is %d MB); finish the others first",
                 (double)(u.upload_bytes + declared_bytes) / MB, c->quota_upload_mb);
        return limited(r, 60, msg);
    }
    return storage_left(r, &u, declared_bytes);
}

int server_quota_storage(server_request *r, int64_t new_bytes)
{
    store_usage u;
    vc_error err;
    if (store_user_usage(r->app->store, r->user_id, &u, &err)) return server_fail(r, err.code, "%s", err.message);
    return storage_left(r, &u, new_bytes);
}

int server_quota_jobs(server_request *r)
{
    int limit = r->app->config.quota_active_jobs;
    if (limit <= 0 || !r->app->jobs) return 0;
    json_t *list = NULL;
    vc_error err;
    if (jobs_list_json(r->app->jobs, r->user_id, 1000, &list, &err)) return server_fail(r, err.code, "%s", err.message);
    int active = 0;
    size_t i;
    json_t *jb;
    json_array_foreach(json_object_get(list, "jobs"), i, jb) {
        const char *st = json_string_value(json_object_get(jb, "status"));
        active += st && (!strcmp(st, "queued") || !strcmp(st, "running"));
    }
    json_decref(list);
    if (active < limit) return 0;
    char msg[200];
    snprintf(msg, sizeof msg, "%d of your jobs are queued or running (the limit is %d); wait for one to finish or cancel one",
             active, limit);
    return limited(r, 30, msg);
}
