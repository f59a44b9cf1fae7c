/*
 * voiceclone serve [--host H] [--port P] [--data DIR] [--database URL] [--web DIR] [--no-workers]
 * Starts the HTTP server and blocks until SIGINT/SIGTERM, then stops accepting, lets MHD finish
 * its connections and closes the store. Signals are blocked before MHD starts its threads so
 * only this thread receives them (sigwait), which keeps shutdown ordered.
 * --database postgres://… (or VCS_DATABASE_URL) keeps the metadata and the job queue in PostgreSQL,
 * shared with other API nodes and `voiceclone worker` processes; --no-workers makes this an
 * API-only node (docs/OPERATIONS.md).
 * Environment: VCS_UPLOAD_EXPIRY_SECONDS (tus expiry, default 86400), VCS_ACCESS_LOG=0 (no log),
 * VCS_WEB_DIR (built UI folder), VCS_MAX_CONNECTIONS (4096; the open-file limit is raised to fit),
 * VCS_CONN_MEMORY_KB (256: MHD's per-connection memory; 64 cuts an SSE client's cost ~3x).
 * SIGXFSZ is ignored: past a file-size limit write() then fails with EFBIG and the job or upload
 * writing fails cleanly instead of the whole server being killed (like ENOSPC on a full disk).
 */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

static int parse_args(int argc, char **argv, server_config *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-workers")) {
            c->no_workers = 1;
            continue;
        }
        if (!v) goto usage;
        if (!strcmp(a, "--host")) snprintf(c->host, sizeof c->host, "%s", v);
        else if (!strcmp(a, "--port")) c->port = atoi(v);
        else if (!strcmp(a, "--data")) snprintf(c->data_dir, sizeof c->data_dir, "%s", v);
        else if (!strcmp(a, "--database")) snprintf(c->database_url, sizeof c->database_url, "%s", v);
        else if (!strcmp(a, "--web")) snprintf(c->web_dir, sizeof c->web_dir, "%s", v);
        else goto usage;
        i++;
    }
    if (c->port < 0 || c->port > 65535) goto usage;
    return 0;
usage:
    fprintf(stderr,
            "usage: voiceclone serve [--host H] [--port P] [--data DIR] [--database URL] [--web DIR] [--no-workers]\n");
    return -1;
}

static void apply_env(server_config *c)
{
    const char *v;
    if ((v = getenv("VCS_UPLOAD_EXPIRY_SECONDS")) && atoi(v) > 0) c->upload_expiry_seconds = atoi(v);
    if ((v = getenv("VCS_ACCESS_LOG")) && !strcmp(v, "0")) c->access_log = 0;
    if ((v = getenv("VCS_WEB_DIR"))) snprintf(c->web_dir, sizeof c->web_dir, "%s", v);
    if ((v = getenv("VCS_DATABASE_URL"))) snprintf(c->database_url, sizeof c->database_url, "%s", v);
    if ((v = getenv("VCS_MAX_CONNECTIONS")) && atoi(v) > 0 && atoi(v) <= 1000000) c->max_connections = atoi(v);
    if ((v = getenv("VCS_CONN_MEMORY_KB")) && atoi(v) >= 64 && atoi(v) <= 65536) c->conn_memory_kb = atoi(v);
    if ((v = getenv("VCS_ALLOWED_ORIGINS"))) snprintf(c->allowed_origins, sizeof c->allowed_origins, "%s", v);
    if ((v = getenv("VCS_ALLOWED_HOSTS"))) snprintf(c->allowed_hosts, sizeof c->allowed_hosts, "%s", v);
    if ((v = getenv("VCS_PER_IP_CONNECTIONS")) && atoi(v) > 0) c->per_ip_connections = atoi(v);
    if ((v = getenv("VCS_IDLE_TIMEOUT_SECONDS")) && atoi(v) > 0) c->idle_timeout_seconds = atoi(v);
    if ((v = getenv("VCS_MIN_BODY_RATE")) && atoi(v) >= 0) c->min_body_bytes_per_second = atoi(v);
    if ((v = getenv("VCS_BODY_GRACE_SECONDS")) && atoi(v) > 0) c->body_grace_seconds = atoi(v);
    if ((v = getenv("VCS_HEADER_TIMEOUT_SECONDS")) && atoi(v) >= 0) c->header_timeout_seconds = atoi(v);
    if ((v = getenv("VCS_QUOTA_ACTIVE_JOBS")) && atoi(v) >= 0) c->quota_active_jobs = atoi(v);
    if ((v = getenv("VCS_QUOTA_UPLOADS")) && atoi(v) >= 0) c->quota_uploads = atoi(v);
    if ((v = getenv("VCS_QUOTA_UPLOAD_MB")) && atoi(v) >= 0) c->quota_upload_mb = atoi(v);
    if ((v = getenv("VCS_QUOTA_STORAGE_MB")) && atoi(v) >= 0) c->quota_storage_mb = atoi(v);
}

/* Every connection is a descriptor: lift the soft open-file limit towards the connection limit
 * (+ room for the store, jobs and uploads), as far as the hard limit allows. */
static void raise_nofile(int connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return;
    rlim_t want = (rlim_t)connections + 256;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) want = rl.rlim_max;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int cmd_serve(int argc, char **argv)
{
    server_app app = {0};
    server_config_defaults(&app.config);
    apply_env(&app.config);
    if (parse_args(argc, argv, &app.config)) return 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    raise_nofile(app.config.max_connections);
    vc_error err;
    if (server_start(&app, &err)) {
        fprintf(stderr, "voiceclone serve: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "{\"event\":\"listening\",\"url\":\"http://%s:%d\",\"data\":\"%s\",\"auth\":\"%s\"}\n",
            app.config.host, server_bound_port(&app), app.config.data_dir,
            app.loopback ? "open on loopback unless API keys exist" : "API key required");
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "{\"event\":\"shutdown\",\"signal\":%d}\n", sig);
    server_stop(&app);
    return 0;
}
