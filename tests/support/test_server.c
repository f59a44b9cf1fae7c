/*
 * Starting and stopping the real server for API tests (see test_server.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "test_db.h"
#include "test_server.h"

int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

const char *test_server_binary(char *out, size_t cap)
{
    const char *env = getenv("VCS_BIN");
    if (env) {
        snprintf(out, cap, "%s", env);
        return out;
    }
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, cap, "build/voiceclone");
        return out;
    }
    exe[n] = '\0';
    /* walk up from build-X/tests/<suite>/test_y until a folder holding `voiceclone` */
    char *dir = dirname(exe);
    for (int i = 0; i < 4; i++) {
        snprintf(out, cap, "%s/voiceclone", dir);
        if (access(out, X_OK) == 0) return out;
        dir = dirname(dir);
    }
    snprintf(out, cap, "build/voiceclone");
    return out;
}

const char *test_server_url(const test_server *s, char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "%s%s", s->base_url, path);
    return out;
}

static void exec_server(test_server *s, const char *const *env, const char *const *args)
{
    char bin[1024], port[16];
    test_server_binary(bin, sizeof bin);
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[32] = {bin, "serve", "--host", "127.0.0.1", "--port", port, "--data", s->data_dir};
    int n = 8;
    for (size_t i = 0; args && args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that aborts mid-way never leaves a server behind */
    if (s->db_url[0]) {
        setenv("VCS_DATABASE_URL", s->db_url, 1);
        /* a stable worker name: after test_server_restart the server takes back its own jobs at
         * once (PostgreSQL), as a restarted `serve` with --name / VCS_WORKER_NAME does */
        char name[64];
        snprintf(name, sizeof name, "test-%s", strrchr(s->root, '/') + 1);
        setenv("VCS_WORKER_NAME", name, 1);
    }
    for (size_t i = 0; env && env[i]; i++) putenv((char *)env[i]);
    int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        dup2(fd, 1);
        close(fd);
    }
    execv(bin, (char *const *)argv);
    fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
    _exit(127);
}

static int wait_healthy(test_server *s)
{
    char url[128];
    test_server_url(s, url, sizeof url, "/api/health");
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        http_response res;
        int ok = http_request("GET", url, NULL, NULL, 0, &res) == 0 && res.status == 200;
        http_response_free(&res);
        if (ok) return 0;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        usleep(50 * 1000);
    }
    return -1;
}

static void print_log(const test_server *s)
{
    FILE *f = fopen(s->log_path, "r");
    char line[1024];
    fprintf(stderr, "--- server log %s ---\n", s->log_path);
    while (f && fgets(line, sizeof line, f)) fputs(line, stderr);
    if (f) fclose(f);
}

static int spawn(test_server *s)
{
    s->port = test_free_port();
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", s->port);
    s->pid = fork();
    if (s->pid < 0) return -1;
    if (s->pid == 0) exec_server(s, s->env, s->args);
    if (wait_healthy(s)) {
        print_log(s);
        test_server_stop(s);
        return -1;
    }
    return 0;
}

/* PostgreSQL runs: the CLI verbs a test runs (keys create, models import) must find the database
 * of the server they are pointed at, so VCS_DATABASE_URL in the test process names the newest
 * live server's database (tests run one thread; a second server is started and stopped inside
 * one test). */
#define LIVE_MAX 16
static const test_server *LIVE[LIVE_MAX];
static int N_LIVE;

static void live_env(void)
{
    if (N_LIVE) setenv("VCS_DATABASE_URL", LIVE[N_LIVE - 1]->db_url, 1);
    else unsetenv("VCS_DATABASE_URL");
}

static void live_push(const test_server *s)
{
    if (N_LIVE < LIVE_MAX) LIVE[N_LIVE++] = s;
    live_env();
}

static void live_remove(const test_server *s)
{
    for (int i = 0; i < N_LIVE; i++)
        if (LIVE[i] == s) {
            memmove(&LIVE[i], &LIVE[i + 1], sizeof LIVE[0] * (size_t)(N_LIVE - i - 1));
            N_LIVE--;
            break;
        }
    live_env();
}

int test_server_start(test_server *s, const char *const *env, const char *const *args)
{
    return test_server_start_in(s, "data", env, args);
}

int test_server_start_in(test_server *s, const char *data_name, const char *const *env, const char *const *args)
{
    memset(s, 0, sizeof *s);
    snprintf(s->root, sizeof s->root, "/tmp/vcs-api-XXXXXX");
    if (!mkdtemp(s->root)) return -1;
    snprintf(s->data_dir, sizeof s->data_dir, "%s/%s", s->root, data_name);
    snprintf(s->log_path, sizeof s->log_path, "%s/server.log", s->root);
    s->env = env;
    s->args = args;
    if (test_db_fresh(s->db_url, sizeof s->db_url) < 0) return -1;
    if (s->db_url[0]) live_push(s);
    return spawn(s);
}

int test_server_restart(test_server *s)
{
    test_server_stop_keep(s);
    /* keep the first run's log next to the new one */
    char old[340];
    snprintf(old, sizeof old, "%s.1", s->log_path);
    rename(s->log_path, old);
    return spawn(s);
}

int test_server_stop_keep(test_server *s)
{
    int result = -1;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st = 0;
        for (int i = 0; i < 100; i++) { /* 5 s for a graceful stop */
            if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                result = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                s->pid = 0;
                break;
            }
            usleep(50 * 1000);
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            s->pid = 0;
        }
    }
    return result;
}

void test_server_cleanup(test_server *s)
{
    if (s->db_url[0]) live_remove(s);
    test_db_drop(s->db_url);
    s->db_url[0] = '\0';
    if (!s->root[0]) return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->root);
    if (system(cmd)) {
    }
    s->root[0] = '\0';
}

int test_server_stop(test_server *s)
{
    int rc = test_server_stop_keep(s);
    test_server_cleanup(s);
    return rc;
}
